/**
 * SQL for webhooks. Calls made for a tenant take its project id; the dispatcher's calls work
 * across projects (it delivers for all of them) and take the ids it claimed.
 */
import type { Kysely, Selectable } from "kysely";
import { type DialectName, deletePickedRows, skipLockedRows } from "../db/dialect.js";
import type {
  Database,
  WebhookAttemptTable,
  WebhookDeliveryTable,
  WebhookEndpointTable,
  WebhookEventTable,
} from "../db/schema.js";

export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;
export type WebhookEventRow = Selectable<WebhookEventTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveryTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptTable>;

export async function insertEndpoint(db: Kysely<Database>, row: WebhookEndpointRow): Promise<void> {
  await db.insertInto("webhook_endpoints").values(row).execute();
}

export async function findEndpoint(
  db: Kysely<Database>,
  projectId: string,
  endpointId: string,
): Promise<WebhookEndpointRow | undefined> {
  return db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("id", "=", endpointId)
    .executeTakeFirst();
}

export async function listEndpoints(
  db: Kysely<Database>,
  projectId: string,
  page?: { offset: number; limit: number },
): Promise<WebhookEndpointRow[]> {
  let query = db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("project_id", "=", projectId)
    .orderBy("created_at")
    .orderBy("id");
  if (page) query = query.limit(page.limit).offset(page.offset);
  return query.execute();
}

/**
 * Serialises the endpoint changes of one project until the transaction ends (PostgreSQL
 * locks the project's row; SQLite has one writer anyway), so the per-project limit and the
 * one-endpoint-per-URL rule hold under concurrent requests.
 */
export async function lockProjectEndpoints(
  trx: Kysely<Database>,
  dialect: DialectName,
  projectId: string,
): Promise<void> {
  if (dialect !== "postgres") return;
  await trx.selectFrom("projects").select("id").where("id", "=", projectId).forUpdate().execute();
}

export async function countEndpoints(db: Kysely<Database>, projectId: string): Promise<number> {
  const row = await db
    .selectFrom("webhook_endpoints")
    .select((eb) => eb.fn.countAll<number | string>().as("count"))
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** The project's endpoint with this exact (normalised) URL, other than `exceptId`. */
export async function findEndpointIdByUrl(
  db: Kysely<Database>,
  projectId: string,
  url: string,
  exceptId?: string,
): Promise<string | undefined> {
  let query = db
    .selectFrom("webhook_endpoints")
    .select("id")
    .where("project_id", "=", projectId)
    .where("url", "=", url);
  if (exceptId) query = query.where("id", "!=", exceptId);
  return (await query.limit(1).executeTakeFirst())?.id;
}

export async function listEnabledEndpoints(
  db: Kysely<Database>,
  projectId: string,
): Promise<Array<Pick<WebhookEndpointRow, "id" | "event_types">>> {
  return db
    .selectFrom("webhook_endpoints")
    .select(["id", "event_types"])
    .where("project_id", "=", projectId)
    .where("enabled", "=", 1)
    .execute();
}

export async function updateEndpoint(
  db: Kysely<Database>,
  projectId: string,
  endpointId: string,
  changes: Partial<Omit<WebhookEndpointRow, "id" | "project_id" | "created_at">>,
): Promise<void> {
  await db
    .updateTable("webhook_endpoints")
    .set(changes)
    .where("project_id", "=", projectId)
    .where("id", "=", endpointId)
    .execute();
}

/** Deletes an endpoint with its deliveries and attempts (call inside a transaction). */
export async function deleteEndpoint(
  db: Kysely<Database>,
  projectId: string,
  endpointId: string,
): Promise<void> {
  await db
    .deleteFrom("webhook_attempts")
    .where("project_id", "=", projectId)
    .where("endpoint_id", "=", endpointId)
    .execute();
  await db
    .deleteFrom("webhook_deliveries")
    .where("project_id", "=", projectId)
    .where("endpoint_id", "=", endpointId)
    .execute();
  await db
    .deleteFrom("webhook_endpoints")
    .where("project_id", "=", projectId)
    .where("id", "=", endpointId)
    .execute();
}

export async function insertEvent(db: Kysely<Database>, row: WebhookEventRow): Promise<void> {
  await db.insertInto("webhook_events").values(row).execute();
}

export async function insertDeliveries(
  db: Kysely<Database>,
  rows: Array<Omit<WebhookDeliveryRow, "id">>,
): Promise<void> {
  if (rows.length) await db.insertInto("webhook_deliveries").values(rows).execute();
}

export type ClaimedDelivery = Pick<
  WebhookDeliveryRow,
  "id" | "project_id" | "event_id" | "endpoint_id" | "attempts"
>;

/**
 * Claims up to `limit` due deliveries of enabled endpoints until `leaseUntil`, in one atomic
 * statement: of several dispatchers (processes) asking at once, each delivery goes to one. On
 * PostgreSQL rows another dispatcher is claiming are skipped rather than waited for. A claim
 * that outlives its lease (its process died mid-send) becomes due again: at-least-once.
 */
export async function claimDueDeliveries(
  db: Kysely<Database>,
  dialect: DialectName,
  now: string,
  leaseUntil: string,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const dueRows = db
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]))
    .where("endpoint_id", "in", (eb) =>
      eb.selectFrom("webhook_endpoints").select("webhook_endpoints.id").where("enabled", "=", 1),
    );
  // On SQLite any UPDATE takes the database's one write lock, even when it matches nothing:
  // an idle server would take it every poll, and wait out the busy timeout (answering nothing
  // meanwhile) whenever a backup holds it. A read first, which WAL never blocks, keeps the
  // idle poll lock-free.
  if (dialect === "sqlite" && !(await dueRows.limit(1).executeTakeFirst())) return [];
  const due = skipLockedRows(dueRows.orderBy("next_attempt_at").limit(limit), dialect);
  // A materialized CTE picks the rows once. As a plain `in (subquery)` PostgreSQL may run the
  // subquery again for each row it updates, and each rerun (skipping the rows this statement
  // already locked) picks new ones: a claim of `limit` rows could then take every due row.
  const rows = await db
    .with(
      (cte) => cte("due").materialized(),
      () => due,
    )
    .updateTable("webhook_deliveries")
    .set({ locked_until: leaseUntil })
    .where("id", "in", (eb) => eb.selectFrom("due").select("due.id"))
    .where("status", "=", "pending")
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]))
    .returning(["id", "project_id", "event_id", "endpoint_id", "attempts"])
    .execute();
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

