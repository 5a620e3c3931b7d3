/** SQL for OAuth states: single use, short-lived, stored only as hashes. */
import type { Kysely, Selectable } from "kysely";
import { type DialectName, deletePickedRows } from "../db/dialect.js";
import type { Database, OAuthStateTable } from "../db/schema.js";

export type OAuthStateRow = Selectable<OAuthStateTable>;

export async function insertOAuthState(db: Kysely<Database>, row: OAuthStateRow): Promise<void> {
  await db.insertInto("oauth_states").values(row).execute();
}

/**
 * Consumes a state in one atomic statement, and only for the browser it is bound to: of two
 * callbacks racing with the same state, only one gets the row; an unknown, expired or used
 * state, or one presented by another browser, gets nothing and stays as it was (so a
 * callback replayed from elsewhere cannot spoil the real user's).
 */
export async function consumeOAuthState(
  db: Kysely<Database>,
  stateHash: string,
  browserBindingHash: string,
  now: string,
): Promise<OAuthStateRow | undefined> {
  const row = await db
    .updateTable("oauth_states")
    .set({ consumed_at: now })
    .where("state_hash", "=", stateHash)
    .where("browser_binding_hash", "=", browserBindingHash)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .returningAll()
    .executeTakeFirst();
  return row ? { ...row, session_id: Number(row.session_id) } : undefined;
}

/** Whether a state is unused and unexpired (to tell "started elsewhere" from "expired"). */
export async function isLiveOAuthState(
  db: Kysely<Database>,
  stateHash: string,
  now: string,
): Promise<boolean> {
  const row = await db
    .selectFrom("oauth_states")
    .select("state_hash")
    .where("state_hash", "=", stateHash)
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return row !== undefined;
}

/** Deletes up to `limit` states, used or not, whose ten minutes ended at or before `now`. */
export async function deleteExpiredOAuthStates(
  db: Kysely<Database>,
  dialect: DialectName,
  now: string,
  limit: number,
): Promise<number> {
  return deletePickedRows(
    db,
    dialect,
    "oauth_states",
    "state_hash",
    db.selectFrom("oauth_states").select("state_hash").where("expires_at", "<=", now).limit(limit),
  );
}
