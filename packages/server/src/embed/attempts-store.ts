/**
 * SQL for connection attempts: the OAuth2 popup flows of StackOne's embeddable component. Every
 * call takes the project id and the session id: an attempt is visible only to the session that
 * started it.
 */
import type { Kysely, Selectable } from "kysely";
import { type DialectName, deletePickedRows } from "../db/dialect.js";
import type { ConnectionAttemptTable, Database } from "../db/schema.js";

export type ConnectionAttemptRow = Selectable<ConnectionAttemptTable>;

function withNumericSessionId(row: ConnectionAttemptRow | undefined): ConnectionAttemptRow | undefined {
  // pg returns bigint columns as strings.
  return row ? { ...row, session_id: Number(row.session_id) } : undefined;
}

export async function insertConnectionAttempt(
  db: Kysely<Database>,
  row: ConnectionAttemptRow,
): Promise<void> {
  await db.insertInto("connection_attempts").values(row).execute();
}

export async function findConnectionAttempt(
  db: Kysely<Database>,
  projectId: string,
  sessionId: number,
  attemptId: string,
): Promise<ConnectionAttemptRow | undefined> {
  return withNumericSessionId(
    await db
      .selectFrom("connection_attempts")
      .selectAll()
      .where("project_id", "=", projectId)
      .where("session_id", "=", sessionId)
      .where("id", "=", attemptId)
      .executeTakeFirst(),
  );
}

/** The pending attempt an OAuth state was issued for (the state itself is stored elsewhere). */
export async function findPendingAttemptByStateHash(
  db: Kysely<Database>,
  stateHash: string,
  now: string,
): Promise<ConnectionAttemptRow | undefined> {
  return withNumericSessionId(
    await db
      .selectFrom("connection_attempts")
      .selectAll()
      .where("state_hash", "=", stateHash)
      .where("status", "=", "pending")
      .where("expires_at", ">", now)
      .executeTakeFirst(),
  );
}

/**
 * Moves a pending, unexpired attempt on; answers whether it was still pending. The condition
 * in the statement makes the first transition win: a cancel racing a completion cannot undo it.
 */
export async function updatePendingAttempt(
  db: Kysely<Database>,
  projectId: string,
  attemptId: string,
  now: string,
  changes: Partial<
    Pick<
      ConnectionAttemptRow,
      "status" | "state_hash" | "redirect_uri" | "account_id" | "error_code" | "error_description"
    >
  >,
): Promise<boolean> {
  const result = await db
    .updateTable("connection_attempts")
    .set({ ...changes, updated_at: now })
    .where("project_id", "=", projectId)
    .where("id", "=", attemptId)
    .where("status", "=", "pending")
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes up to `limit` attempts that expired at or before `now` (an hour of grace for polls). */
export async function deleteExpiredConnectionAttempts(
  db: Kysely<Database>,
  dialect: DialectName,
  before: string,
  limit: number,
): Promise<number> {
  return deletePickedRows(
    db,
    dialect,
    "connection_attempts",
    "id",
    db.selectFrom("connection_attempts").select("id").where("expires_at", "<=", before).limit(limit),
  );
}