export async function findEvents(
  db: Kysely<Database>,
  eventIds: readonly string[],
): Promise<WebhookEventRow[]> {
  if (!eventIds.length) return [];
  return db
    .selectFrom("webhook_events")
    .selectAll()
    .where("id", "in", [...eventIds])
    .execute();
}

export async function findEndpointsByIds(
  db: Kysely<Database>,
  endpointIds: readonly string[],
): Promise<WebhookEndpointRow[]> {
  if (!endpointIds.length) return [];
  return db
    .selectFrom("webhook_endpoints")
    .selectAll()
    .where("id", "in", [...endpointIds])
    .execute();
}

/** Settles one attempt of a claimed delivery and releases its claim. */
export async function settleDelivery(
  db: Kysely<Database>,
  deliveryId: number,
  changes: Pick<WebhookDeliveryRow, "status" | "attempts" | "next_attempt_at" | "updated_at">,
): Promise<void> {
  await db
    .updateTable("webhook_deliveries")
    .set({ ...changes, locked_until: null })
    .where("id", "=", deliveryId)
    .execute();
}

export async function insertAttempt(db: Kysely<Database>, row: Omit<WebhookAttemptRow, "id">): Promise<void> {
  await db.insertInto("webhook_attempts").values(row).execute();
}

export async function recordEndpointSuccess(db: Kysely<Database>, endpointId: string): Promise<void> {
  await db
    .updateTable("webhook_endpoints")
    .set({ consecutive_failures: 0, failing_since: null })
    .where("id", "=", endpointId)
    .execute();
}

export async function recordEndpointFailure(
  db: Kysely<Database>,
  endpointId: string,
  now: string,
): Promise<void> {
  await db
    .updateTable("webhook_endpoints")
    .set((eb) => ({
      consecutive_failures: eb("consecutive_failures", "+", 1),
      failing_since: eb.fn.coalesce("failing_since", eb.val(now)),
    }))
    .where("id", "=", endpointId)
    .execute();
}

/**
 * Disables an endpoint that has failed every attempt since `cutoff` or earlier, in one
 * statement: of two dispatchers seeing its last failures, one disables it (and emits the event).
 */
