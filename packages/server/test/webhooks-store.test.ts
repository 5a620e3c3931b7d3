/**
 * The webhook outbox and delivery claims, called directly on every database: events commit or
 * roll back with the change they describe, and concurrent dispatchers (separate connections,
 * as separate processes would have) never claim one delivery twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type Db, migrateToLatest, openDatabase } from "../src/db/database.js";
import { Sweeper } from "../src/maintenance/sweeper.js";
import { TenancyService } from "../src/tenancy/service.js";
import { WebhookOutbox } from "../src/webhooks/outbox.js";
import * as store from "../src/webhooks/store.js";
import {
  createTestPostgresDatabase,
  skipDialect,
  TEST_DIALECTS,
  type TestPostgresDatabase,
} from "./support/postgres.js";

const NOW = "2026-11-27T12:00:00.000Z";
const at = (iso: string) => () => new Date(iso);

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`webhook outbox on ${dialect}`, () => {
    let db: Db;
    let url: string;
    let dataDir: string;
    let postgres: TestPostgresDatabase | undefined;
    let projectId: string;
    const outbox = new WebhookOutbox(at(NOW), "string");

    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-webhook-store-"));
      postgres = dialect === "postgres" ? await createTestPostgresDatabase() : undefined;
      url = postgres?.url ?? `file:${path.join(dataDir, "store.sqlite")}`;
      db = openDatabase(loadConfig({ DATABASE_URL: url }).database);
      await migrateToLatest(db);
      projectId = (await new TenancyService(db.kysely).ensureProject("org", "webhook-store")).id;
    });
    afterAll(async () => {
      await db.close();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    async function addEndpoint(options: { events?: string[]; enabled?: boolean } = {}): Promise<string> {
      const id = `whe_${crypto.randomUUID()}`;
      await store.insertEndpoint(db.kysely, {
        id,
        project_id: projectId,
        url: "https://hooks.example.com/in",
        description: null,
        event_types: JSON.stringify(options.events ?? ["*"]),
        enabled: options.enabled === false ? 0 : 1,
        disabled_reason: null,
        secret_sealed: "v1.test.sealed",
        previous_secret_sealed: null,
        previous_secret_expires_at: null,
        consecutive_failures: 0,
        failing_since: null,
        created_at: NOW,
        updated_at: NOW,
      });
      return id;
    }
    const deliveriesOf = (eventId: string) =>
      db.kysely.selectFrom("webhook_deliveries").selectAll().where("event_id", "=", eventId).execute();

    it("fans an event out to the enabled endpoints subscribed to it, in the caller's transaction", async () => {
      const all = await addEndpoint();
      const deletedOnly = await addEndpoint({ events: ["account.deleted"] });
      const disabled = await addEndpoint({ enabled: false });
      const eventId = await db.kysely
        .transaction()
        .execute((trx) => outbox.record(trx, projectId, "account.created", { account: { id: "acc_1" } }));
      const endpoints = (await deliveriesOf(eventId as string)).map((d) => d.endpoint_id);
      expect(endpoints).toContain(all);
      expect(endpoints).not.toContain(deletedOnly);
      expect(endpoints).not.toContain(disabled);
      const [event] = await store.findEvents(db.kysely, [eventId as string]);
      expect(JSON.parse(event?.payload ?? "")).toEqual({
        type: "account.created",
        timestamp: NOW,
        data: { account: { id: "acc_1" } },
      });
    });

    it("leaves nothing behind when the change's transaction rolls back", async () => {
      await addEndpoint();
      let eventId: string | undefined;
      await expect(
        db.kysely.transaction().execute(async (trx) => {
          eventId = await outbox.record(trx, projectId, "account.deleted", { account: { id: "acc_2" } });
          throw new Error("the change failed");
        }),
      ).rejects.toThrow("the change failed");
      expect(eventId).toMatch(/^msg_/);
      expect(await store.findEvents(db.kysely, [eventId as string])).toEqual([]);
      expect(await deliveriesOf(eventId as string)).toEqual([]);
    });

    it.skipIf(dialect !== "sqlite")(
      "polls without the write lock when nothing is due, so a backup holding it stalls nothing",
      async () => {
        // No lock wait at all: a poll that tried to write would fail at once with SQLITE_BUSY.
        const impatient = openDatabase(
          loadConfig({ DATABASE_URL: url, SQLITE_BUSY_TIMEOUT: "0ms" }).database,
        );
        const backup = new SQLite(url.slice("file:".length));
        try {
          backup.exec("BEGIN EXCLUSIVE");
          const longAgo = "2000-01-01T00:00:00.000Z";
          await expect(
            store.claimDueDeliveries(impatient.kysely, "sqlite", longAgo, longAgo, 10),
          ).resolves.toEqual([]);
        } finally {
          backup.exec("ROLLBACK");
          backup.close();
          await impatient.close();
        }
      },
    );

    it("gives each due delivery to one of several concurrent dispatchers", async () => {
      await db.kysely.deleteFrom("webhook_deliveries").execute();
      const endpoint = await addEndpoint();
      const eventId = await db.kysely
        .transaction()
        .execute((trx) => outbox.record(trx, projectId, "account.updated", { n: 0 }));
      const rows = Array.from({ length: 60 }, () => ({
        project_id: projectId,
        event_id: eventId as string,
        endpoint_id: endpoint,
        status: "pending" as const,
        attempts: 0,
        next_attempt_at: NOW,
        locked_until: null,
        created_at: NOW,
        updated_at: NOW,
      }));
      await store.insertDeliveries(db.kysely, rows);
      const due = Number(
        (
          await db.kysely
            .selectFrom("webhook_deliveries")
            .select((eb) => eb.fn.countAll<string | number>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
      const handles = [
        db,
        openDatabase(loadConfig({ DATABASE_URL: url }).database),
        openDatabase(loadConfig({ DATABASE_URL: url }).database),
      ];
      try {
        const claimedBy = await Promise.all(
          handles.map(async (handle) => {
            const mine: number[] = [];
            for (;;) {
              const batch = await store.claimDueDeliveries(
                handle.kysely,
                handle.dialect,
                NOW,
                "2026-11-27T12:01:00.000Z",
                7,
              );
              if (!batch.length) return mine;
              // A claim never takes more than it asked for (a rescanned subquery once did).
              expect(batch.length).toBeLessThanOrEqual(7);
              mine.push(...batch.map((d) => d.id));
            }
          }),
        );
        const all = claimedBy.flat();
        expect(all).toHaveLength(due);
        expect(new Set(all).size).toBe(due);
      } finally {
        await Promise.all(handles.slice(1).map((handle) => handle.close()));
      }
      // Claimed until 12:01: not due before, due again after (the claimer may have died).
      expect(
        await store.claimDueDeliveries(
          db.kysely,
          db.dialect,
          "2026-11-27T12:00:30.000Z",
          "2026-11-27T12:02:00.000Z",
          100,
        ),
      ).toEqual([]);
      const lapsed = await store.claimDueDeliveries(
        db.kysely,
        db.dialect,
        "2026-11-27T12:01:00.000Z",
        "2026-11-27T12:02:00.000Z",
        100,
      );
      expect(lapsed).toHaveLength(due);
    });

    // Forced overlap: the second claim runs while the first is inside its open transaction, so
    // a claim that did not skip or recheck the rows another dispatcher holds takes them too.
    // (SQLite has one writer at a time: there, the lease check above is what keeps claims apart.)
    it.skipIf(dialect !== "postgres")(
      "keeps a claim made while another dispatcher's claim is uncommitted off that one's rows",
      async () => {
        await db.kysely.deleteFrom("webhook_deliveries").execute();
        const endpoint = await addEndpoint();
        const eventId = await db.kysely
          .transaction()
          .execute((trx) => outbox.record(trx, projectId, "account.updated", { n: 1 }));
        await db.kysely.deleteFrom("webhook_deliveries").execute();
        await store.insertDeliveries(
          db.kysely,
          Array.from({ length: 20 }, () => ({
            project_id: projectId,
            event_id: eventId as string,
            endpoint_id: endpoint,
            status: "pending" as const,
            attempts: 0,
            next_attempt_at: NOW,
            locked_until: null,
            created_at: NOW,
            updated_at: NOW,
          })),
        );
        const other = openDatabase(loadConfig({ DATABASE_URL: url }).database);
        const holder = await db.kysely.startTransaction().execute();
        try {
          const first = await store.claimDueDeliveries(
            holder,
            db.dialect,
            NOW,
            "2026-11-27T12:01:00.000Z",
            8,
          );
          expect(first).toHaveLength(8);
          const second = store.claimDueDeliveries(
            other.kysely,
            other.dialect,
            NOW,
            "2026-11-27T12:01:00.000Z",
            100,
          );
          // Until the second claim has either answered or is waiting on the first one's row locks.
          let settled = false;
          void second.finally(() => {
            settled = true;
          });
          for (;;) {
            if (settled) break;
            const { rows } = await sql<{ n: string }>`
              select count(*) as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'`.execute(db.kysely);
            if (Number(rows[0]?.n) > 0) break;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          await holder.commit().execute();
          const firstIds = new Set(first.map((delivery) => delivery.id));
          const overlap = (await second).filter((delivery) => firstIds.has(delivery.id));
          expect(overlap).toEqual([]);
        } finally {
          await holder
            .rollback()
            .execute()
            .catch(() => {});
          await other.close();
        }
      },
    );

    it("sweeps finished deliveries, their attempts and their events after the retention period", async () => {
      const endpoint = await addEndpoint({ events: ["connect_session.expired"] });
      const eventId = (await db.kysely
        .transaction()
        .execute((trx) => outbox.record(trx, projectId, "connect_session.expired", {}))) as string;
      const deliveries = await deliveriesOf(eventId);
      expect(deliveries.map((d) => d.endpoint_id)).toContain(endpoint);
      for (const delivery of deliveries) {
        await store.settleDelivery(db.kysely, Number(delivery.id), {
          status: "succeeded",
          attempts: 1,
          next_attempt_at: NOW,
          updated_at: NOW,
        });
        await store.insertAttempt(db.kysely, {
          project_id: projectId,
          endpoint_id: delivery.endpoint_id,
          delivery_id: Number(delivery.id),
          event_id: eventId,
          event_type: "connect_session.expired",
          attempted_at: NOW,
          status_code: 204,
          latency_ms: 3,
          succeeded: 1,
          error: null,
        });
      }
      const sweeperConfig = { intervalSeconds: 0, batchSize: 50, sessionRetentionSeconds: 3600 };
      await new Sweeper(db, sweeperConfig, { clock: at(NOW), webhookRetentionSeconds: 86_400 }).sweepOnce();
      expect(await deliveriesOf(eventId)).toHaveLength(deliveries.length);
      await new Sweeper(db, sweeperConfig, {
        clock: at("2026-11-28T12:00:01.000Z"),
        webhookRetentionSeconds: 86_400,
      }).sweepOnce();
      expect(await deliveriesOf(eventId)).toEqual([]);
      expect(await store.findEvents(db.kysely, [eventId])).toEqual([]);
      expect(await store.listAttempts(db.kysely, projectId, endpoint, { offset: 0, limit: 10 })).toEqual([]);
    });
  });
}
