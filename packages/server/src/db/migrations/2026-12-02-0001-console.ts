/**
 * The operator console: single-use sign-in links, cookie sessions (tokens stored as hashes
 * only), and the audit log of changes made through the admin API. Frozen once released.
 */
import type { Kysely } from "kysely";

export const console = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("console_sign_in_links")
      .addColumn("id", "text", (col) => col.primaryKey())
      .addColumn("token_hash", "text", (col) => col.notNull().unique())
      // Null: the session it opens sees every project.
      .addColumn("project_id", "text", (col) => col.references("projects.id"))
      .addColumn("role", "text", (col) => col.notNull())
      .addColumn("created_by", "text", (col) => col.notNull())
      .addColumn("created_at", "text", (col) => col.notNull())
      .addColumn("expires_at", "text", (col) => col.notNull())
      .addColumn("consumed_at", "text")
      .execute();

    await db.schema
      .createTable("console_sessions")
      .addColumn("id", "text", (col) => col.primaryKey())
      .addColumn("token_hash", "text", (col) => col.notNull().unique())
      .addColumn("csrf_hash", "text", (col) => col.notNull())
      .addColumn("role", "text", (col) => col.notNull())
      .addColumn("project_id", "text", (col) => col.references("projects.id"))
      .addColumn("operator_subject", "text", (col) => col.notNull())
      .addColumn("operator_email", "text")
      .addColumn("method", "text", (col) => col.notNull())
      .addColumn("ip", "text")
      .addColumn("user_agent", "text")
      .addColumn("created_at", "text", (col) => col.notNull())
      .addColumn("expires_at", "text", (col) => col.notNull())
      .addColumn("revoked_at", "text")
      .addColumn("last_seen_at", "text", (col) => col.notNull())
      .execute();
    await db.schema
      .createIndex("console_sessions_active_idx")
      .on("console_sessions")
      .columns(["expires_at", "created_at"])
      .execute();

    await db.schema
      .createTable("audit_events")
      .addColumn("id", "text", (col) => col.primaryKey())
      // Null: an event about every project (an all-projects console sign-in).
      .addColumn("project_id", "text")
      .addColumn("occurred_at", "text", (col) => col.notNull())
      .addColumn("actor_type", "text", (col) => col.notNull())
      .addColumn("actor_id", "text", (col) => col.notNull())
      .addColumn("actor_display", "text", (col) => col.notNull())
      .addColumn("action", "text", (col) => col.notNull())
      .addColumn("target_type", "text")
      .addColumn("target_id", "text")
      .addColumn("ip", "text")
      .addColumn("user_agent", "text")
      .addColumn("request_id", "text")
      .addColumn("details", "text", (col) => col.notNull())
      .execute();
    // Listing: a project's events, newest first.
    await db.schema
      .createIndex("audit_events_project_idx")
      .on("audit_events")
      .columns(["project_id", "occurred_at"])
      .execute();
  },
};
