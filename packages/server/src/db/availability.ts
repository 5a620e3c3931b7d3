/**
 * Whether the configured database is there and usable, said in words an operator can act on.
 *
 * Only `serve` and `migrate` may create a database (a SQLite file, or the tables in an empty
 * PostgreSQL database). Every other command opens an existing, current one through
 * `openExistingDatabase`, so a mistyped DATABASE_URL is refused with its path instead of
 * silently becoming a new, empty database.
 */
import { existsSync } from "node:fs";
import type { DatabaseConfig } from "../config.js";
import { type Db, openDatabase, pendingMigrations } from "./database.js";
import { migrationProvider } from "./migrations/index.js";

/** The database is missing, unreachable, refused us, or is not at this version's schema. */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";
}

/** Where the database is, for messages: the SQLite path, or the PostgreSQL URL without its password. */
export function databaseLocation(config: DatabaseConfig): string {
  if (config.dialect === "sqlite") return config.file;
  const url = new URL(config.url);
  url.password = "";
  return url.toString();
}

/**
 * Opens a database that must already exist and (unless `anySchema`) be fully migrated: refuses
 * (closing what it opened) when the SQLite file is missing, the PostgreSQL database does not
 * exist or cannot be reached, or migrations are pending. Creates nothing. `setting` names where
 * the location came from, for the message.
 */
export async function openExistingDatabase(
  config: DatabaseConfig,
  { setting = "DATABASE_URL", anySchema = false }: { setting?: string; anySchema?: boolean } = {},
): Promise<Db> {
  if (config.dialect === "sqlite" && !existsSync(config.file)) {
    const create = setting === "DATABASE_URL" ? " (`connect-hub migrate` creates a new one)" : "";
    throw new DatabaseUnavailableError(`there is no database at ${config.file}: check ${setting}${create}`);
  }
  const db = await explainDatabaseErrors(config, async () => openDatabase(config));
  if (anySchema) return db;
  try {
    const pending = await explainDatabaseErrors(config, () => pendingMigrations(db));
    if (pending.length > 0) {
      const known = Object.keys(await migrationProvider(db.dialect).getMigrations()).length;
      const what =
        pending.length < known
          ? `needs ${pending.length} migration(s) (${pending.join(", ")})`
          : "has no Connect Hub tables";
      throw new DatabaseUnavailableError(
        `the database at ${databaseLocation(config)} ${what}: run \`connect-hub migrate\` first`,
      );
    }
    return db;
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Runs `work`; a driver error that means "the database is not usable" becomes one readable line. */
export async function explainDatabaseErrors<T>(config: DatabaseConfig, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const explained = explainDatabaseError(error, config);
    if (explained) throw new DatabaseUnavailableError(explained, { cause: error });
    throw error;
  }
}

/** A sentence for the driver errors an operator can fix (address, login, missing database, file). */
export function explainDatabaseError(error: unknown, config: DatabaseConfig): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = String((error as { code?: unknown }).code ?? "");
  const message = String((error as { message?: unknown }).message ?? "");
  if (config.dialect === "sqlite") {
    const file = config.file;
    if (code === "SQLITE_NOTADB") return `${file} is not a SQLite database: check DATABASE_URL`;
    if (code === "SQLITE_CANTOPEN")
      return `cannot open the SQLite file ${file}: check the path and its permissions`;
    if (code === "SQLITE_READONLY" || code === "SQLITE_PERM" || code === "EACCES") {
      return `no permission to write ${file}: check the permissions of the file and its folder`;
    }
    if (code === "SQLITE_BUSY") return `${file} is locked by another process: try again`;
    return undefined;
  }
  const url = new URL(config.url);
  const server = `${url.hostname}:${url.port || "5432"}`;
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username);
  if (code === "3D000") {
    return `PostgreSQL database "${database}" does not exist on ${server}: create it (createdb ${database}), then run \`connect-hub migrate\``;
  }
  if (code === "28P01" || code === "28000") {
    return `PostgreSQL on ${server} refused the login of "${decodeURIComponent(url.username)}": check the user and password in DATABASE_URL`;
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `cannot find the PostgreSQL host "${url.hostname}": check DATABASE_URL`;
  }
  const unreachable: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ETIMEDOUT: "timed out",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ECONNRESET: "connection reset",
  };
  const reason =
    unreachable[code] ?? (/Connection terminated/i.test(message) ? "connection closed" : undefined);
  if (reason) {
    return `cannot reach PostgreSQL at ${server} (${reason}): check DATABASE_URL and that PostgreSQL is running`;
  }
  return undefined;
}
