/** SQL for connect sessions. Every call takes the project id: sessions never cross projects. */
import type { Kysely, Selectable } from "kysely";
import { type DialectName, skipLockedRows } from "../db/dialect.js";
import type { ConnectSessionTable, Database } from "../db/schema.js";

export type ConnectSessionRow = Selectable<ConnectSessionTable>;
export type NewConnectSession = Omit<ConnectSessionRow, "id">;

export async function insertConnectSession(
  db: Kysely<Database>,
  session: NewConnectSession,
): Promise<ConnectSessionRow> {
  const { id } = await db
    .insertInto("connect_sessions")
    .values(session)
    .returning("id")
    .executeTakeFirstOrThrow();
  return { ...session, id: Number(id) };
}

/**
 * The session behind a token hash in this project, if it has not expired. Expiry is decided
 * here, by the row's `expires_at`, so an unknown, expired or foreign token look the same.
 */
export async function findLiveConnectSessionByTokenHash(
  db: Kysely<Database>,
  projectId: string,
  tokenHash: string,
  now: string,
): Promise<ConnectSessionRow | undefined> {
  const row = await db
    .selectFrom("connect_sessions")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("project_id", "=", projectId)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** The live session behind a token hash, whatever its project (the hosted page's lookup). */
export async function findLiveConnectSessionByToken(
  db: Kysely<Database>,
  tokenHash: string,
  now: string,
): Promise<ConnectSessionRow | undefined> {
  const row = await db
    .selectFrom("connect_sessions")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

export async function findConnectSessionById(
  db: Kysely<Database>,
  sessionId: number,
): Promise<ConnectSessionRow | undefined> {
  const row = await db
    .selectFrom("connect_sessions")
    .selectAll()
    .where("id", "=", sessionId)
    .executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/**
 * Marks a pending, unexpired session completed with its account, in one statement: of two
 * connections racing to complete one session, exactly one succeeds.
 */
export async function completeConnectSession(
  db: Kysely<Database>,
  projectId: string,
  sessionId: number,
  accountId: string,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable("connect_sessions")
    .set({ status: "completed", connected_account_id: accountId, updated_at: now })
    .where("project_id", "=", projectId)
    .where("id", "=", sessionId)
    .where("status", "=", "pending")
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Marks up to `limit` pending sessions whose expiry has passed as `expired`; returns them as
 * marked. This is the moment a `connect_session.expired` event belongs to: the row stays (with
 * its new status) until the retention period ends.
 */
export async function markExpiredConnectSessions(
  db: Kysely<Database>,
  dialect: DialectName,
  now: string,
  limit: number,
): Promise<ConnectSessionRow[]> {
  const due = skipLockedRows(
    db
      .selectFrom("connect_sessions")
      .select("id")
      .where("status", "=", "pending")
      .where("expires_at", "<=", now)
      .limit(limit),
    dialect,
  );
  const rows = await db
    .updateTable("connect_sessions")
    .set({ status: "expired", updated_at: now })
    .where("id", "in", due)
    .where("status", "=", "pending")
    .returningAll()
    .execute();
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/** Deletes up to `limit` sessions marked expired whose expiry is at or before `cutoff`. */
export async function deleteExpiredConnectSessions(
  db: Kysely<Database>,
  dialect: DialectName,
  cutoff: string,
  limit: number,
): Promise<number> {
  const due = skipLockedRows(
    db
      .selectFrom("connect_sessions")
      .select("id")
      .where("status", "=", "expired")
      .where("expires_at", "<=", cutoff)
      .limit(limit),
    dialect,
  );
  const result = await db.deleteFrom("connect_sessions").where("id", "in", due).executeTakeFirst();
  return Number(result.numDeletedRows);
}
