/**
 * A backup of a SQLite database taken while servers keep writing to it (`connect-hub db backup
 * --to PATH`). `VACUUM INTO` writes the database as one read transaction sees it: a consistent
 * snapshot (every committed write before it began, none after, nothing half-done), as a single
 * compacted file with no WAL beside it, while writers go on (in WAL mode a reader blocks no one).
 *
 * The file is created first, empty and readable by its owner only (0600, as the database
 * itself): it holds sealed credentials and every other row. An existing file is never
 * overwritten. The copy is checked (`pragma quick_check`) before it is reported. Restoring is
 * putting the file in place of the database while no server runs (see the README).
 */
import { closeSync, existsSync, openSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import type { DatabaseConfig } from "../config.js";
import { explainDatabaseErrors, openExistingDatabase } from "./availability.js";

export class BackupError extends Error {
  override readonly name = "BackupError";
}

export interface BackupReport {
  file: string;
  bytes: number;
}

/** Backs up the database `config` names (any schema: the moment for a backup is before `migrate`). */
export async function backupDatabase(config: DatabaseConfig, target: string): Promise<BackupReport> {
  if (config.dialect !== "sqlite") {
    throw new BackupError(
      "db backup copies a SQLite file; back up PostgreSQL with pg_dump (e.g. `pg_dump --format=custom --file hub.dump DATABASE_URL`)",
    );
  }
  // `--to --help` would otherwise write a backup named `--help` (commander takes the next word).
  if (target.startsWith("-")) {
    throw new BackupError(
      `--to needs the path of the new file, not an option (${target}); write ./${target} for a file named so`,
    );
  }
  const file = path.resolve(target);
  if (!existsSync(path.dirname(file))) {
    throw new BackupError(`the folder ${path.dirname(file)} does not exist: create it first (mode 0700)`);
  }
  const db = await openExistingDatabase(config, { anySchema: true });
  try {
    try {
      closeSync(openSync(file, "wx", 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new BackupError(`${file} already exists: a backup never overwrites a file; choose a new name`);
      }
      throw error;
    }
    try {
      await explainDatabaseErrors(config, () => sql`vacuum into ${file}`.execute(db.kysely));
      checkBackup(file);
    } catch (error) {
      rmSync(file, { force: true });
      throw error;
    }
    return { file, bytes: statSync(file).size };
  } finally {
    await db.close();
  }
}

function checkBackup(file: string): void {
  const copy = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const result = copy.pragma("quick_check", { simple: true });
    if (result !== "ok") throw new BackupError(`the backup at ${file} failed its check (${String(result)})`);
  } finally {
    copy.close();
  }
}
