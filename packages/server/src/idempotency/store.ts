/** SQL for idempotency records: one per project and key hash, kept until `expires_at`. */
import type { Kysely, Selectable } from "kysely";
import type { Database, IdempotencyKeyTable } from "../db/schema.js";

export type IdempotencyRecord = Selectable<IdempotencyKeyTable>;

export async function findLiveIdempotencyRecord(
  db: Kysely<Database>,
  projectId: string,
  keyHash: string,
  now: string,
): Promise<IdempotencyRecord | undefined> {
  return db
    .selectFrom("idempotency_keys")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("idempotency_key", "=", keyHash)
    .where("expires_at", ">", now)
    .executeTakeFirst();
}

export async function deleteExpiredIdempotencyRecord(
  db: Kysely<Database>,
  projectId: string,
  keyHash: string,
  now: string,
): Promise<void> {
  await db
    .deleteFrom("idempotency_keys")
    .where("project_id", "=", projectId)
    .where("idempotency_key", "=", keyHash)
    .where("expires_at", "<=", now)
    .execute();
}

export async function insertIdempotencyRecord(
  db: Kysely<Database>,
  record: IdempotencyRecord,
): Promise<void> {
  await db.insertInto("idempotency_keys").values(record).execute();
}
