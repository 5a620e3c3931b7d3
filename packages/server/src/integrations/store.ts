/** SQL for integrations: one row per project and provider. */
import type { Kysely, Selectable } from "kysely";
import type { Database, IntegrationTable } from "../db/schema.js";

export type IntegrationRow = Selectable<IntegrationTable>;

export async function findIntegration(
  db: Kysely<Database>,
  projectId: string,
  provider: string,
): Promise<IntegrationRow | undefined> {
  return db
    .selectFrom("integrations")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("provider", "=", provider)
    .executeTakeFirst();
}

export async function listIntegrations(db: Kysely<Database>, projectId: string): Promise<IntegrationRow[]> {
  return db
    .selectFrom("integrations")
    .selectAll()
    .where("project_id", "=", projectId)
    .orderBy("provider")
    .execute();
}

export async function listEnabledIntegrations(
  db: Kysely<Database>,
  projectId: string,
): Promise<IntegrationRow[]> {
  return db
    .selectFrom("integrations")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("enabled", "=", 1)
    .orderBy("provider")
    .execute();
}

export async function insertIntegration(db: Kysely<Database>, row: IntegrationRow): Promise<void> {
  await db.insertInto("integrations").values(row).execute();
}

export async function updateIntegration(
  db: Kysely<Database>,
  projectId: string,
  provider: string,
  changes: Partial<Omit<IntegrationRow, "id" | "project_id" | "provider" | "created_at">>,
): Promise<void> {
  await db
    .updateTable("integrations")
    .set(changes)
    .where("project_id", "=", projectId)
    .where("provider", "=", provider)
    .execute();
}

export async function deleteIntegration(
  db: Kysely<Database>,
  projectId: string,
  provider: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("integrations")
    .where("project_id", "=", projectId)
    .where("provider", "=", provider)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
