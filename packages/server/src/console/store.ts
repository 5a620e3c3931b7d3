/**
 * Storage of console sign-in links and console sessions. Tokens are kept as SHA-256 hashes
 * only; every lookup checks expiry and revocation in the query that finds the row, and a link
 * is consumed by one conditional UPDATE, so of two racing consumers exactly one gets it.
 */
import type { Kysely } from "kysely";
import { type DialectName, deletePickedRows } from "../db/dialect.js";
import type { ConsoleRole, ConsoleSessionTable, ConsoleSignInLinkTable, Database } from "../db/schema.js";

/** Which sessions a caller may see: those bound to one project, or every session. */
export type SessionScope = { projectId: string } | "all";

export async function insertSignInLink(db: Kysely<Database>, link: ConsoleSignInLinkTable): Promise<void> {
  await db.insertInto("console_sign_in_links").values(link).execute();
}

/**
 * Marks the link consumed and returns it, when it exists, is unused and has not expired; one
 * statement, so a second consumer (another request, another process) finds nothing.
 */
export async function consumeSignInLink(
  db: Kysely<Database>,
  tokenHash: string,
  now: string,
): Promise<ConsoleSignInLinkTable | undefined> {
  return db
    .updateTable("console_sign_in_links")
    .set({ consumed_at: now })
    .where("token_hash", "=", tokenHash)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .returningAll()
    .executeTakeFirst();
}

export async function insertConsoleSession(
  db: Kysely<Database>,
  session: ConsoleSessionTable,
): Promise<void> {
  await db.insertInto("console_sessions").values(session).execute();
}

export interface ActiveConsoleSession {
  id: string;
  csrfHash: string;
  role: ConsoleRole;
  /** Null: every project. */
  project: { id: string; name: string; organizationId: number } | null;
  operatorSubject: string;
  operatorEmail: string | null;
  method: "link" | "oidc";
  expiresAt: string;
  lastSeenAt: string;
}

/** The unrevoked, unexpired session behind a cookie token's hash. */
export async function findActiveConsoleSession(
  db: Kysely<Database>,
  tokenHash: string,
  now: string,
): Promise<ActiveConsoleSession | undefined> {
  const row = await db
    .selectFrom("console_sessions")
    .leftJoin("projects", "projects.id", "console_sessions.project_id")
    .select([
      "console_sessions.id",
      "console_sessions.csrf_hash",
      "console_sessions.role",
      "console_sessions.project_id",
      "console_sessions.operator_subject",
      "console_sessions.operator_email",
      "console_sessions.method",
      "console_sessions.expires_at",
      "console_sessions.last_seen_at",
      "projects.name as project_name",
      "projects.organization_id",
    ])
    .where("console_sessions.token_hash", "=", tokenHash)
    .where("console_sessions.revoked_at", "is", null)
    .where("console_sessions.expires_at", ">", now)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    csrfHash: row.csrf_hash,
    role: row.role,
    project:
      row.project_id && row.project_name !== null
        ? { id: row.project_id, name: row.project_name, organizationId: Number(row.organization_id) }
        : null,
    operatorSubject: row.operator_subject,
    operatorEmail: row.operator_email,
    method: row.method,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
  };
}

/** Records that the session was used; a no-op when it was recorded since `staleBefore`. */
export async function touchConsoleSession(
  db: Kysely<Database>,
  id: string,
  now: string,
  staleBefore: string,
): Promise<void> {
  await db
    .updateTable("console_sessions")
    .set({ last_seen_at: now })
    .where("id", "=", id)
    .where("last_seen_at", "<", staleBefore)
    .execute();
}

/** Revokes an active session the scope may see; false when there is none. */
export async function revokeConsoleSession(
  db: Kysely<Database>,
  scope: SessionScope,
  id: string,
  now: string,
): Promise<boolean> {
  let query = db
    .updateTable("console_sessions")
    .set({ revoked_at: now })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now);
  if (scope !== "all") query = query.where("project_id", "=", scope.projectId);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface ConsoleSessionSummary {
  id: string;
  role: ConsoleRole;
  projectId: string | null;
  operatorSubject: string;
  operatorEmail: string | null;
  method: "link" | "oidc";
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  expiresAt: string;
  lastSeenAt: string;
}

/** Active sessions the scope may see, newest first; `limit + 1` rows tell whether a page follows. */
export async function listActiveConsoleSessions(
  db: Kysely<Database>,
  scope: SessionScope,
  now: string,
  page: { offset: number; limit: number },
): Promise<ConsoleSessionSummary[]> {
  let query = db
    .selectFrom("console_sessions")
    .select([
      "id",
      "role",
      "project_id",
      "operator_subject",
      "operator_email",
      "method",
      "ip",
      "user_agent",
      "created_at",
      "expires_at",
      "last_seen_at",
    ])
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now);
  if (scope !== "all") query = query.where("project_id", "=", scope.projectId);
  const rows = await query
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .offset(page.offset)
    .limit(page.limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    role: row.role,
    projectId: row.project_id,
    operatorSubject: row.operator_subject,
    operatorEmail: row.operator_email,
    method: row.method,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
  }));
}

/** The sweeper's: deletes up to `limit` sign-in links, used or not, that expired at or before `now`. */
export async function deleteExpiredSignInLinks(
  db: Kysely<Database>,
  dialect: DialectName,
  now: string,
  limit: number,
): Promise<number> {
  return deletePickedRows(
    db,
    dialect,
    "console_sign_in_links",
    "id",
    db.selectFrom("console_sign_in_links").select("id").where("expires_at", "<=", now).limit(limit),
  );
}

/**
 * The sweeper's: deletes up to `limit` console sessions that expired or were revoked at or
 * before `cutoff` (the caller leaves a grace after the end, so a session just ended can still
 * be listed as such).
 */
export async function deleteEndedConsoleSessions(
  db: Kysely<Database>,
  dialect: DialectName,
  cutoff: string,
  limit: number,
): Promise<number> {
  return deletePickedRows(
    db,
    dialect,
    "console_sessions",
    "id",
    db
      .selectFrom("console_sessions")
      .select("id")
      .where((eb) => eb.or([eb("expires_at", "<=", cutoff), eb("revoked_at", "<=", cutoff)]))
      .limit(limit),
  );
}
