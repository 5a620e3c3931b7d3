/**
 * The audit event of a CLI command that changes the database: actor type `cli`, as
 * `console link` records. The audit module is imported when a change is recorded, so
 * `--version` and the read-only commands stay light.
 */
import type { AuditEntry } from "../console/audit.js";
import type { Db } from "../db/database.js";

export const CLI_ACTOR = { type: "cli", id: "cli", display: "cli" } as const;

export async function recordCliChange(db: Db, entry: Omit<AuditEntry, "actor">): Promise<void> {
  const { AuditLog } = await import("../console/audit.js");
  await new AuditLog(db.kysely).record({ ...entry, actor: CLI_ACTOR });
}
