/**
 * An account's history: one row per change (created, re-authorized, refreshed, a failed
 * refresh, a verification, an update), each with the status before and after and the reason.
 * Every row is written in the transaction of the change it describes, so the history never
 * tells of a change that rolled back, nor misses one that committed.
 */
import type { Kysely, Selectable } from "kysely";
import { type DialectName, deletePickedRows } from "../db/dialect.js";
import type { AccountEventTable, Database, LinkedAccountStatus } from "../db/schema.js";
import type { Page } from "../http/schema-types.js";

export const ACCOUNT_EVENT_TYPES = [
  "created",
  "reauthorized",
  "refreshed",
  "refresh_failed",
  "verified",
  "verification_failed",
  "updated",
] as const;
export type AccountEventType = (typeof ACCOUNT_EVENT_TYPES)[number];

export type AccountEventRow = Selectable<AccountEventTable>;

export interface NewAccountEvent {
  projectId: string;
  accountId: string;
  type: AccountEventType;
  occurredAt: string;
  statusBefore: LinkedAccountStatus | null;
  statusAfter: LinkedAccountStatus;
  reason?: { code: string; description: string } | undefined;
  /** Small and never secret: names of changed fields, not their values. */
  details?: Record<string, unknown> | undefined;
}

export interface AccountEventView {
  id: number;
  type: AccountEventType;
  occurred_at: string;
  status_before: LinkedAccountStatus | null;
  status_after: LinkedAccountStatus;
  reason: { code: string | null; description: string | null } | null;
  details: Record<string, unknown> | null;
}

/**
 * Call inside the transaction of the change the event describes.
 *
 * A routine refresh (an active account's token renewed) that follows another one is folded into
 * it: that event's `occurred_at` becomes this refresh's time and its `details` count the
 * refreshes since the first (`refreshes`, `first_refreshed_at`). An account whose token lasts an
 * hour would otherwise add thousands of rows a year that say the same; any other event ends
 * the run, and the next refresh starts a new one.
 */
export async function recordAccountHistory(trx: Kysely<Database>, event: NewAccountEvent): Promise<void> {
  const routineRefresh = isRoutineRefresh(event);
  if (routineRefresh && (await foldIntoLatestRefresh(trx, event))) return;
  const details = routineRefresh ? { refreshes: 1, first_refreshed_at: event.occurredAt } : event.details;
  await trx
    .insertInto("account_events")
    .values({
      project_id: event.projectId,
      account_id: event.accountId,
      type: event.type,
      occurred_at: event.occurredAt,
      status_before: event.statusBefore,
      status_after: event.statusAfter,
      reason_code: event.reason?.code ?? null,
      reason_description: event.reason?.description ?? null,
      details: details ? JSON.stringify(details) : null,
    })
    .execute();
}

function isRoutineRefresh(event: {
  type: string;
  statusBefore: string | null;
  statusAfter: string;
}): boolean {
  return event.type === "refreshed" && event.statusBefore === "active" && event.statusAfter === "active";
}

/** Folds a routine refresh into the account's latest event when that is one too. */
async function foldIntoLatestRefresh(trx: Kysely<Database>, event: NewAccountEvent): Promise<boolean> {
  const latest = await trx
    .selectFrom("account_events")
    .select(["id", "type", "status_before", "status_after", "occurred_at", "details"])
    .where("project_id", "=", event.projectId)
    .where("account_id", "=", event.accountId)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  if (
    !latest ||
    !isRoutineRefresh({
      type: latest.type,
      statusBefore: latest.status_before,
      statusAfter: latest.status_after,
    })
  ) {
    return false;
  }
  const folded = refreshRun(latest.details, latest.occurred_at);
  await trx
    .updateTable("account_events")
    .set({
      occurred_at: event.occurredAt,
      details: JSON.stringify({
        refreshes: folded.refreshes + 1,
        first_refreshed_at: folded.first_refreshed_at,
      }),
    })
    .where("id", "=", latest.id)
    .execute();
  return true;
}

/** The run a refresh event stands for (a row written before runs were folded counts as one). */
function refreshRun(
  details: string | null,
  occurredAt: string,
): { refreshes: number; first_refreshed_at: string } {
  const parsed = details
    ? (JSON.parse(details) as { refreshes?: unknown; first_refreshed_at?: unknown })
    : {};
  return {
    refreshes: typeof parsed.refreshes === "number" ? parsed.refreshes : 1,
    first_refreshed_at:
      typeof parsed.first_refreshed_at === "string" ? parsed.first_refreshed_at : occurredAt,
  };
}

/** The account's events, newest first. */
export async function listAccountHistory(
  db: Kysely<Database>,
  projectId: string,
  accountId: string,
  page: Page,
): Promise<AccountEventView[]> {
  const rows = await db
    .selectFrom("account_events")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("account_id", "=", accountId)
    .orderBy("id", "desc")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map((row) => ({
    id: Number(row.id),
    type: row.type as AccountEventType,
    occurred_at: row.occurred_at,
    status_before: row.status_before,
    status_after: row.status_after,
    reason:
      row.reason_code === null && row.reason_description === null
        ? null
        : { code: row.reason_code, description: row.reason_description },
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  }));
}

/** Deletes an account's history with the account (call in the deletion's transaction). */
export async function deleteAccountHistory(
  trx: Kysely<Database>,
  projectId: string,
  accountId: string,
): Promise<void> {
  await trx
    .deleteFrom("account_events")
    .where("project_id", "=", projectId)
    .where("account_id", "=", accountId)
    .execute();
}

/**
 * The sweeper's: deletes up to `limit` history rows that occurred at or before `cutoff`
 * (AUDIT_RETENTION) or whose account no longer exists (a deletion removes its history in its
 * transaction; this catches rows left by anything else).
 */
export async function deleteOldAccountHistory(
  db: Kysely<Database>,
  dialect: DialectName,
  cutoff: string,
  limit: number,
): Promise<number> {
  return deletePickedRows(
    db,
    dialect,
    "account_events",
    "id",
    db
      .selectFrom("account_events")
      .select("id")
      .where(({ or, eb, not, exists, selectFrom }) =>
        or([
          eb("occurred_at", "<=", cutoff),
          not(
            exists(
              selectFrom("linked_accounts")
                .select("linked_accounts.id")
                .whereRef("linked_accounts.id", "=", "account_events.account_id")
                .whereRef("linked_accounts.project_id", "=", "account_events.project_id"),
            ),
          ),
        ]),
      )
      .limit(limit),
  );
}
