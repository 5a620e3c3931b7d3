/**
 * Indexes for the sweeper, which finds sessions by status and expiry across all projects.
 * Frozen once released: later changes go in a new migration.
 */
import type { Kysely } from "kysely";

export const sweepIndexes = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex("connect_sessions_status_expiry_idx")
      .on("connect_sessions")
      .columns(["status", "expires_at"])
      .execute();
  },
};
