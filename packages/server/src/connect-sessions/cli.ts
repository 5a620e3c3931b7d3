/**
 * `connect-hub sessions create`: a connect session made at a shell, for support staff who need
 * to send a customer a link. The same service and rules as `POST /connect_sessions`; the body
 * is checked against the same schema, with problems named by the CLI's flags. The auth link
 * goes to standard output alone (it carries the session's token: treat it as a secret).
 */
import type { Command } from "commander";
import { CLI_ACTOR, recordCliChange } from "../cli/audit.js";
import { withDatabase } from "../cli/database.js";
import { CliError } from "../cli/errors.js";
import {
  commaList,
  existingProject,
  type ProjectOptions,
  wholeNumber,
  withProjectOptions,
} from "../cli/options.js";
import { loadCatalog } from "../cli/services.js";
import { checkAgainstSchema } from "../cli/validation.js";
import { loadConfig } from "../config.js";
import { systemClock } from "../time.js";
import type { ConnectSessionCreate as ConnectSessionBody } from "./schema.js";

interface SessionOptions extends ProjectOptions {
  ownerId: string;
  ownerName: string;
  username?: string;
  provider?: string;
  categories?: string[];
  accountId?: string;
  label?: string;
  multiple?: boolean;
  expiresIn?: number;
  metadata?: string;
  json?: boolean;
}

/** Each field of the API's body and the flag that sets it. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  origin_owner_id: "--owner-id",
  origin_owner_name: "--owner-name",
  origin_username: "--username",
  provider: "--provider",
  categories: "--categories",
  account_id: "--account-id",
  label: "--label",
  multiple: "--multiple",
  expires_in: "--expires-in",
  metadata: "--metadata",
};

function parseMetadata(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new CliError(`--metadata must be a JSON object, such as '{"plan":"gold"}'`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CliError(`--metadata must be a JSON object, such as '{"plan":"gold"}'`);
  }
  return value as Record<string, unknown>;
}

export function addSessionCommands(program: Command): void {
  const sessions = program.command("sessions").description("connect sessions for your customers");
  withProjectOptions(
    sessions
      .command("create")
      .description("create a connect session and print its auth link alone (send it to the customer)")
      .requiredOption("--owner-id <id>", "your customer's id (the owner of the account to connect)")
      .requiredOption("--owner-name <name>", "your customer's name")
      .option("--username <name>", "the name of the user who connects the account")
      .option("--provider <key>", "open the connect page at this provider (see `connect-hub providers`)")
      .option("--categories <list>", "comma-separated categories offered, e.g. hris,ats", commaList)
      .option("--account-id <id>", "re-authorize this linked account (see `connect-hub accounts list`)")
      .option("--label <text>", "a label stored on the resulting account")
      .option("--multiple", "allow another account for the same owner and provider")
      .option(
        "--expires-in <seconds>",
        "lifetime of the link (default 1800)",
        wholeNumber(1, Number.MAX_SAFE_INTEGER),
      )
      .option("--metadata <json>", "a JSON object copied onto the account")
      .option("--json", "print the whole session as JSON instead of the link"),
  ).action((options: SessionOptions) =>
    withDatabase(async (db) => {
      const config = loadConfig();
      const [{ ConnectSessionCreate }, { ConnectSessionService }] = await Promise.all([
        import("./schema.js"),
        import("./service.js"),
      ]);
      const input = {
        origin_owner_id: options.ownerId,
        origin_owner_name: options.ownerName,
        ...(options.username !== undefined ? { origin_username: options.username } : {}),
        ...(options.provider !== undefined ? { provider: options.provider } : {}),
        ...(options.categories !== undefined ? { categories: options.categories } : {}),
        ...(options.accountId !== undefined ? { account_id: options.accountId } : {}),
        ...(options.label !== undefined ? { label: options.label } : {}),
        ...(options.multiple ? { multiple: true } : {}),
        ...(options.expiresIn !== undefined ? { expires_in: options.expiresIn } : {}),
        ...(options.metadata !== undefined ? { metadata: parseMetadata(options.metadata) } : {}),
      };
      await checkAgainstSchema(ConnectSessionCreate, input, "body", FLAG_OF_FIELD);
      if (options.provider !== undefined && !(await loadCatalog()).get(options.provider)) {
        throw new CliError(
          `there is no provider "${options.provider}" in the catalog: \`connect-hub providers\` lists them`,
        );
      }
      const project = await existingProject(db, options);
      const service = new ConnectSessionService(db, systemClock, {
        publicUrl: config.publicUrl,
        organizationIdType: config.organizationIdType,
      });
      const { session } = await service.createConnectSession(
        {
          projectId: project.id,
          organizationId: project.organizationId,
          role: "admin",
          actor: CLI_ACTOR,
        },
        input as ConnectSessionBody,
      );
      await recordCliChange(db, {
        projectId: project.id,
        action: "connect_session.created",
        targetType: "connect_session",
        targetId: String(session.id),
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(session, null, 2)}\n`);
      } else {
        process.stdout.write(`${session.auth_link_url}\n`);
        process.stderr.write(
          `created connect session ${session.id} for "${session.origin_owner_name}" (${session.origin_owner_id}) in project "${project.name}"; the link works until ${session.expires_at}\n`,
        );
      }
    }),
  );
}
