/**
 * Per-integration switch for verifying credentials when they are entered (on by default).
 * Frozen once released.
 */
import type { Kysely } from "kysely";

export const integrationVerification = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("integrations")
      .addColumn("verify_credentials", "integer", (col) => col.notNull().defaultTo(1))
      .execute();
  },
};
