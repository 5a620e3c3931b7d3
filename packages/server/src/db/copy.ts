/**
 * Copies every row of Connect Hub's tables from one database to another: the way from SQLite
 * to PostgreSQL when one machine is outgrown (`connect-hub db copy --from ... --to ...`).
 *
 * The source must be at the current schema (it is only read: run `connect-hub migrate` on it
 * first); the target is migrated to it. The target must be empty; everything is
 * written in one transaction on the target, so a failed copy leaves it empty and can simply be
 * run again. Ids are kept as they are, and auto-increment counters are moved past them.
 * Stop the servers writing to the source first: rows written during the copy are not copied.
 * Sealed credentials and secrets are copied as they are: run the new servers with the same
 * ENCRYPTION_KEY.
 */
import type { Db } from "./database.js";
import { migrateToLatest, pendingMigrations } from "./database.js";
import { resetIdSequence } from "./dialect.js";
import type { Database } from "./schema.js";

interface CopiedTable {
  readonly name: keyof Database;
  /** Primary key columns: the copy reads in this order, so it pages stably. */
  readonly key: readonly string[];
  /** True when `id` is auto-incremented and its counter must move past the copied ids. */
  readonly autoIncrementId: boolean;
}

/** Every table, parents before children (foreign keys hold at each step). New tables go here. */
export const COPIED_TABLES: readonly CopiedTable[] = [
  { name: "organizations", key: ["id"], autoIncrementId: true },
  { name: "projects", key: ["id"], autoIncrementId: false },
  { name: "api_keys", key: ["id"], autoIncrementId: false },
  { name: "connect_sessions", key: ["id"], autoIncrementId: true },
  { name: "idempotency_keys", key: ["project_id", "idempotency_key"], autoIncrementId: false },
  { name: "integrations", key: ["id"], autoIncrementId: false },
  { name: "linked_accounts", key: ["id"], autoIncrementId: false },
  { name: "oauth_states", key: ["state_hash"], autoIncrementId: false },
  { name: "webhook_endpoints", key: ["id"], autoIncrementId: false },
  { name: "webhook_events", key: ["id"], autoIncrementId: false },
  { name: "webhook_deliveries", key: ["id"], autoIncrementId: true },
  { name: "webhook_attempts", key: ["id"], autoIncrementId: true },
  { name: "connection_attempts", key: ["id"], autoIncrementId: false },
  { name: "console_sign_in_links", key: ["id"], autoIncrementId: false },
  { name: "console_sessions", key: ["id"], autoIncrementId: false },
  { name: "audit_events", key: ["id"], autoIncrementId: false },
  { name: "project_daily_stats", key: ["project_id", "day"], autoIncrementId: false },
  { name: "account_events", key: ["id"], autoIncrementId: true },
];

export class CopyError extends Error {
  override readonly name = "CopyError";
}

/** Copies all rows; returns the number copied per table. */
export async function copyDatabase(
  from: Db,
  to: Db,
  options: { batchSize?: number; onTable?: (table: string, rows: number) => void } = {},
): Promise<Record<string, number>> {
  const batchSize = options.batchSize ?? 500;
  const pending = await pendingMigrations(from);
  if (pending.length > 0) {
    throw new CopyError(
      `the source database needs migrations (${pending.join(", ")}): run \`connect-hub migrate\` on it first`,
    );
  }
  await migrateToLatest(to);
  for (const table of COPIED_TABLES) {
    const { count } = await to.kysely
      .selectFrom(table.name)
      .select((eb) => eb.fn.countAll<string | number>().as("count"))
      .executeTakeFirstOrThrow();
    if (Number(count) > 0) {
      throw new CopyError(
        `the target database is not empty (${table.name} has ${count} rows); copy into a new database`,
      );
    }
  }
  const copied: Record<string, number> = {};
  await to.kysely.transaction().execute(async (trx) => {
    for (const table of COPIED_TABLES) {
      let total = 0;
      for (let offset = 0; ; offset += batchSize) {
        let query = from.kysely.selectFrom(table.name).selectAll();
        for (const column of table.key) query = query.orderBy(column as never);
        const rows = await query.limit(batchSize).offset(offset).execute();
        if (rows.length === 0) break;
        await trx
          .insertInto(table.name)
          .values(rows as never)
          .execute();
        total += rows.length;
        if (rows.length < batchSize) break;
      }
      if (table.autoIncrementId) await resetIdSequence(trx, to.dialect, table.name);
      copied[table.name] = total;
      options.onTable?.(table.name, total);
    }
  });
  return copied;
}
