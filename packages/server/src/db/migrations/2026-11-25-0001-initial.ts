/** Frozen once released: later changes go in a new migration. */
import type { Kysely } from "kysely";
import { type DialectName, withAutoIncrementId } from "../dialect.js";

export function initial(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await withAutoIncrementId(db.schema.createTable("organizations"), dialect)
        .addColumn("name", "text", (col) => col.notNull().unique())
        .addColumn("created_at", "text", (col) => col.notNull())
        .execute();

      await db.schema
        .createTable("projects")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("organization_id", "bigint", (col) => col.notNull().references("organizations.id"))
        .addColumn("name", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addUniqueConstraint("projects_organization_name_unique", ["organization_id", "name"])
        .execute();

      await db.schema
        .createTable("api_keys")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("key_hash", "text", (col) => col.notNull().unique())
        .addColumn("start", "text", (col) => col.notNull())
        .addColumn("last_four", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("revoked_at", "text")
        .execute();
      await db.schema.createIndex("api_keys_project_idx").on("api_keys").column("project_id").execute();

      await withAutoIncrementId(db.schema.createTable("connect_sessions"), dialect)
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("token_hash", "text", (col) => col.notNull().unique())
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("origin_owner_id", "text", (col) => col.notNull())
        .addColumn("origin_owner_name", "text", (col) => col.notNull())
        .addColumn("origin_username", "text")
        .addColumn("provider", "text")
        .addColumn("provider_version", "text")
        .addColumn("categories", "text")
        .addColumn("account_id", "text")
        .addColumn("integration_id", "text")
        .addColumn("metadata", "text")
        .addColumn("multiple", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("label", "text")
        .addColumn("type", "text")
        .addColumn("expires_at", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex("connect_sessions_project_expiry_idx")
        .on("connect_sessions")
        .columns(["project_id", "expires_at"])
        .execute();

      await db.schema
        .createTable("idempotency_keys")
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("idempotency_key", "text", (col) => col.notNull())
        .addColumn("operation", "text", (col) => col.notNull())
        .addColumn("request_hash", "text", (col) => col.notNull())
        .addColumn("response_status", "integer", (col) => col.notNull())
        .addColumn("response_body", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("expires_at", "text", (col) => col.notNull())
        .addPrimaryKeyConstraint("idempotency_keys_pk", ["project_id", "idempotency_key"])
        .execute();
      await db.schema
        .createIndex("idempotency_keys_expiry_idx")
        .on("idempotency_keys")
        .column("expires_at")
        .execute();
    },
  };
}
