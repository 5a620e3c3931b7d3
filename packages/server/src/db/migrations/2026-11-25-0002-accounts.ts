/**
 * Integrations (per-project provider settings), linked accounts, OAuth states, and the link
 * from a completed connect session to its account. Frozen once released.
 */
import type { Kysely } from "kysely";

export function accounts() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable("projects")
        .addColumn("allowed_origins", "text", (col) => col.notNull().defaultTo("[]"))
        .execute();

      await db.schema
        .createTable("integrations")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("provider", "text", (col) => col.notNull())
        .addColumn("enabled", "integer", (col) => col.notNull())
        .addColumn("client_id", "text")
        .addColumn("client_secret_sealed", "text")
        .addColumn("scopes", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .addUniqueConstraint("integrations_project_provider_unique", ["project_id", "provider"])
        .execute();

      await db.schema
        .createTable("linked_accounts")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("provider", "text", (col) => col.notNull())
        .addColumn("auth_type", "text", (col) => col.notNull())
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("status_reasons", "text")
        .addColumn("origin_owner_id", "text", (col) => col.notNull())
        .addColumn("origin_owner_name", "text", (col) => col.notNull())
        .addColumn("origin_username", "text")
        .addColumn("label", "text")
        .addColumn("type", "text")
        .addColumn("metadata", "text")
        .addColumn("setup_information", "text")
        .addColumn("credentials_sealed", "text", (col) => col.notNull())
        .addColumn("credentials_expires_at", "text")
        .addColumn("refresh_lease_until", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex("linked_accounts_project_owner_idx")
        .on("linked_accounts")
        .columns(["project_id", "origin_owner_id", "provider"])
        .execute();
      await db.schema
        .createIndex("linked_accounts_project_created_idx")
        .on("linked_accounts")
        .columns(["project_id", "created_at"])
        .execute();

      await db.schema.alterTable("connect_sessions").addColumn("connected_account_id", "text").execute();

      await db.schema
        .createTable("oauth_states")
        .addColumn("state_hash", "text", (col) => col.primaryKey())
        .addColumn("project_id", "text", (col) => col.notNull().references("projects.id"))
        .addColumn("session_id", "bigint", (col) => col.notNull())
        .addColumn("provider", "text", (col) => col.notNull())
        .addColumn("browser_binding_hash", "text", (col) => col.notNull())
        .addColumn("code_verifier_sealed", "text")
        .addColumn("redirect_uri", "text", (col) => col.notNull())
        .addColumn("setup_values", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("expires_at", "text", (col) => col.notNull())
        .addColumn("consumed_at", "text")
        .execute();
      await db.schema
        .createIndex("oauth_states_expiry_idx")
        .on("oauth_states")
        .column("expires_at")
        .execute();
    },
  };
}
