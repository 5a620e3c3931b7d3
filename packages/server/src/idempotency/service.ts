/**
 * Idempotent creation: the first successful response to a key is kept for 24 hours and
 * replayed to every later request with the same key and the same body; the same key with a
 * different body is refused (422). Records and the change they describe commit in one
 * transaction, and a unique key decides a race, so concurrent duplicates create one thing.
 *
 * The database holds only the key's hash and the response sealed under the key itself: a
 * copy of the database replays nothing (the response can contain a session token).
 */
import { createHash } from "node:crypto";
import { openWithSecret, sealWithSecret } from "../crypto/sealed.js";
import { hashToken } from "../crypto/tokens.js";
import type { Db } from "../db/database.js";
import { isUniqueViolation } from "../db/dialect.js";
import type { UnitOfWork } from "../db/group-commit.js";
import { ApiError } from "../http/errors.js";
import { addSeconds, type Clock, isoTimestamp } from "../time.js";
import * as store from "./store.js";

/** Set to `true` on an answer replayed for an Idempotency-Key (StackOne's header name). */
export const IDEMPOTENT_REPLAY_HEADER = "idempotent-replayed";

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentOutcome<T> {
  body: T;
  replayed: boolean;
}

export function assertValidIdempotencyKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new ApiError(400, "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces");
  }
}

/** A stable hash of a JSON value: object keys sorted, so key order does not matter. */
export function hashRequestBody(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Runs `execute` once per key: its writes and the record commit together (group-committed
 * with other requests' writes, see db/group-commit.ts), and `execute` must follow the unit of
 * work contract there (only the transaction, no outside effects, may run more than once).
 */
export async function runIdempotently<T>(
  db: Db,
  clock: Clock,
  request: { projectId: string; key: string; operation: string; body: unknown },
  execute: UnitOfWork<T>,
): Promise<IdempotentOutcome<T>> {
  assertValidIdempotencyKey(request.key);
  const keyHash = hashToken(request.key);
  const requestHash = hashRequestBody(request.body);
  const sealContext = `idempotency:${request.projectId}:${request.operation}`;
  const replay = (record: store.IdempotencyRecord): IdempotentOutcome<T> => {
    if (record.operation !== request.operation || record.request_hash !== requestHash) {
      throw new ApiError(
        422,
        "This Idempotency-Key was already used with a different request; send a new key for a new request",
      );
    }
    const body = openWithSecret(request.key, sealContext, record.response_body);
    if (body === undefined)
      throw new ApiError(409, "This Idempotency-Key cannot be replayed; send a new key");
    return { body: JSON.parse(body) as T, replayed: true };
  };

  const now = clock();
  const nowIso = isoTimestamp(now);
  const existing = await store.findLiveIdempotencyRecord(db.kysely, request.projectId, keyHash, nowIso);
  if (existing) return replay(existing);

  try {
    return await db.writes.run(async (trx) => {
      // A duplicate committed meanwhile, or queued earlier in the same batch, is seen here.
      const concurrent = await store.findLiveIdempotencyRecord(trx, request.projectId, keyHash, nowIso);
      if (concurrent) return replay(concurrent);
      await store.deleteExpiredIdempotencyRecord(trx, request.projectId, keyHash, nowIso);
      const body = await execute(trx);
      await store.insertIdempotencyRecord(trx, {
        project_id: request.projectId,
        idempotency_key: keyHash,
        operation: request.operation,
        request_hash: requestHash,
        response_status: 201,
        response_body: sealWithSecret(request.key, sealContext, JSON.stringify(body)),
        created_at: nowIso,
        expires_at: isoTimestamp(addSeconds(now, IDEMPOTENCY_TTL_SECONDS)),
      });
      return { body, replayed: false };
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const winner = await store.findLiveIdempotencyRecord(db.kysely, request.projectId, keyHash, nowIso);
    if (!winner) throw error;
    return replay(winner);
  }
}
