/**
 * The database of a CLI command. Every command except `serve` and `migrate` works on an
 * existing, current database and creates nothing: a mistyped DATABASE_URL is refused, naming
 * the path, rather than becoming a new, empty database. Modules load when a command runs, so
 * `--help` and `--version` do not pay for the database drivers.
 */
import { loadConfig } from "../config.js";
import type { Db } from "../db/database.js";

/** Runs `work` on the configured database, which must exist and have every migration applied. */
export async function withDatabase(work: (db: Db) => Promise<void>): Promise<void> {
  const { openExistingDatabase } = await import("../db/availability.js");
  const db = await openExistingDatabase(loadConfig().database);
  try {
    await work(db);
  } finally {
    await db.close();
  }
}
