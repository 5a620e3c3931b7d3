/**
 * `connect-hub console link`: a single-use console sign-in link, valid 10 minutes, printed
 * alone on standard output (a message for people goes to stderr). Without `--project` the
 * session it opens sees every project. Services load when the command runs.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { recordCliChange } from "../cli/audit.js";
import { withDatabase } from "../cli/database.js";
import { CliError } from "../cli/errors.js";
import { existingProject } from "../cli/options.js";
import { loadConfig } from "../config.js";
import type { ConsoleRole } from "../db/schema.js";
import { DEFAULT_ORGANIZATION } from "../tenancy/service.js";

interface LinkOptions {
  project?: string;
  organization?: string;
  role: ConsoleRole;
  json?: boolean;
}

function role(raw: string): ConsoleRole {
  if (raw !== "admin" && raw !== "viewer") throw new InvalidArgumentError("It must be admin or viewer.");
  return raw;
}

export function addConsoleCommands(program: Command): void {
  const consoleCommand = program
    .command("console")
    .description("the operator console at $PUBLIC_URL/console/");
  consoleCommand
    .command("link")
    .description("print a single-use console sign-in link (valid 10 minutes) alone on standard output")
    .option("--project <name>", "the project the session may see (default: every project)")
    .option("--organization <name>", `the organization of --project (default ${DEFAULT_ORGANIZATION})`)
    .addOption(
      new Option("--role <role>", "admin (may change) or viewer (reads only)")
        .default("admin")
        .argParser(role),
    )
    .option("--json", "print {url, id, expires_at, role, project} as JSON")
    .action((options: LinkOptions) =>
      withDatabase(async (db) => {
        if (options.organization !== undefined && options.project === undefined) {
          throw new CliError("--organization names the organization of --project: give --project too");
        }
        const project =
          options.project === undefined
            ? undefined
            : await existingProject(db, {
                project: options.project,
                organization: options.organization ?? DEFAULT_ORGANIZATION,
              });
        const { ConsoleService } = await import("./service.js");
        const link = await new ConsoleService(db.kysely, loadConfig().publicUrl).createSignInLink({
          projectId: project?.id ?? null,
          role: options.role,
          createdBy: "cli",
        });
        await recordCliChange(db, {
          projectId: project?.id ?? null,
          action: "console.link_created",
          targetType: "console_sign_in_link",
          targetId: link.id,
          details: { role: options.role },
        });
        const scope = project ? `project "${project.name}"` : "every project";
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify(
              {
                url: link.url,
                id: link.id,
                expires_at: link.expiresAt,
                role: options.role,
                project: project ? { id: project.id, name: project.name } : null,
              },
              null,
              2,
            )}\n`,
          );
        } else {
          process.stdout.write(`${link.url}\n`);
        }
        process.stderr.write(
          `sign-in link ${link.id} for a ${options.role} of ${scope}: works once, until ${link.expiresAt}\n`,
        );
      }),
    );
}
