/**
 * Tells a database that is away (unreachable, restarting, locked, out of disk) from a bug, so
 * the API answers 503 with `Retry-After` (which StackOne's SDKs retry) instead of 500. The
 * driver's own words never reach a client: they go to the log.
 */

/** Node socket errors of a PostgreSQL connection that did not open or was cut. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that cannot serve now: class 08 (connection exception), 53 (out of
 * resources: connections, disk, memory), 57P01-57P03 (shutting down, restarting), 3D000 (the
 * database was dropped), 40001/40P01 never (those are retried by callers, not outages).
 */
function unavailableSqlState(code: string): boolean {
  return code.startsWith("08") || code.startsWith("53") || /^57P0[1-3]$/.test(code) || code === "3D000";
}

/** better-sqlite3 result codes of a file that cannot be used right now. */
function unavailableSqliteCode(code: string): boolean {
  return /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT)/.test(code);
}

const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error/,
  /The database connection is not open/,
  /Cannot use a pool after calling end/,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause: unknown = error, depth = 0; cause && depth < 5; depth++) {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === "string") {
      if (NETWORK_CODES.has(code) || unavailableSqliteCode(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code) && unavailableSqlState(code)) return true;
    }
    if (typeof message === "string" && DRIVER_MESSAGES.some((pattern) => pattern.test(message))) return true;
    cause = (cause as { cause?: unknown }).cause ?? (cause as { errors?: unknown[] }).errors?.[0];
  }
  return false;
}
