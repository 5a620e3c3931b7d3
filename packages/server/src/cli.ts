/**
 * The operator's interface: `connect-hub serve | migrate | keys | sessions | accounts |
 * providers | integrations | projects | webhooks | console | secrets | db backup|copy ...`.
 *
 * Contracts:
 * - Anything a script may capture goes to standard output alone (a new API key, an auth link,
 *   a listing; `--json` on every listing); messages for people go to stderr.
 * - Only `serve` and `migrate` create a database or change its schema. Every other command
 *   (but `db backup`, taken before migrations too) refuses a database that is missing or not
 *   fully migrated, naming it and saying to run
 *   `connect-hub migrate`: a schema change is the operator's decision, made once, not a side
 *   effect of `keys list` against a database that older servers may still be using.
 * - A failure prints one line (what is wrong, what to do) and exits 1; `--debug` adds the stack.
 * - Commands load what they use when they run (see `cli/`), so a start costs little more than
 *   Node itself, and `--help` or `--version` touch no database driver.
 */
import { Command } from "commander";
import { addAccountCommands } from "./accounts/cli.js";
import { recordCliChange } from "./cli/audit.js";
import { withDatabase } from "./cli/database.js";
import { CliError, reportError, wantsDebug } from "./cli/errors.js";
import { ConfigError, loadConfig, parseDatabaseUrl } from "./config.js";
import { environmentHelp } from "./config-variables.js";
import { addSessionCommands } from "./connect-sessions/cli.js";
import { addConsoleCommands } from "./console/cli.js";
import { addIntegrationCommands } from "./integrations/cli.js";
import { addKeyCommands } from "./tenancy/cli.js";
import { VERSION } from "./version.js";
import { addWebhookCommands } from "./webhooks/cli.js";

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    process.exitCode = reportError(error, { debug: wantsDebug(argv), command: commandPath(program, argv) });
  }
}

/** The words naming the (sub)command the arguments invoke, e.g. `webhooks rotate-secret`. */
function commandPath(program: Command, argv: readonly string[]): string {
  const names: string[] = [];
  let command: Command | undefined = program;
  for (const word of argv.slice(2)) {
    if (word.startsWith("-")) continue;
    command = command.commands.find((sub) => sub.name() === word);
    if (!command) break;
    names.push(word);
  }
  return names.join(" ");
}

function buildProgram(): Command {
  const program = new Command("connect-hub")
    .description("Connect Hub: connect sessions, a hosted connect page and linked accounts")
    .version(VERSION, "-v, --version", "print the version")
    .option("--debug", "print the stack trace of an error")
    // Errors are reported by `main` in one line; commander only raises them.
    .configureOutput({ outputError: () => {} })
    .exitOverride();

  program
    .command("serve")
    .description("run the HTTP server (creates the database and applies migrations first)")
    .addHelpText("after", () => `\n${environmentHelp()}`)
    .action(async () => {
      const config = loadConfig();
      const { serve } = await import("./main.js");
      await serve(config);
    });

  program
    .command("migrate")
    .description("create the database if needed, apply pending migrations and say which, then exit")
    .action(async () => {
      const { database } = loadConfig();
      const [{ migrateToLatest, openDatabase }, { databaseLocation, explainDatabaseErrors }] =
        await Promise.all([import("./db/database.js"), import("./db/availability.js")]);
      const db = await explainDatabaseErrors(database, async () => openDatabase(database));
      try {
        const applied = await explainDatabaseErrors(database, () => migrateToLatest(db));
        process.stderr.write(
          applied.length
            ? `applied ${applied.length} migration(s) to ${databaseLocation(database)}: ${applied.join(", ")}\n`
            : `no migrations pending: ${databaseLocation(database)} is up to date\n`,
        );
      } finally {
        await db.close();
      }
    });

  addKeyCommands(program);
  addSessionCommands(program);
  addAccountCommands(program);
  addIntegrationCommands(program);
  addWebhookCommands(program);
  addConsoleCommands(program);

  program
    .command("secrets")
    .description("manage values sealed under ENCRYPTION_KEY")
    .command("reseal")
    .description(
      "after adding a new key first in ENCRYPTION_KEY, re-seal every value under it so the old key can be removed",
    )
    .action(() =>
      withDatabase(async (db) => {
        const [{ loadSecrets }, { resealAll }] = await Promise.all([
          import("./cli/services.js"),
          import("./crypto/reseal.js"),
        ]);
        const secrets = await loadSecrets();
        const report = await resealAll(db.kysely, secrets);
        // One event per run, even when nothing needed re-sealing: the operator's check is a fact too.
        await recordCliChange(db, {
          projectId: null,
          action: "secrets.resealed",
          targetType: "encryption_key",
          targetId: secrets.currentKeyId,
          details: { resealed: report },
        });
        for (const [column, count] of Object.entries(report)) {
          process.stderr.write(`re-sealed ${count} values of ${column}\n`);
        }
        process.stderr.write(`every sealed value now uses key "${secrets.currentKeyId}"\n`);
      }),
    );

  const db = program.command("db").description("back up a database, or move data between databases");
  db.command("backup")
    .description(
      "write a consistent copy of the SQLite database (DATABASE_URL) to a new file while servers keep running",
    )
    .requiredOption("--to <path>", "the new file (mode 0600); an existing file is never overwritten")
    .action(async (options: { to: string }) => {
      const { database } = loadConfig();
      const [{ databaseLocation }, { backupDatabase }] = await Promise.all([
        import("./db/availability.js"),
        import("./db/backup.js"),
      ]);
      const report = await backupDatabase(database, options.to);
      process.stderr.write(
        `backed up ${databaseLocation(database)} to ${report.file} (${formatBytes(report.bytes)}, checked)\n`,
      );
    });

  db.command("copy")
    .description("copy every row from an existing database into a new, empty one (e.g. SQLite to PostgreSQL)")
    .requiredOption(
      "--from <url>",
      "the source DATABASE_URL (file:PATH, sqlite:PATH or postgres://...); must exist",
    )
    .requiredOption("--to <url>", "the target DATABASE_URL; must be empty (a new SQLite file is created)")
    .action(async (options: { from: string; to: string }) => {
      const fromConfig = databaseOption("--from", options.from);
      const toConfig = databaseOption("--to", options.to);
      const [
        { openDatabase },
        { databaseLocation, explainDatabaseErrors, openExistingDatabase },
        { copyDatabase },
      ] = await Promise.all([
        import("./db/database.js"),
        import("./db/availability.js"),
        import("./db/copy.js"),
      ]);
      const from = await openExistingDatabase(fromConfig, { setting: "--from" });
      try {
        const to = await explainDatabaseErrors(toConfig, async () => openDatabase(toConfig));
        try {
          const copied = await explainDatabaseErrors(toConfig, () =>
            copyDatabase(from, to, {
              onTable: (table, rows) => process.stderr.write(`copied ${rows} rows of ${table}\n`),
            }),
          );
          // Recorded in the target (the source is only read), after the copied log.
          await recordCliChange(to, {
            projectId: null,
            action: "database.copied",
            targetType: "database",
            details: { from: databaseLocation(fromConfig), rows: copied },
          });
          process.stderr.write("copy complete\n");
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });

  return program;
}

function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A database URL given as an option, with errors that name the option. */
function databaseOption(option: string, raw: string) {
  try {
    return parseDatabaseUrl(raw, 2);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message.replace(/^DATABASE_URL/, option));
    throw error;
  }
}
