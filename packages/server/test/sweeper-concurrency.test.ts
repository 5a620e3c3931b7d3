/**
 * Several sweepers at once, on every database: each due row is handled by exactly one batch,
 * and no batch handles more than its limit.
 *
 * On PostgreSQL the sweepers' connections turn off hash and merge joins and materialisation,
 * so the planner runs a batch's "which rows" subquery again for each row of the outer scan (a
 * nested-loop semi-join): a batch written as a plain `in (subquery ... limit N for update skip
 * locked)` then takes every due row, while one picking its rows once (a materialized CTE)
 * takes N. On SQLite the extra sweepers' connections wait for no lock (busy_timeout 0): a
 * batch that meets another's write lock fails at once and is tried again, rather than
 * blocking the one event loop every connection shares for the whole busy timeout.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { hashToken } from "../src/crypto/tokens.js";
import { type Db, migrateToLatest, openDatabase } from "../src/db/database.js";
import { sweepTasks } from "../src/maintenance/sweeper.js";
import { TenancyService } from "../src/tenancy/service.js";
import {
  createTestPostgresDatabase,
  skipDialect,
  TEST_DIALECTS,
  type TestPostgresDatabase,
} from "./support/postgres.js";

const NOW = new Date("2026-11-25T12:00:00.000Z");
const LONG_AGO = "2024-01-01T00:00:00.000Z";
const ROWS = 40;
const LIMIT = 6;
const SWEEPERS = 3;

/** Planner settings under which PostgreSQL reruns an `in (subquery)` for every outer row. */
const RESCANNING_PLANS =
  "-c enable_hashjoin=off -c enable_mergejoin=off -c enable_material=off -c enable_hashagg=off -c enable_sort=off -c enable_indexscan=off -c enable_bitmapscan=off";

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`concurrent sweepers on ${dialect}`, () => {
    let db: Db;
    let dataDir: string;
    let postgres: TestPostgresDatabase | undefined;
    let url: string;
    let projectId: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-sweepers-"));
      postgres = dialect === "postgres" ? await createTestPostgresDatabase() : undefined;
      url = postgres?.url ?? `file:${path.join(dataDir, "sweepers.sqlite")}`;
      db = openDatabase(loadConfig({ DATABASE_URL: url }).database);
      await migrateToLatest(db);
      projectId = (await new TenancyService(db.kysely).ensureProject("org", "sweepers")).id;
    });

    afterAll(async () => {
      await db?.close();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** Every sweep task's table gets ROWS due rows. */
    async function seedDueRows(): Promise<void> {
      const ids = Array.from({ length: ROWS }, (_, i) => i);
      await db.kysely
        .insertInto("connect_sessions")
        .values(
          ids.map((i) => ({
            project_id: projectId,
            token_hash: hashToken(`chs_sweep_${i}_${crypto.randomUUID()}`),
            status: "pending" as const,
            origin_owner_id: `owner-${i}`,
            origin_owner_name: "Owner",
            origin_username: null,
            provider: null,
            provider_version: null,
            categories: JSON.stringify(["hris"]),
            account_id: null,
            integration_id: null,
            metadata: null,
            multiple: 0,
            label: null,
            type: "production",
            expires_at: LONG_AGO,
            created_at: LONG_AGO,
            updated_at: LONG_AGO,
            connected_account_id: null,
            opened_at: null,
          })),
        )
        .execute();
      await db.kysely
        .insertInto("idempotency_keys")
        .values(
          ids.map((i) => ({
            project_id: projectId,
            idempotency_key: `key-${i}-${crypto.randomUUID()}`,
            operation: "create",
            request_hash: "h",
            response_status: 201,
            response_body: "{}",
            created_at: LONG_AGO,
            expires_at: LONG_AGO,
          })),
        )
        .execute();
      await db.kysely
        .insertInto("console_sign_in_links")
        .values(
          ids.map((i) => ({
            id: crypto.randomUUID(),
            token_hash: hashToken(`chl_${i}_${crypto.randomUUID()}`),
            project_id: null,
            role: "admin" as const,
            created_by: "cli",
            created_at: LONG_AGO,
            expires_at: LONG_AGO,
            consumed_at: null,
          })),
        )
        .execute();
      await db.kysely
        .insertInto("console_sessions")
        .values(
          ids.map((i) => ({
            id: crypto.randomUUID(),
            token_hash: hashToken(`chc_${i}_${crypto.randomUUID()}`),
            csrf_hash: hashToken(`csrf_${i}`),
            role: "admin" as const,
            project_id: null,
            operator_subject: "cli",
            operator_email: null,
            method: "link" as const,
            ip: null,
            user_agent: null,
            created_at: LONG_AGO,
            // Half ran out, half were revoked long ago (and would still be valid today).
            expires_at: i % 2 ? LONG_AGO : "2099-01-01T00:00:00.000Z",
            revoked_at: i % 2 ? null : LONG_AGO,
            last_seen_at: LONG_AGO,
          })),
        )
        .execute();
      await db.kysely
        .insertInto("audit_events")
        .values(
          ids.map(() => ({
            id: crypto.randomUUID(),
            project_id: projectId,
            occurred_at: LONG_AGO,
            actor_type: "cli" as const,
            actor_id: "cli",
            actor_display: "CLI",
            action: "api_key.create",
            target_type: null,
            target_id: null,
            ip: null,
            user_agent: null,
            request_id: null,
            details: "{}",
          })),
        )
        .execute();
      await db.kysely
        .insertInto("account_events")
        .values(
          ids.map((i) => ({
            project_id: projectId,
            // Of an account that no longer exists; the first half also older than the retention.
            account_id: `deleted-account-${i}`,
            type: "created",
            occurred_at: i < ROWS / 2 ? LONG_AGO : NOW.toISOString(),
            status_before: null,
            status_after: "active" as const,
            reason_code: null,
            reason_description: null,
            details: null,
          })),
        )
        .execute();
    }

    /** A connection of its own, as another process's sweeper would have. */
    async function sweeperConnection(): Promise<Db> {
      if (dialect === "postgres") {
        const forced = new URL(url);
        forced.searchParams.set("options", RESCANNING_PLANS);
        return openDatabase(loadConfig({ DATABASE_URL: forced.toString() }).database);
      }
      const handle = openDatabase(loadConfig({ DATABASE_URL: url }).database);
      await sql`pragma busy_timeout = 0`.execute(handle.kysely);
      return handle;
    }

    const isBusy = (error: unknown) => (error as { code?: string }).code?.startsWith("SQLITE_BUSY") === true;

    it("handles each due row in exactly one batch, and no batch more than its limit", async () => {
      await seedDueRows();
      const tasks = sweepTasks({ sessionRetentionSeconds: 0 }, { auditRetentionSeconds: 86_400 });
      const handles = await Promise.all(Array.from({ length: SWEEPERS }, sweeperConnection));
      const batches: Record<string, number[]> = {};
      try {
        // Every sweeper runs every task, batch after batch, as Sweeper.pass does.
        await Promise.all(
          handles.map(async (handle) => {
            for (const task of tasks) {
              for (;;) {
                let handled: number;
                try {
                  handled = await task.sweepBatch(handle, NOW, LIMIT);
                } catch (error) {
                  if (!isBusy(error)) throw error;
                  await nextTurn();
                  continue;
                }
                if (handled > 0) batches[task.name] = [...(batches[task.name] ?? []), handled];
                if (handled < LIMIT) break;
                await nextTurn();
              }
            }
          }),
        );
      } finally {
        await Promise.all(handles.map((handle) => handle.close()));
      }
      const sum = (counts: number[] | undefined) => (counts ?? []).reduce((total, n) => total + n, 0);
      for (const name of [
        "expire_connect_sessions",
        "delete_expired_connect_sessions",
        "delete_expired_idempotency_records",
        "delete_expired_console_sign_in_links",
        "delete_ended_console_sessions",
        "delete_old_audit_events",
        "delete_old_account_history",
      ]) {
        expect({ name, over: batches[name]?.filter((n) => n > LIMIT) }).toEqual({ name, over: [] });
        expect({ name, handled: sum(batches[name]) }).toEqual({ name, handled: ROWS });
      }
      const left = async (
        table: "connect_sessions" | "console_sessions" | "audit_events" | "account_events",
      ) =>
        Number(
          (
            await db.kysely
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        );
      expect(await left("connect_sessions")).toBe(0);
      expect(await left("console_sessions")).toBe(0);
      expect(await left("audit_events")).toBe(0);
      expect(await left("account_events")).toBe(0);
    });

    it("keeps what is not yet due: a console session revoked within the grace, a recent audit event", async () => {
      const recent = NOW.toISOString();
      const sessionId = crypto.randomUUID();
      await db.kysely
        .insertInto("console_sessions")
        .values({
          id: sessionId,
          token_hash: hashToken(`chc_${crypto.randomUUID()}`),
          csrf_hash: hashToken("csrf"),
          role: "viewer",
          project_id: projectId,
          operator_subject: "op",
          operator_email: null,
          method: "link",
          ip: null,
          user_agent: null,
          created_at: recent,
          // Revoked an hour ago: still inside the day of grace.
          expires_at: "2099-01-01T00:00:00.000Z",
          revoked_at: new Date(NOW.getTime() - 3_600_000).toISOString(),
          last_seen_at: recent,
        })
        .execute();
      await db.kysely
        .insertInto("audit_events")
        .values({
          id: crypto.randomUUID(),
          project_id: projectId,
          occurred_at: recent,
          actor_type: "cli",
          actor_id: "cli",
          actor_display: "CLI",
          action: "api_key.create",
          target_type: null,
          target_id: null,
          ip: null,
          user_agent: null,
          request_id: null,
          details: "{}",
        })
        .execute();
      const tasks = sweepTasks({ sessionRetentionSeconds: 0 }, { auditRetentionSeconds: 86_400 });
      for (const task of tasks) await task.sweepBatch(db, NOW, LIMIT);
      const kept = await db.kysely.selectFrom("console_sessions").select("id").execute();
      expect(kept.map((row) => row.id)).toEqual([sessionId]);
      expect(await db.kysely.selectFrom("audit_events").select("id").execute()).toHaveLength(1);
    });
  });
}
