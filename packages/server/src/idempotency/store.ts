/** SQL for idempotency records: one per project and key hash, kept until `expires_at`. */
import { type Kysely, type Selectable, sql } from "kysely";
import { type DialectName, skipLockedRows } from "../db/dialect.js";
import { preparedLookup } from "../db/prepared.js";
import type { Database, IdempotencyKeyTable } from "../db/schema.js";

export type IdempotencyRecord = Selectable<IdempotencyKeyTable>;

const findLiveRecordQuery = preparedLookup((db, projectId: string, keyHash: string, now: string) =>
  db
    .selectFrom("idempotency_keys")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("idempotency_key", "=", keyHash)
    .where("expires_at", ">", now),
);

export async function findLiveIdempotencyRecord(
  db: Kysely<Database>,
  projectId: string,
  keyHash: string,
  now: string,
): Promise<IdempotencyRecord | undefined> {
  return findLiveRecordQuery(db, projectId, keyHash, now);
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

/** Deletes up to `limit` records of any project that expired at or before `now`. */
export async function deleteExpiredIdempotencyRecords(
  db: Kysely<Database>,
  dialect: DialectName,
  now: string,
  limit: number,
): Promise<number> {
  const due = skipLockedRows(
    db
      .selectFrom("idempotency_keys")
      .select(["project_id", "idempotency_key"])
      .where("expires_at", "<=", now)
      .limit(limit),
    dialect,
  );
  // Picked once (see skipLockedRows): a batch never deletes more than `limit`.
  const result = await db
    .with(
      (cte) => cte("due").materialized(),
      () => due,
    )
    .deleteFrom("idempotency_keys")
    .where(sql<boolean>`(project_id, idempotency_key) in (select project_id, idempotency_key from due)`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
