/** SQL for connect sessions. Every call takes the project id: sessions never cross projects. */
import type { ExpressionBuilder, Kysely, Selectable } from "kysely";
import { type DialectName, deletePickedRows, skipLockedRows } from "../db/dialect.js";
import type { BatchableWork } from "../db/group-commit.js";
import { preparedLookup, preparedQuery } from "../db/prepared.js";
import type { ConnectSessionTable, Database } from "../db/schema.js";
import { addToDailyStats } from "../stats/store.js";

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

/**
 * Inserts a session; answers the object given, with its new id set. Here and in
 * insertConnectSessions the caller's object is completed rather than copied: copying a row
 * of twenty fields (`{ ...row, id }`) cost more CPU than SQLite took to store it.
 */
export async function insertConnectSession(
  db: Kysely<Database>,
  session: NewConnectSession,
): Promise<ConnectSessionRow> {
  const [stored] = await insertConnectSessions(db, [session]);
  return stored as ConnectSessionRow;
}

/** Sets a row's id, as a number whatever the driver returns for a bigint (pg: a string). */
function withId(row: NewConnectSession, id: number | string): ConnectSessionRow {
  const stored = row as ConnectSessionRow;
  stored.id = Number(id);
  return stored;
}

/** A row the driver just returned (ours alone), its id made a number in place. */
function withNumericId(row: ConnectSessionRow | undefined): ConnectSessionRow | undefined {
  return row ? withId(row, row.id) : undefined;
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
 * The multi-row insert of `count` sessions, built once per count (a group commit's batches
 * have at most a few hundred sizes): building and compiling an insert of a whole batch's
 * values cost more than SQLite took to store them.
 */
const insertSessionsQueries = new Map<number, ReturnType<typeof insertSessionsQuery>>();

function insertSessionsQuery(count: number) {
  const width = NEW_SESSION_COLUMNS.length;
  return preparedQuery((db, ...values: unknown[]) =>
    db
      .insertInto("connect_sessions")
      .values(
        Array.from(
          { length: count },
          (_, row) =>
            Object.fromEntries(
              NEW_SESSION_COLUMNS.map((column, i) => [column, values[row * width + i]]),
            ) as NewConnectSession,
        ),
      )
      .returning(["id", "token_hash"]),
  );
}

/**
 * Inserts many sessions in one statement; answers the rows given, in their order, each with its
 * id set (see insertConnectSession). Ids are matched back by token hash (unique), not by the
 * order RETURNING happens to use.
 */
export async function insertConnectSessions(
  db: Kysely<Database>,
  sessions: readonly NewConnectSession[],
): Promise<ConnectSessionRow[]> {
  if (sessions.length === 0) return [];
  let query = insertSessionsQueries.get(sessions.length);
  if (!query) {
    query = insertSessionsQuery(sessions.length);
    insertSessionsQueries.set(sessions.length, query);
  }
  const values: unknown[] = [];
  for (const session of sessions) for (const column of NEW_SESSION_COLUMNS) values.push(session[column]);
  const { rows: inserted } = await query(db, ...values);
  await countCreated(db, sessions);
  const ids = new Map(inserted.map((row) => [row.token_hash, Number(row.id)]));
  return sessions.map((session) => {
    const id = ids.get(session.token_hash);
    if (id === undefined) throw new Error("a session was not inserted");
    return withId(session, id);
  });
}

/** The funnel's first step, counted in the transaction of the insert. */
function countCreated(db: Kysely<Database>, sessions: readonly NewConnectSession[]): Promise<void> {
  return addToDailyStats(
    db,
    "sessions_created",
    sessions.map((session) => ({ projectId: session.project_id, timestamp: session.created_at })),
  );
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
const findLiveSessionQuery = preparedLookup((db, tokenHash: string, projectId: string, now: string) =>
  db
    .selectFrom("connect_sessions")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("project_id", "=", projectId)
    .where("expires_at", ">", now),
);

export async function findLiveConnectSessionByTokenKeys(
  db: Kysely<Database>,
  projectId: string,
  tokenKeys: readonly string[],
  now: string,
): Promise<ConnectSessionRow | undefined> {
  return firstFound(tokenKeys, (key) => findLiveSessionQuery(db, key, projectId, now));
}

/**
 * The live session behind a token hash, in any project: only for the hosted page, where the
 * token itself is the credential and names the project. Everything holding an API key uses
 * the project-scoped findLiveConnectSessionByTokenKeys.
 */
export async function findLiveConnectSessionByTokenKeysInAnyProject(
  db: Kysely<Database>,
  tokenKeys: readonly string[],
  now: string,
): Promise<ConnectSessionRow | undefined> {
  return firstFound(tokenKeys, (key) => liveSessionsByTokenHash(db, key, now).executeTakeFirst());
}

/**
 * A token's stored keys are tried in order (timeOrderedTokenKeys: its time-ordered key, then
 * its plain hash); the first that finds a session wins, so a token that exists costs one lookup.
 */
async function firstFound(
  tokenKeys: readonly string[],
  find: (key: string) => Promise<ConnectSessionRow | undefined>,
): Promise<ConnectSessionRow | undefined> {
  for (const key of tokenKeys) {
    const row = await find(key);
    if (row) return withNumericId(row);
  }
  return undefined;
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
 * connections racing to complete one session, exactly one succeeds. Counted in the funnel of
 * the session's day; call inside the completion's transaction.
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
    .returning("created_at")
    .executeTakeFirst();
  if (!result) return false;
  await addToDailyStats(db, "sessions_completed", [{ projectId, timestamp: result.created_at }]);
  return true;
}

/**
 * Records the first use of a session's link by the hosted page or the embedded hub: one
 * UPDATE guarded by `opened_at is null` (of two first uses at once, one counts), with the
 * funnel's count in the same transaction.
 */
export async function markConnectSessionOpened(
  db: Kysely<Database>,
  session: Pick<ConnectSessionRow, "id" | "project_id" | "created_at">,
  now: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable("connect_sessions")
      .set({ opened_at: now })
      .where("id", "=", session.id)
      .where("opened_at", "is", null)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) {
      await addToDailyStats(trx, "sessions_opened", [
        { projectId: session.project_id, timestamp: session.created_at },
      ]);
    }
  });
}

