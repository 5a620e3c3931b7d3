/** SQL for connect sessions. Every call takes the project id: sessions never cross projects. */
import type { Kysely, Selectable } from "kysely";
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
