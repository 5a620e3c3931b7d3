/**
 * Re-sealing after a key rotation: every sealed value not yet under the current key is opened
 * with the key it names and sealed again with the current one, so the retired key can then be
 * removed from ENCRYPTION_KEY. Safe while servers run: each row is rewritten only if it still
 * holds the value that was read (a concurrent change wins and is left alone).
 */
import { type Kysely, sql } from "kysely";
import { credentialsContext } from "../accounts/service.js";
import type { Database } from "../db/schema.js";
import { clientSecretContext } from "../integrations/service.js";
import { secretContext as webhookSecretContext } from "../webhooks/service.js";
import type { SecretBox } from "./secrets.js";

interface SealedColumn {
  readonly table: keyof Database;
  readonly column: string;
  /** The associated data the value was sealed with, from its row id. */
  readonly context: (id: string) => string;
}

/** Every column holding a value sealed under ENCRYPTION_KEY. New sealed columns go here. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: "linked_accounts", column: "credentials_sealed", context: credentialsContext },
  { table: "integrations", column: "client_secret_sealed", context: clientSecretContext },
  { table: "webhook_endpoints", column: "secret_sealed", context: webhookSecretContext },
  { table: "webhook_endpoints", column: "previous_secret_sealed", context: webhookSecretContext },
];

/** Re-seals in batches; returns how many values each `table.column` had re-sealed. */
export async function resealAll(
  db: Kysely<Database>,
  secrets: SecretBox,
  batchSize = 200,
): Promise<Record<string, number>> {
  const current = `v1.${secrets.currentKeyId}.%`;
  const report: Record<string, number> = {};
  for (const { table, column, context } of SEALED_COLUMNS) {
    let count = 0;
    const skipped = new Set<string>();
    for (;;) {
      const { rows } = await sql<{ id: string; sealed: string }>`
        select id, ${sql.ref(column)} as sealed from ${sql.table(table)}
        where ${sql.ref(column)} is not null and ${sql.ref(column)} not like ${current}
        order by id limit ${batchSize + skipped.size}`.execute(db);
      const due = rows.filter((row) => !skipped.has(row.id));
      if (due.length === 0) break;
      for (const row of due) {
        const resealed = secrets.seal(secrets.open(row.sealed, context(row.id)), context(row.id));
        const result = await sql`
          update ${sql.table(table)} set ${sql.ref(column)} = ${resealed}
          where id = ${row.id} and ${sql.ref(column)} = ${row.sealed}`.execute(db);
        if (Number(result.numAffectedRows ?? 0) > 0) count += 1;
        else skipped.add(row.id);
      }
    }
    report[`${table}.${column}`] = count;
  }
  return report;
}
