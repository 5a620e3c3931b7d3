/**
 * Connection attempts of StackOne's embeddable component: one OAuth2 popup flow, polled by the
 * embedding page until it is authenticated, fails, is cancelled or expires. Frozen once released.
 */
import type { Kysely } from "kysely";

export const connectionAttempts = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("connection_attempts")
      .addColumn("id", "text", (col) => col.primaryKey())
      .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
      .addColumn("session_id", "bigint", (col) => col.notNull())
      .addColumn("status", "text", (col) => col.notNull())
      .addColumn("state_hash", "text")
      .addColumn("redirect_uri", "text")
      .addColumn("account_id", "text")
      .addColumn("error_code", "text")
      .addColumn("error_description", "text")
      .addColumn("created_at", "text", (col) => col.notNull())
      .addColumn("updated_at", "text", (col) => col.notNull())
      .addColumn("expires_at", "text", (col) => col.notNull())
      .execute();
    await db.schema
      .createIndex("connection_attempts_state_idx")
      .on("connection_attempts")
      .column("state_hash")
      .execute();
    await db.schema
      .createIndex("connection_attempts_expiry_idx")
      .on("connection_attempts")
      .column("expires_at")
      .execute();
  },
};