export async function disableFailingEndpoint(
  db: Kysely<Database>,
  endpointId: string,
  cutoff: string,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable("webhook_endpoints")
    .set({ enabled: 0, disabled_reason: "failing", updated_at: now })
    .where("id", "=", endpointId)
    .where("enabled", "=", 1)
    .where("failing_since", "<=", cutoff)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function listAttempts(
  db: Kysely<Database>,
  projectId: string,
  endpointId: string,
  page: { offset: number; limit: number },
): Promise<WebhookAttemptRow[]> {
  const rows = await db
    .selectFrom("webhook_attempts")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("endpoint_id", "=", endpointId)
    .orderBy("id", "desc")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map((row) => ({ ...row, id: Number(row.id), delivery_id: Number(row.delivery_id) }));
}

export async function findDelivery(
  db: Kysely<Database>,
  projectId: string,
  deliveryId: number,
): Promise<WebhookDeliveryRow | undefined> {
  const row = await db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("id", "=", deliveryId)
    .executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** Makes a delivery due now with a fresh retry schedule (same event, same `webhook-id`). */
export async function replayDelivery(
  db: Kysely<Database>,
  projectId: string,
  deliveryId: number,
  now: string,
): Promise<void> {
  await db
    .updateTable("webhook_deliveries")
    .set({ status: "pending", attempts: 0, next_attempt_at: now, locked_until: null, updated_at: now })
    .where("project_id", "=", projectId)
    .where("id", "=", deliveryId)
    .execute();
}

/** Makes the pending deliveries of a re-enabled endpoint due now. */
export async function resumeDeliveries(
  db: Kysely<Database>,
  projectId: string,
  endpointId: string,
  now: string,
): Promise<void> {
  await db
    .updateTable("webhook_deliveries")
    .set({ next_attempt_at: now, updated_at: now })
    .where("project_id", "=", projectId)
    .where("endpoint_id", "=", endpointId)
    .where("status", "=", "pending")
    .execute();
}

/**
 * The retention sweep, `limit` rows a statement: attempts made before `cutoff`, deliveries
 * finished before it, then events left with no delivery. Returns the rows deleted.
 */
export async function deleteOldWebhookRows(
  db: Kysely<Database>,
  dialect: DialectName,
  cutoff: string,
  limit: number,
): Promise<number> {
  // Each batch's rows are picked once, in a materialized CTE (see skipLockedRows).
  const attempts = await deletePickedRows(
    db,
    dialect,
    "webhook_attempts",
    "id",
    db.selectFrom("webhook_attempts").select("id").where("attempted_at", "<=", cutoff).limit(limit),
  );
  const deliveries = await deletePickedRows(
    db,
    dialect,
    "webhook_deliveries",
    "id",
    db
      .selectFrom("webhook_deliveries")
      .select("id")
      .where("status", "in", ["succeeded", "failed"])
      .where("updated_at", "<=", cutoff)
      .limit(limit),
  );
  const events = await deletePickedRows(
    db,
    dialect,
    "webhook_events",
    "id",
    db
      .selectFrom("webhook_events")
      .select("id")
      .where("created_at", "<=", cutoff)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("webhook_deliveries")
              .select("webhook_deliveries.id")
              .whereRef("webhook_deliveries.event_id", "=", "webhook_events.id"),
          ),
        ),
      )
      .limit(limit),
  );
  return Math.max(attempts, deliveries, events);
}

export type WebhookDeliverySummaryRow = WebhookDeliveryRow & {
  event_type: string;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
};

/** The project's deliveries, newest first, each with its event's type and its last attempt. */
export async function listDeliveries(
  db: Kysely<Database>,
  projectId: string,
  filters: { endpointId?: string | undefined; status?: WebhookDeliveryRow["status"] | undefined },
  page: { offset: number; limit: number },
): Promise<WebhookDeliverySummaryRow[]> {
  let query = db
    .selectFrom("webhook_deliveries")
    .innerJoin("webhook_events", "webhook_events.id", "webhook_deliveries.event_id")
    .leftJoin("webhook_attempts", (join) =>
      join.on((eb) =>
        eb(
          "webhook_attempts.id",
          "=",
          eb
            .selectFrom("webhook_attempts as latest")
            .select((sub) => sub.fn.max("latest.id").as("id"))
            .whereRef("latest.delivery_id", "=", "webhook_deliveries.id"),
        ),
      ),
    )
    .selectAll("webhook_deliveries")
    .select([
      "webhook_events.type as event_type",
      "webhook_attempts.status_code as last_status_code",
      "webhook_attempts.latency_ms as last_latency_ms",
      "webhook_attempts.error as last_error",
      "webhook_attempts.attempted_at as last_attempt_at",
    ])
    .where("webhook_deliveries.project_id", "=", projectId);
  if (filters.endpointId !== undefined)
    query = query.where("webhook_deliveries.endpoint_id", "=", filters.endpointId);
  if (filters.status !== undefined) query = query.where("webhook_deliveries.status", "=", filters.status);
  const rows = await query
    .orderBy("webhook_deliveries.id", "desc")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map((row) => ({
    ...row,
    id: Number(row.id),
    last_status_code: row.last_status_code === null ? null : Number(row.last_status_code),
    last_latency_ms: row.last_latency_ms === null ? null : Number(row.last_latency_ms),
  }));
}

export async function findDeliveryOfEvent(
  db: Kysely<Database>,
  projectId: string,
  eventId: string,
  endpointId: string,
): Promise<WebhookDeliveryRow | undefined> {
  const row = await db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("event_id", "=", eventId)
    .where("endpoint_id", "=", endpointId)
    .executeTakeFirst();
  return row ? { ...row, id: Number(row.id) } : undefined;
}
