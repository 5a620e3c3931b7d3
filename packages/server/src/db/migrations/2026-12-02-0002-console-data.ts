/**
 * What the operator console reads: when a connect session's link was first opened, a per-day
 * rollup per project that outlives the sessions the sweeper deletes, each account's history,
 * and the indexes of the project-wide lists. Frozen once released.
 */
import type { Kysely } from "kysely";
import { type DialectName, withAutoIncrementId } from "../dialect.js";

export function consoleData(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("connect_sessions").addColumn("opened_at", "text").execute();
      // GET /connect_sessions: a project's sessions, newest first.
      await db.schema
        .createIndex("connect_sessions_project_id_idx")
        .on("connect_sessions")
        .columns(["project_id", "id"])
        .execute();

      // One row per project and UTC day; counters only ever grow (see stats/store.ts).
      await db.schema
        .createTable("project_daily_stats")
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("day", "text", (col) => col.notNull())
        .addColumn("sessions_created", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("sessions_opened", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("sessions_completed", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("sessions_expired_unconnected", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("webhook_deliveries_succeeded", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("webhook_deliveries_failed", "integer", (col) => col.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("project_daily_stats_pkey", ["project_id", "day"])
        .execute();

      await withAutoIncrementId(db.schema.createTable("account_events"), dialect)
        .addColumn("project_id", "text", (col) => col.notNull())
        .addColumn("account_id", "text", (col) => col.notNull())
        .addColumn("type", "text", (col) => col.notNull())
        .addColumn("occurred_at", "text", (col) => col.notNull())
        .addColumn("status_before", "text")
        .addColumn("status_after", "text", (col) => col.notNull())
        .addColumn("reason_code", "text")
        .addColumn("reason_description", "text")
        .addColumn("details", "text")
        .execute();
      await db.schema
        .createIndex("account_events_account_idx")
        .on("account_events")
        .columns(["project_id", "account_id", "id"])
        .execute();

      // GET /webhooks/deliveries: a project's deliveries, newest first, each with its last attempt.
      await db.schema
        .createIndex("webhook_deliveries_project_idx")
        .on("webhook_deliveries")
        .columns(["project_id", "id"])
        .execute();
      await db.schema
        .createIndex("webhook_attempts_delivery_idx")
        .on("webhook_attempts")
        .columns(["delivery_id", "id"])
        .execute();
    },
  };
}
