/**
 * The migration list, bundled in code so `connect-hub migrate` and start-up run the same set.
 * Names sort by date; a released migration is never edited.
 */
import type { Migration, MigrationProvider } from "kysely";
import type { DialectName } from "../dialect.js";
import { initial } from "./2026-11-25-0001-initial.js";
import { accounts } from "./2026-11-25-0002-accounts.js";
import { sweepIndexes } from "./2026-11-26-0001-sweep-indexes.js";
import { webhooks } from "./2026-11-27-0001-webhooks.js";
import { connectionAttempts } from "./2026-12-01-0001-connection-attempts.js";
import { integrationVerification } from "./2026-12-01-0001-integration-verification.js";
import { projectTheme } from "./2026-12-01-0002-project-theme.js";
import { console as consoleTables } from "./2026-12-02-0001-console.js";
import { consoleData } from "./2026-12-02-0002-console-data.js";

export function migrationProvider(dialect: DialectName): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        "2026-11-25-0001-initial": initial(dialect),
        "2026-11-25-0002-accounts": accounts(),
        "2026-11-26-0001-sweep-indexes": sweepIndexes,
        "2026-11-27-0001-webhooks": webhooks(dialect),
        "2026-12-01-0001-connection-attempts": connectionAttempts,
        "2026-12-01-0001-integration-verification": integrationVerification,
        "2026-12-01-0002-project-theme": projectTheme,
        "2026-12-02-0001-console": consoleTables,
        "2026-12-02-0002-console-data": consoleData(dialect),
      };
    },
  };
}
