/**
 * Webhooks: endpoints per project, the outbox of events, one delivery per event and endpoint,
 * and the log of attempts. Frozen once released.
 */
import type { Kysely } from "kysely";
import { type DialectName, withAutoIncrementId } from "../dialect.js";

export function webhooks(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("webhook_endpoints")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("url", "text", (col) => col.notNull())
        .addColumn("description", "text")
        .addColumn("event_types", "text", (col) => col.notNull())
        .addColumn("enabled", "integer", (col) => col.notNull())
        .addColumn("disabled_reason", "text")
        .addColumn("secret_sealed", "text", (col) => col.notNull())
        .addColumn("previous_secret_sealed", "text")
        .addColumn("previous_secret_expires_at", "text")
        .addColumn("consecutive_failures", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("failing_since", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex("webhook_endpoints_project_idx")
        .on("webhook_endpoints")
        .columns(["project_id", "created_at"])
        .execute();

      await db.schema
        .createTable("webhook_events")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("type", "text", (col) => col.notNull())
        .addColumn("payload", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex("webhook_events_created_idx")
        .on("webhook_events")
        .columns(["created_at"])
        .execute();

      await withAutoIncrementId(db.schema.createTable("webhook_deliveries"), dialect)
        .addColumn("project_id", "text", (col) => col.notNull())
        .addColumn("event_id", "text", (col) => col.notNull().references("webhook_events.id"))
        .addColumn("endpoint_id", "text", (col) => col.notNull().references("webhook_endpoints.id"))
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("attempts", "integer", (col) => col.notNull())
        .addColumn("next_attempt_at", "text", (col) => col.notNull())
        .addColumn("locked_until", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .execute();
      // The dispatcher's query: due pending deliveries, oldest first.
      await db.schema
        .createIndex("webhook_deliveries_due_idx")
        .on("webhook_deliveries")
        .columns(["status", "next_attempt_at"])
        .execute();
      await db.schema
        .createIndex("webhook_deliveries_endpoint_idx")
        .on("webhook_deliveries")
        .columns(["endpoint_id", "id"])
        .execute();
      await db.schema
        .createIndex("webhook_deliveries_event_idx")
        .on("webhook_deliveries")
        .columns(["event_id"])
        .execute();

      await withAutoIncrementId(db.schema.createTable("webhook_attempts"), dialect)
        .addColumn("project_id", "text", (col) => col.notNull())
        .addColumn("endpoint_id", "text", (col) => col.notNull())
        .addColumn("delivery_id", "integer", (col) => col.notNull())
        .addColumn("event_id", "text", (col) => col.notNull())
        .addColumn("event_type", "text", (col) => col.notNull())
        .addColumn("attempted_at", "text", (col) => col.notNull())
        .addColumn("status_code", "integer")
        .addColumn("latency_ms", "integer", (col) => col.notNull())
        .addColumn("succeeded", "integer", (col) => col.notNull())
        .addColumn("error", "text")
        .execute();
      await db.schema
        .createIndex("webhook_attempts_endpoint_idx")
        .on("webhook_attempts")
        .columns(["endpoint_id", "id"])
        .execute();
      await db.schema
        .createIndex("webhook_attempts_time_idx")
        .on("webhook_attempts")
        .columns(["attempted_at"])
        .execute();
    },
  };
}