/**
 * Marks up to `limit` pending sessions whose expiry has passed as `expired` (and counts them
 * in their days' funnels: call inside a transaction); returns them as marked. This is the moment a `connect_session.expired` event belongs to: the row stays (with
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
  // Picked once (see skipLockedRows): a batch never marks more than `limit`.
  const rows = await db
    .with(
      (cte) => cte("due").materialized(),
      () => due,
    )
    .updateTable("connect_sessions")
    .set({ status: "expired", updated_at: now })
    .where("id", "in", (eb) => eb.selectFrom("due").select("due.id"))
    .where("status", "=", "pending")
    .returningAll()
    .execute();
  await addToDailyStats(
    db,
    "sessions_expired_unconnected",
    rows.map((row) => ({ projectId: row.project_id, timestamp: row.created_at })),
  );
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/** Deletes up to `limit` sessions marked expired whose expiry is at or before `cutoff`. */
export async function deleteExpiredConnectSessions(
  db: Kysely<Database>,
  dialect: DialectName,
  cutoff: string,
  limit: number,
): Promise<number> {
  return deletePickedRows(
    db,
    dialect,
    "connect_sessions",
    "id",
    db
      .selectFrom("connect_sessions")
      .select("id")
      .where("status", "=", "expired")
      .where("expires_at", "<=", cutoff)
      .limit(limit),
  );
}

/** What the console shows of a session: its state is derived from status, expiry and opening. */
export type ConnectSessionState = "pending" | "opened" | "completed" | "expired";

export interface ConnectSessionFilters {
  state?: ConnectSessionState | undefined;
  originOwnerId?: string | undefined;
  provider?: string | undefined;
}

/** A session with the provider of the account it produced (when it allowed any provider). */
export type ListedConnectSessionRow = ConnectSessionRow & { connected_provider: string | null };

/** The SQL condition of a state at `now` (mirrors sessionState). */
function stateCondition(
  eb: ExpressionBuilder<Database, "connect_sessions">,
  state: ConnectSessionState,
  now: string,
) {
  const live = eb.and([
    eb("connect_sessions.status", "=", "pending"),
    eb("connect_sessions.expires_at", ">", now),
  ]);
  switch (state) {
    case "completed":
      return eb("connect_sessions.status", "=", "completed");
    case "expired":
      return eb.or([
        eb("connect_sessions.status", "in", ["expired", "cancelled"]),
        eb.and([eb("connect_sessions.status", "=", "pending"), eb("connect_sessions.expires_at", "<=", now)]),
      ]);
    case "opened":
      return eb.and([live, eb("connect_sessions.opened_at", "is not", null)]);
    case "pending":
      return eb.and([live, eb("connect_sessions.opened_at", "is", null)]);
  }
}

/** The state of a session at `now`: expiry is decided by `expires_at`, as everywhere. */
export function sessionState(row: ConnectSessionRow, now: string): ConnectSessionState {
  if (row.status === "completed") return "completed";
  if (row.status !== "pending" || row.expires_at <= now) return "expired";
  return row.opened_at === null ? "pending" : "opened";
}

function sessionsWithConnectedProvider(db: Kysely<Database>, projectId: string) {
  return db
    .selectFrom("connect_sessions")
    .leftJoin("linked_accounts", (join) =>
      join
        .onRef("linked_accounts.id", "=", "connect_sessions.connected_account_id")
        .onRef("linked_accounts.project_id", "=", "connect_sessions.project_id"),
    )
    .selectAll("connect_sessions")
    .select("linked_accounts.provider as connected_provider")
    .where("connect_sessions.project_id", "=", projectId);
}

/** A project's sessions, newest first, filtered. */
export async function listConnectSessions(
  db: Kysely<Database>,
  projectId: string,
  filters: ConnectSessionFilters,
  now: string,
  page: { offset: number; limit: number },
): Promise<ListedConnectSessionRow[]> {
  let query = sessionsWithConnectedProvider(db, projectId);
  const { state, originOwnerId, provider } = filters;
  if (state) query = query.where((eb) => stateCondition(eb, state, now));
  if (originOwnerId !== undefined)
    query = query.where("connect_sessions.origin_owner_id", "=", originOwnerId);
  if (provider !== undefined) {
    query = query.where((eb) =>
      eb.or([
        eb("connect_sessions.provider", "=", provider),
        eb.and([eb("connect_sessions.provider", "is", null), eb("linked_accounts.provider", "=", provider)]),
      ]),
    );
  }
  const rows = await query
    .orderBy("connect_sessions.id", "desc")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/** One of the project's sessions by id. */
export async function findListedConnectSession(
  db: Kysely<Database>,
  projectId: string,
  sessionId: number,
): Promise<ListedConnectSessionRow | undefined> {
  const row = await sessionsWithConnectedProvider(db, projectId)
    .where("connect_sessions.id", "=", sessionId)
    .executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}
