/**
 * `connect-hub keys ...`: API keys, on the database directly. A new key goes to standard
 * output alone (a script captures it); messages go to stderr and show a key as its visible
 * ends (`chk_AbCd...wXyZ`), never as a secret and never by an internal id it was not given.
 */
import type { Command } from "commander";
import { recordCliChange } from "../cli/audit.js";
import { withDatabase } from "../cli/database.js";
import { CliError } from "../cli/errors.js";
import { type ProjectOptions, withProjectOptions } from "../cli/options.js";
import { type JsonOption, printList, withJsonOption } from "../cli/output.js";
import type { Db } from "../db/database.js";
import { TenancyService } from "./service.js";
import type { ApiKeySummary } from "./store.js";

const keyHint = (key: Pick<ApiKeySummary, "start" | "lastFour">) => `${key.start}...${key.lastFour}`;
const hintOf = (key: string) => `${key.slice(0, 8)}...${key.slice(-4)}`;

/** The key with this id, or a refusal that says where the ids are. */
async function findKey(db: Db, keyId: string): Promise<ApiKeySummary> {
  const key = (await new TenancyService(db.kysely).listApiKeys()).find((k) => k.id === keyId);
  if (!key)
    throw new CliError(`there is no API key with id "${keyId}": \`connect-hub keys list\` shows the ids`);
  if (key.revokedAt)
    throw new CliError(`the API key ${keyHint(key)} was already revoked at ${key.revokedAt}`);
  return key;
}

export function addKeyCommands(program: Command): void {
  const keys = program.command("keys").description("manage API keys");

  withProjectOptions(
    keys
      .command("create")
      .description("create an API key (and its organization and project if missing); prints the key alone"),
  ).action((options: ProjectOptions) =>
    withDatabase(async (db) => {
      const created = await new TenancyService(db.kysely).createApiKey(options);
      await recordCliChange(db, {
        projectId: created.project.id,
        action: "api_key.created",
        targetType: "api_key",
        targetId: created.id,
      });
      process.stdout.write(`${created.key}\n`);
      process.stderr.write(
        `created the API key ${hintOf(created.key)} for project "${created.project.name}" in organization "${created.project.organizationName}"; it is shown only once\n`,
      );
    }),
  );

  withJsonOption(keys.command("list").description("list API keys (never the keys themselves)")).action(
    (options: JsonOption) =>
      withDatabase(async (db) => {
        const rows = await new TenancyService(db.kysely).listApiKeys();
        printList(
          rows,
          options,
          [
            ["ID", (k) => k.id],
            ["PROJECT", (k) => k.projectName],
            ["KEY", keyHint],
            ["CREATED", (k) => k.createdAt],
            ["STATUS", (k) => (k.revokedAt ? `revoked ${k.revokedAt}` : "active")],
          ],
          (k) => ({
            id: k.id,
            project: k.projectName,
            project_id: k.projectId,
            key: keyHint(k),
            created_at: k.createdAt,
            revoked_at: k.revokedAt,
          }),
        );
      }),
  );

  keys
    .command("revoke")
    .description("revoke an API key at once")
    .argument("<key-id>", "the key's id (see `connect-hub keys list`)")
    .action((keyId: string) =>
      withDatabase(async (db) => {
        const key = await findKey(db, keyId);
        if (!(await new TenancyService(db.kysely).revokeApiKey(keyId))) {
          throw new CliError(`the API key ${keyHint(key)} was revoked meanwhile`);
        }
        await recordCliChange(db, {
          projectId: key.projectId,
          action: "api_key.revoked",
          targetType: "api_key",
          targetId: keyId,
        });
        process.stderr.write(`revoked the API key ${keyHint(key)} of project "${key.projectName}"\n`);
      }),
    );

  keys
    .command("rotate")
    .description("replace an API key with a new one for the same project; prints the new key alone")
    .argument("<key-id>", "the key's id (see `connect-hub keys list`)")
    .action((keyId: string) =>
      withDatabase(async (db) => {
        const key = await findKey(db, keyId);
        const rotated = await new TenancyService(db.kysely).rotateApiKey(keyId);
        if (!rotated) throw new CliError(`the API key ${keyHint(key)} was revoked meanwhile`);
        await recordCliChange(db, {
          projectId: key.projectId,
          action: "api_key.rotated",
          targetType: "api_key",
          targetId: keyId,
          details: { new_key_id: rotated.id },
        });
        process.stdout.write(`${rotated.key}\n`);
        process.stderr.write(
          `revoked ${keyHint(key)} and created ${hintOf(rotated.key)} for project "${key.projectName}"; the new key is shown only once\n`,
        );
      }),
    );
}
