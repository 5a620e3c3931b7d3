/** SQL for linked accounts. Every call takes the project id: accounts never cross projects. */
import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, LinkedAccountTable } from "../db/schema.js";

export type LinkedAccountRow = Selectable<LinkedAccountTable>;

export interface AccountFilters {
  originOwnerIds?: readonly string[] | undefined;
  providers?: readonly string[] | undefined;
  accountIds?: readonly string[] | undefined;
  statuses?: readonly string[] | undefined;
  /** A substring of the origin owner id, origin owner name or label. */
  search?: string | undefined;
}

/** `%text%` for LIKE with `!` escaping the wildcards, lower-cased as the columns are. */
function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (char) => `!${char}`)}%`;
}

export async function insertAccount(db: Kysely<Database>, row: LinkedAccountRow): Promise<void> {
  await db.insertInto("linked_accounts").values(row).execute();
}

export async function findAccount(
  db: Kysely<Database>,
  projectId: string,
  accountId: string,
): Promise<LinkedAccountRow | undefined> {
  return db
    .selectFrom("linked_accounts")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("id", "=", accountId)
    .executeTakeFirst();
}

/** The most recent account of an origin owner with a provider (the one a new link updates). */
export async function findLatestAccountOfOwner(
  db: Kysely<Database>,
  projectId: string,
  originOwnerId: string,
  provider: string,
): Promise<LinkedAccountRow | undefined> {
  return db
    .selectFrom("linked_accounts")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("origin_owner_id", "=", originOwnerId)
    .where("provider", "=", provider)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .executeTakeFirst();
}

export async function listAccounts(
  db: Kysely<Database>,
  projectId: string,
  filters: AccountFilters,
  page: { offset: number; limit: number },
): Promise<LinkedAccountRow[]> {
  let query = db.selectFrom("linked_accounts").selectAll().where("project_id", "=", projectId);
  if (filters.originOwnerIds?.length)
    query = query.where("origin_owner_id", "in", [...filters.originOwnerIds]);
  if (filters.providers?.length) query = query.where("provider", "in", [...filters.providers]);
  if (filters.accountIds?.length) query = query.where("id", "in", [...filters.accountIds]);
  if (filters.statuses?.length)
    query = query.where("status", "in", [...filters.statuses] as LinkedAccountRow["status"][]);
  if (filters.search !== undefined) {
    const pattern = containsPattern(filters.search);
    query = query.where((eb) =>
      eb.or(
        (["origin_owner_id", "origin_owner_name", "label"] as const).map(
          (column) => sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '!'`,
        ),
      ),
    );
  }
  return query.orderBy("created_at").orderBy("id").limit(page.limit).offset(page.offset).execute();
}

export async function updateAccount(
  db: Kysely<Database>,
  projectId: string,
  accountId: string,
  changes: Partial<Omit<LinkedAccountRow, "id" | "project_id" | "created_at">>,
): Promise<void> {
  await db
    .updateTable("linked_accounts")
    .set(changes)
    .where("project_id", "=", projectId)
    .where("id", "=", accountId)
    .execute();
}

export async function deleteAccount(
  db: Kysely<Database>,
  projectId: string,
  accountId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("linked_accounts")
    .where("project_id", "=", projectId)
    .where("id", "=", accountId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Takes the right to refresh an account's OAuth token until `until`, in one atomic statement:
 * of several processes asking at once, exactly one gets it.
 */
export async function acquireRefreshLease(
  db: Kysely<Database>,
  projectId: string,
  accountId: string,
  now: string,
  until: string,
): Promise<boolean> {
  const result = await db
    .updateTable("linked_accounts")
    .set({ refresh_lease_until: until })
    .where("project_id", "=", projectId)
    .where("id", "=", accountId)
    .where((eb) => eb.or([eb("refresh_lease_until", "is", null), eb("refresh_lease_until", "<", now)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
