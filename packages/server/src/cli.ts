/**
 * The operator's interface: `connect-hub serve | migrate | keys | providers | integrations |
 * projects | webhooks | db ...`. Anything a script may
 * capture goes to standard output alone (e.g. the new API key); everything else to stderr.
 */
import { Command, CommanderError } from "commander";
import { ConfigError, loadConfig, parseDatabaseUrl } from "./config.js";
import { loadSecretBox } from "./crypto/keyring.js";
import { resealAll } from "./crypto/reseal.js";
import { CopyError, copyDatabase } from "./db/copy.js";
import { type Db, migrateToLatest, openDatabase } from "./db/database.js";
import { ApiError } from "./http/errors.js";
import { addIntegrationCommands } from "./integrations/cli.js";
import { serve } from "./main.js";
import { DEFAULT_ORGANIZATION, DEFAULT_PROJECT, TenancyService } from "./tenancy/service.js";
import { addWebhookCommands } from "./webhooks/cli.js";

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`connect-hub: ${message}\n`);
    const expected = error instanceof ConfigError || error instanceof CopyError || error instanceof ApiError;
    if (!expected) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
    process.exitCode = 1;
  }
}

function buildProgram(): Command {
  const program = new Command("connect-hub")
    .description("Connect Hub: connect sessions, a hosted connect page and linked accounts")
    .exitOverride()
    .showHelpAfterError();

  program
    .command("serve")
    .description("run the HTTP server (migrates the database first)")
    .action(async () => {
      await serve(loadConfig());
    });

  program
    .command("migrate")
    .description("apply pending database migrations and exit")
    .action(() =>
      withDatabase(async (db) => {
        const applied = await migrateToLatest(db);
        process.stderr.write(
          applied.length ? `applied: ${applied.join(", ")}\n` : "database is up to date\n",
        );
      }),
    );

  const keys = program.command("keys").description("manage API keys");
  keys
    .command("create")
    .description("create an API key (and its organization and project if missing); prints the key alone")
    .option("--project <name>", "project name", DEFAULT_PROJECT)
    .option("--organization <name>", "organization name", DEFAULT_ORGANIZATION)
    .action((options: { project: string; organization: string }) =>
      withDatabase(async (db) => {
        const created = await new TenancyService(db.kysely).createApiKey(options);
        process.stdout.write(`${created.key}\n`);
        process.stderr.write(
          `created API key ${created.id} for project "${created.project.name}" (${created.project.id}) in organization "${created.project.organizationName}"; it is shown only once\n`,
        );
      }),
    );
  keys
    .command("list")
    .description("list API keys (never the keys themselves)")
    .action(() =>
      withDatabase(async (db) => {
        const rows = await new TenancyService(db.kysely).listApiKeys();
        const lines = rows.map((k) =>
          [
            k.id,
            k.projectName,
            `${k.start}...${k.lastFour}`,
            k.createdAt,
            k.revokedAt ? `revoked ${k.revokedAt}` : "active",
          ].join("\t"),
        );
        process.stdout.write(`${["ID\tPROJECT\tKEY\tCREATED\tSTATUS", ...lines].join("\n")}\n`);
      }),
    );
  keys
    .command("revoke")
    .description("revoke an API key by its id (see `keys list`)")
    .argument("<key-id>")
    .action((keyId: string) =>
      withDatabase(async (db) => {
        if (!(await new TenancyService(db.kysely).revokeApiKey(keyId))) {
          throw new Error(`no active API key with id ${keyId}`);
        }
        process.stderr.write(`revoked ${keyId}\n`);
      }),
    );
  addIntegrationCommands(program, withDatabase);
  keys
    .command("rotate")
    .description("replace an API key with a new one for the same project; prints the new key alone")
    .argument("<key-id>")
    .action((keyId: string) =>
      withDatabase(async (db) => {
        const rotated = await new TenancyService(db.kysely).rotateApiKey(keyId);
        if (!rotated) throw new Error(`no active API key with id ${keyId}`);
        process.stdout.write(`${rotated.key}\n`);
        process.stderr.write(`revoked ${keyId}; created ${rotated.id}; the new key is shown only once\n`);
      }),
    );
  program
    .command("secrets")
    .description("manage values sealed under ENCRYPTION_KEY")
    .command("reseal")
    .description(
      "after adding a new key first in ENCRYPTION_KEY, re-seal every value under it so the old key can be removed",
    )
    .action(() =>
      withDatabase(async (db) => {
        const secrets = loadSecretBox(loadConfig(), (message) =>
          process.stderr.write(`warning: ${message}\n`),
        );
        const report = await resealAll(db.kysely, secrets);
        for (const [column, count] of Object.entries(report)) {
          process.stderr.write(`re-sealed ${count} values of ${column}\n`);
        }
        process.stderr.write(`every sealed value now uses key "${secrets.currentKeyId}"\n`);
      }),
    );
  program
    .command("db")
    .description("move data between databases")
    .command("copy")
    .description("copy every row from one database into a new, empty one (e.g. SQLite to PostgreSQL)")
    .requiredOption("--from <url>", "the source DATABASE_URL (file:PATH, sqlite:PATH or postgres://...)")
    .requiredOption("--to <url>", "the target DATABASE_URL; must be empty")
    .action(async (options: { from: string; to: string }) => {
      const from = openDatabase(parseDatabaseUrl(options.from, 2));
      const to = openDatabase(parseDatabaseUrl(options.to, 2));
      try {
        await copyDatabase(from, to, {
          onTable: (table, rows) => process.stderr.write(`copied ${rows} rows of ${table}\n`),
        });
        process.stderr.write("copy complete\n");
      } finally {
        await from.close();
        await to.close();
      }
    });
  addWebhookCommands(program, withDatabase);
  return program;
}

async function withDatabase(run: (db: Db) => Promise<void>): Promise<void> {
  const db = openDatabase(loadConfig().database);
  try {
    await migrateToLatest(db);
    await run(db);
  } finally {
    await db.close();
  }
}
