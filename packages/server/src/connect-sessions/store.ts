/** SQL for connect sessions. Every call takes the project id: sessions never cross projects. */
import type { Kysely, Selectable } from "kysely";
import { type DialectName, skipLockedRows } from "../db/dialect.js";
import type { BatchableWork } from "../db/group-commit.js";
import { preparedQuery } from "../db/prepared.js";
import type { ConnectSessionTable, Database } from "../db/schema.js";

export type ConnectSessionRow = Selectable<ConnectSessionTable>;
export type NewConnectSession = Omit<ConnectSessionRow, "id">;

/** Every column of a new session, in the order the prepared insert takes them. */
const NEW_SESSION_COLUMNS = [
  "project_id",
  "token_hash",
  "status",
  "origin_owner_id",
  "origin_owner_name",
  "origin_username",
  "provider",
  "provider_version",
  "categories",
  "account_id",
  "integration_id",
  "metadata",
  "multiple",
  "label",
  "type",
  "expires_at",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof NewConnectSession)[];

const insertSessionQuery = preparedQuery((db, ...values: unknown[]) =>
  db
    .insertInto("connect_sessions")
    .values(
      Object.fromEntries(NEW_SESSION_COLUMNS.map((column, i) => [column, values[i]])) as NewConnectSession,
    )
    .returning("id"),
);

export async function insertConnectSession(
  db: Kysely<Database>,
  session: NewConnectSession,
): Promise<ConnectSessionRow> {
  const { rows } = await insertSessionQuery(db, ...NEW_SESSION_COLUMNS.map((column) => session[column]));
  const inserted = rows[0];
  if (!inserted) throw new Error("insert returned no id");
  // pg returns bigserial ids as strings.
  return { ...session, id: Number(inserted.id) };
}

/** Rows come back with `id` as a number whatever the driver returns for a bigint. */
function withNumericId(row: ConnectSessionRow | undefined): ConnectSessionRow | undefined {
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** Sessions behind a token hash that have not expired: expiry is decided by `expires_at` here. */
function liveSessionsByTokenHash(db: Kysely<Database>, tokenHash: string, now: string) {
  return db
    .selectFrom("connect_sessions")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("expires_at", ">", now);
}

/**
 * Inserts many sessions in one statement; answers the stored rows in the order given. Ids are
 * matched back by token hash (unique), not by the order RETURNING happens to use.
 */
export async function insertConnectSessions(
  db: Kysely<Database>,
  sessions: readonly NewConnectSession[],
): Promise<ConnectSessionRow[]> {
  if (sessions.length === 0) return [];
  const inserted = await db
    .insertInto("connect_sessions")
    .values(sessions as NewConnectSession[])
    .returning(["id", "token_hash"])
    .execute();
  const ids = new Map(inserted.map((row) => [row.token_hash, Number(row.id)]));
  return sessions.map((session) => {
    const id = ids.get(session.token_hash);
    if (id === undefined) throw new Error("a session was not inserted");
    return { ...session, id };
  });
}

/** New sessions of one group commit go in together: one statement instead of one per request. */
export const insertSessionsTogether: BatchableWork<NewConnectSession, ConnectSessionRow> = {
  name: "insert connect sessions",
  executeMany: insertConnectSessions,
};

/**
 * The session behind a token hash in this project, if it has not expired. Expiry is decided
 * here, by the row's `expires_at`, so an unknown, expired or foreign token look the same.
 */
const findLiveSessionQuery = preparedQuery((db, tokenHash: string, projectId: string, now: string) =>
  db
    .selectFrom("connect_sessions")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("project_id", "=", projectId)
    .where("expires_at", ">", now),
);

export async function findLiveConnectSessionByTokenHash(
  db: Kysely<Database>,
  projectId: string,
  tokenHash: string,
  now: string,
): Promise<ConnectSessionRow | undefined> {
  return withNumericId((await findLiveSessionQuery(db, tokenHash, projectId, now)).rows[0]);
}

/**
 * The live session behind a token hash, in any project: only for the hosted page, where the
 * token itself is the credential and names the project. Everything holding an API key uses
 * the project-scoped findLiveConnectSessionByTokenHash.
 */
export async function findLiveConnectSessionByTokenHashInAnyProject(
  db: Kysely<Database>,
  tokenHash: string,
  now: string,
): Promise<ConnectSessionRow | undefined> {
  return withNumericId(await liveSessionsByTokenHash(db, tokenHash, now).executeTakeFirst());
}

/** By id, for the OAuth callback, whose state row already names the project. */
export async function findConnectSessionById(
  db: Kysely<Database>,
  sessionId: number,
): Promise<ConnectSessionRow | undefined> {
  return withNumericId(
    await db.selectFrom("connect_sessions").selectAll().where("id", "=", sessionId).executeTakeFirst(),
  );
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
