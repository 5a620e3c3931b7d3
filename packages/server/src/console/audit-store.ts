/** Storage of the audit log: one row per change, listed newest first per project. */
import type { Kysely } from "kysely";
import { type DialectName, deletePickedRows } from "../db/dialect.js";
import type { BatchableWork } from "../db/group-commit.js";
import type { AuditEventTable, Database } from "../db/schema.js";

export async function insertAuditEvent(db: Kysely<Database>, event: AuditEventTable): Promise<void> {
  await db.insertInto("audit_events").values(event).execute();
}

/**
 * The events of one group commit go in as one multi-row INSERT. A pure insert of rows built
 * before queueing, so it may run again (group-commit.ts's contract).
 */
export const insertAuditEventsTogether: BatchableWork<AuditEventTable, undefined> = {
  name: "insert audit events",
  async executeMany(trx, events) {
    if (events.length > 0)
      await trx
        .insertInto("audit_events")
        .values([...events])
        .execute();
    return events.map(() => undefined);
  },
};

export interface AuditFilters {
  action?: string | undefined;
  actorType?: string | undefined;
  targetId?: string | undefined;
}

/**
 * A project's events, newest first. `includeUnscoped` adds the events about every project
 * (all-projects console sign-ins), for callers who see every project.
 */
export async function listAuditEvents(
  db: Kysely<Database>,
  scope: { projectId: string; includeUnscoped: boolean },
  filters: AuditFilters,
  page: { offset: number; limit: number },
): Promise<AuditEventTable[]> {
  let query = db
    .selectFrom("audit_events")
    .selectAll()
    .where((eb) =>
      scope.includeUnscoped
        ? eb.or([eb("project_id", "=", scope.projectId), eb("project_id", "is", null)])
        : eb("project_id", "=", scope.projectId),
    );
  if (filters.action) query = query.where("action", "=", filters.action);
  if (filters.actorType)
    query = query.where("actor_type", "=", filters.actorType as AuditEventTable["actor_type"]);
  if (filters.targetId) query = query.where("target_id", "=", filters.targetId);
  return query
    .orderBy("occurred_at", "desc")
    .orderBy("id", "desc")
    .offset(page.offset)
    .limit(page.limit)
    .execute();
}

/** The sweeper's: deletes up to `limit` events that occurred at or before `cutoff` (AUDIT_RETENTION). */
export async function deleteOldAuditEvents(
  db: Kysely<Database>,
  dialect: DialectName,
  cutoff: string,
  limit: number,
): Promise<number> {
  return deletePickedRows(
    db,
    dialect,
    "audit_events",
    "id",
    db.selectFrom("audit_events").select("id").where("occurred_at", "<=", cutoff).limit(limit),
  );
}
