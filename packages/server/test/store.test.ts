/**
 * The storage layer, written once and run against every database: SQLite on every run,
 * PostgreSQL whenever one is reachable (always in CI). Stores are called directly, with the
 * same project-scoping and id rules the services rely on.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import * as sessions from "../src/connect-sessions/store.js";
import {
  hashToken,
  issueTimeOrderedToken,
  TOKEN_PREFIX,
  timeOrderedTokenKeys,
} from "../src/crypto/tokens.js";
import { type Db, migrateToLatest, openDatabase, pendingMigrations } from "../src/db/database.js";
import { isUniqueViolation } from "../src/db/dialect.js";
import * as idempotency from "../src/idempotency/store.js";
import { Sweeper } from "../src/maintenance/sweeper.js";
import * as oauthStates from "../src/oauth/store.js";
import { TenancyService } from "../src/tenancy/service.js";
import * as tenancy from "../src/tenancy/store.js";
import { type DriverProbe, driverProbe } from "./support/driver-probe.js";
import {
  createTestPostgresDatabase,
  skipDialect,
  TEST_DIALECTS,
  type TestPostgresDatabase,
} from "./support/postgres.js";

const NOW = "2026-11-25T12:00:00.000Z";
const LATER = "2026-11-25T13:00:00.000Z";

function newSession(projectId: string, overrides: Partial<sessions.NewConnectSession> = {}) {
  const token = `chs_${crypto.randomUUID()}`;
  return {
    project_id: projectId,
    token_hash: hashToken(token),
    status: "pending" as const,
    origin_owner_id: "owner",
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
    expires_at: LATER,
    created_at: NOW,
    updated_at: NOW,
    connected_account_id: null,
    opened_at: null,
    ...overrides,
  };
}

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`stores on ${dialect}`, () => {
    let db: Db;
    let dataDir: string;
    let postgres: TestPostgresDatabase | undefined;
    let projectId: string;
    let otherProjectId: string;
    const probe: DriverProbe = driverProbe();

    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-store-"));
      postgres = dialect === "postgres" ? await createTestPostgresDatabase() : undefined;
      const url = postgres?.url ?? `file:${path.join(dataDir, "store.sqlite")}`;
      // A pool of 2 commits one batch at a time on PostgreSQL too, so batch counts are exact.
      db = openDatabase(loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: "2" }).database, {
        wrapDriver: probe.wrap,
      });
      expect(await pendingMigrations(db)).not.toHaveLength(0);
      await migrateToLatest(db);
      const service = new TenancyService(db.kysely);
      projectId = (await service.ensureProject("org", "one")).id;
      otherProjectId = (await service.ensureProject("org", "two")).id;
    });
    afterAll(async () => {
      await db?.close();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("migrates once and knows it is current", async () => {
      expect(db.dialect).toBe(dialect);
      expect(await migrateToLatest(db)).toEqual([]);
      expect(await pendingMigrations(db)).toEqual([]);
    });

    describe("tenancy", () => {
      it("creates an organization once and returns numeric ids", async () => {
        const first = await tenancy.insertOrganization(db.kysely, "acme", NOW);
        const again = await tenancy.insertOrganization(db.kysely, "acme", LATER);
        expect(first).toEqual(again);
        expect(typeof first.id).toBe("number");
        const project = await new TenancyService(db.kysely).ensureProject("acme", "p");
        expect(project).toMatchObject({ organizationId: first.id, name: "p", organizationName: "acme" });
        expect(await new TenancyService(db.kysely).ensureProject("acme", "p")).toEqual(project);
      });

      it("finds a principal by key hash until the key is revoked", async () => {
        const hash = hashToken(`chk_${crypto.randomUUID()}`);
        const id = `key_${crypto.randomUUID()}`;
        await tenancy.insertApiKey(db.kysely, {
          id,
          projectId,
          keyHash: hash,
          start: "chk_abcd",
          lastFour: "wxyz",
          createdAt: NOW,
        });
        const principal = await tenancy.findPrincipalByApiKeyHash(db.kysely, hash);
        expect(principal).toEqual({
          apiKeyId: id,
          projectId,
          organizationId: expect.any(Number),
          role: "admin",
          actor: { type: "api_key", id, display: "chk_…wxyz" },
        });
        expect((await tenancy.listApiKeys(db.kysely)).find((k) => k.id === id)).toMatchObject({
          start: "chk_abcd",
          lastFour: "wxyz",
          revokedAt: null,
        });
        expect(await tenancy.revokeApiKey(db.kysely, id, LATER)).toBe(true);
        expect(await tenancy.revokeApiKey(db.kysely, id, LATER)).toBe(false);
        expect(await tenancy.findPrincipalByApiKeyHash(db.kysely, hash)).toBeUndefined();
      });
    });

    describe("connect sessions", () => {
      it("returns numeric ids that grow", async () => {
        const a = await sessions.insertConnectSession(db.kysely, newSession(projectId));
        const b = await sessions.insertConnectSession(db.kysely, newSession(projectId));
        expect(typeof a.id).toBe("number");
        expect(b.id).toBeGreaterThan(a.id);
      });

      it("keeps time-ordered token keys in issue order in the token index, so new keys go at its end", async () => {
        const start = Date.parse(NOW);
        const issued = Array.from({ length: 40 }, (_, i) =>
          issueTimeOrderedToken(TOKEN_PREFIX.connectSession, new Date(start + i * 7)),
        );
        // Inserted in a shuffled order: the database's own ordering of the keys must restore it.
        const shuffled = [...issued].sort(() => Math.random() - 0.5);
        await sessions.insertConnectSessions(
          db.kysely,
          shuffled.map(({ hash }) => newSession(projectId, { token_hash: hash })),
        );
        const ordered = await db.kysely
          .selectFrom("connect_sessions")
          .select("token_hash")
          .where(
            "token_hash",
            "in",
            issued.map(({ hash }) => hash),
          )
          .orderBy("token_hash")
          .execute();
        expect(ordered.map((row) => row.token_hash)).toEqual(issued.map(({ hash }) => hash));
        const [first] = issued;
        const found = await sessions.findLiveConnectSessionByTokenKeys(
          db.kysely,
          projectId,
          timeOrderedTokenKeys((first as { token: string }).token, TOKEN_PREFIX.connectSession),
          NOW,
        );
        expect(found?.token_hash).toBe(first?.hash);
      });

      it("finds a live session by token hash only in its project and before expiry", async () => {
        const row = newSession(projectId, { metadata: JSON.stringify({ a: 1 }) });
        const stored = await sessions.insertConnectSession(db.kysely, row);
        const find = (project: string, now: string) =>
          sessions.findLiveConnectSessionByTokenKeys(db.kysely, project, [row.token_hash], now);
        expect(await find(projectId, NOW)).toEqual(stored);
        expect(await find(otherProjectId, NOW)).toBeUndefined();
        expect(await find(projectId, LATER)).toBeUndefined();
        expect(await find(projectId, "2026-11-25T12:59:59.999Z")).toBeDefined();
      });

      it("never reads another request's uncommitted write, even while its transaction is open", async () => {
        // The database as the server opens it (no driver probe), so hot reads take their fast path.
        const url = postgres?.url ?? `file:${path.join(dataDir, "store.sqlite")}`;
        const served = openDatabase(loadConfig({ DATABASE_URL: url }).database);
        try {
          const row = newSession(projectId);
          let reading: Promise<unknown> | undefined;
          const rolledBack = await served.kysely
            .transaction()
            .execute(async (trx) => {
              await sessions.insertConnectSession(trx, row);
              // A read on the database itself while the transaction holds SQLite's one
              // connection: it must wait its turn, not run inside the open transaction.
              reading = sessions.findLiveConnectSessionByTokenKeys(
                served.kysely,
                projectId,
                [row.token_hash],
                NOW,
              );
              await new Promise((resolve) => setImmediate(resolve));
              throw new Error("roll back");
            })
            .catch((error: Error) => error.message);
          expect(rolledBack).toBe("roll back");
          expect(await reading).toBeUndefined();
          const stored = await sessions.insertConnectSession(served.kysely, row);
          expect(
            await sessions.findLiveConnectSessionByTokenKeys(served.kysely, projectId, [row.token_hash], NOW),
          ).toEqual(stored);
        } finally {
          await served.close();
        }
      });

      it("refuses a duplicate token hash as a unique violation", async () => {
        const row = newSession(projectId);
        await sessions.insertConnectSession(db.kysely, row);
        const duplicate = await sessions
          .insertConnectSession(db.kysely, row)
          .catch((error: unknown) => error);
        expect(isUniqueViolation(duplicate)).toBe(true);
      });
    });

    describe("idempotency records", () => {
      const record = (key: string, expiresAt = LATER) => ({
        project_id: projectId,
        idempotency_key: hashToken(key),
        operation: "op",
        request_hash: "h",
        response_status: 201,
        response_body: "sealed",
        created_at: NOW,
        expires_at: expiresAt,
      });

      it("stores one record per project and key, live until it expires", async () => {
        const key = crypto.randomUUID();
        await idempotency.insertIdempotencyRecord(db.kysely, record(key));
        const duplicate = await idempotency
          .insertIdempotencyRecord(db.kysely, record(key))
          .catch((error: unknown) => error);
        expect(isUniqueViolation(duplicate)).toBe(true);
        await idempotency.insertIdempotencyRecord(db.kysely, { ...record(key), project_id: otherProjectId });
        const live = await idempotency.findLiveIdempotencyRecord(db.kysely, projectId, hashToken(key), NOW);
        expect(live).toMatchObject({ response_status: 201, response_body: "sealed" });
        expect(
          await idempotency.findLiveIdempotencyRecord(db.kysely, projectId, hashToken(key), LATER),
        ).toBeUndefined();
      });

      it("deletes only an expired record for its key", async () => {
        const key = crypto.randomUUID();
        await idempotency.insertIdempotencyRecord(db.kysely, record(key, NOW));
        await idempotency.deleteExpiredIdempotencyRecord(db.kysely, projectId, hashToken(key), NOW);
        await idempotency.insertIdempotencyRecord(db.kysely, record(key, LATER));
        await idempotency.deleteExpiredIdempotencyRecord(db.kysely, projectId, hashToken(key), NOW);
        expect(
          await idempotency.findLiveIdempotencyRecord(db.kysely, projectId, hashToken(key), NOW),
        ).toBeDefined();
      });
    });

    describe("group commit", () => {
      it("commits concurrent units together and answers each with its own result", async () => {
        const rows = Array.from({ length: 40 }, () => newSession(projectId, { origin_owner_id: "group" }));
        const before = probe.transactionsCommitted();
        probe.reset();
        const stored = await Promise.all(
          rows.map((row) => db.writes.run((trx) => sessions.insertConnectSession(trx, row))),
        );
        // One transaction for all 40 (batching off would commit 40), and their inserts in it.
        expect(probe.transactionsCommitted() - before).toBe(1);
        const inserts = probe.matching(/^insert into "connect_sessions"/);
        expect(inserts).toHaveLength(40);
        expect(new Set(inserts.map((statement) => statement.transaction)).size).toBe(1);
        expect(new Set(stored.map((row) => row.id)).size).toBe(40);
        stored.forEach((row, index) => {
          expect(row.token_hash).toBe(rows[index]?.token_hash);
        });
        const found = await db.kysely
          .selectFrom("connect_sessions")
          .select("id")
          .where("origin_owner_id", "=", "group")
          .execute();
        expect(found).toHaveLength(40);
      });

      it("keeps a failing unit's failure to itself; the others commit", async () => {
        const taken = newSession(projectId);
        await sessions.insertConnectSession(db.kysely, taken);
        const good = Array.from({ length: 5 }, () => newSession(projectId, { origin_owner_id: "survivor" }));
        const outcomes = await Promise.allSettled([
          ...good.map((row) => db.writes.run((trx) => sessions.insertConnectSession(trx, row))),
          db.writes.run((trx) => sessions.insertConnectSession(trx, taken)),
          db.writes.run(async () => {
            throw new Error("a rule said no");
          }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual([
          ...Array(5).fill("fulfilled"),
          "rejected",
          "rejected",
        ]);
        expect(isUniqueViolation((outcomes[5] as PromiseRejectedResult).reason)).toBe(true);
        expect(((outcomes[6] as PromiseRejectedResult).reason as Error).message).toBe("a rule said no");
        const survivors = await db.kysely
          .selectFrom("connect_sessions")
          .select("id")
          .where("origin_owner_id", "=", "survivor")
          .execute();
        expect(survivors).toHaveLength(5);
      });
    });

    describe("batched inserts", () => {
      it("insert a group commit's sessions in one statement, each answered with its own id", async () => {
        const rows = Array.from({ length: 30 }, () => newSession(projectId, { origin_owner_id: "batched" }));
        const before = probe.transactionsCommitted();
        probe.reset();
        const stored = await Promise.all(
          rows.map((row) => db.writes.runBatchable(sessions.insertSessionsTogether, row)),
        );
        // Exactly one transaction and one INSERT statement for the 30 rows.
        expect(probe.transactionsCommitted() - before).toBe(1);
        expect(probe.matching(/^insert into "connect_sessions"/)).toHaveLength(1);
        expect(new Set(stored.map((row) => row.id)).size).toBe(30);
        for (const [index, row] of stored.entries()) {
          expect(row.token_hash).toBe(rows[index]?.token_hash);
          const found = await sessions.findLiveConnectSessionByTokenKeys(
            db.kysely,
            projectId,
            [row.token_hash],
            NOW,
          );
          expect(found?.id).toBe(row.id);
        }
      });

      it("keep a duplicate's failure to itself, beside plain units", async () => {
        const taken = newSession(projectId);
        await sessions.insertConnectSession(db.kysely, taken);
        const good = Array.from({ length: 4 }, () =>
          newSession(projectId, { origin_owner_id: "batched-ok" }),
        );
        const outcomes = await Promise.allSettled([
          ...good.map((row) => db.writes.runBatchable(sessions.insertSessionsTogether, row)),
          db.writes.runBatchable(sessions.insertSessionsTogether, taken),
          db.writes.run((trx) =>
            sessions.insertConnectSession(trx, newSession(projectId, { origin_owner_id: "batched-ok" })),
          ),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual([
          ...Array(4).fill("fulfilled"),
          "rejected",
          "fulfilled",
        ]);
        expect(isUniqueViolation((outcomes[4] as PromiseRejectedResult).reason)).toBe(true);
        const stored = await db.kysely
          .selectFrom("connect_sessions")
          .select("id")
          .where("origin_owner_id", "=", "batched-ok")
          .execute();
        expect(stored).toHaveLength(5);
      });
    });

    describe("sweeping", () => {
      const sweeperConfig = { intervalSeconds: 0, batchSize: 7, sessionRetentionSeconds: 3600 };
      const at = (iso: string) => () => new Date(iso);
      const statusCounts = async (owner: string) => {
        const rows = await db.kysely
          .selectFrom("connect_sessions")
          .select("status")
          .where("origin_owner_id", "=", owner)
          .execute();
        return rows.reduce<Record<string, number>>((counts, row) => {
          counts[row.status] = (counts[row.status] ?? 0) + 1;
          return counts;
        }, {});
      };

      it("marks expired sessions first, deletes them only after the retention period", async () => {
        const owner = `sweep-${crypto.randomUUID()}`;
        for (let i = 0; i < 20; i++) {
          await sessions.insertConnectSession(
            db.kysely,
            newSession(projectId, { origin_owner_id: owner, expires_at: i < 17 ? NOW : LATER }),
          );
        }
        // At NOW, 17 sessions have expired: marked in batches of 7, none deleted yet.
        const first = await new Sweeper(db, sweeperConfig, { clock: at(NOW) }).sweepOnce();
        expect(first.expire_connect_sessions).toBe(17);
        expect(first.delete_expired_connect_sessions).toBe(0);
        expect(await statusCounts(owner)).toEqual({ expired: 17, pending: 3 });
        // Half an hour later: still inside the retention period.
        await new Sweeper(db, sweeperConfig, { clock: at("2026-11-25T12:30:00.000Z") }).sweepOnce();
        expect(await statusCounts(owner)).toEqual({ expired: 17, pending: 3 });
        // One hour after expiry the 17 go; the 3 others expire (at LATER) and are only marked.
        const later = await new Sweeper(db, sweeperConfig, { clock: at(LATER) }).sweepOnce();
        expect(later.delete_expired_connect_sessions).toBeGreaterThanOrEqual(17);
        expect(await statusCounts(owner)).toEqual({ expired: 3 });
      });

      it("deletes expired idempotency records and keeps live ones", async () => {
        const insert = (key: string, expiresAt: string) =>
          idempotency.insertIdempotencyRecord(db.kysely, {
            project_id: projectId,
            idempotency_key: hashToken(key),
            operation: "op",
            request_hash: "h",
            response_status: 201,
            response_body: "sealed",
            created_at: NOW,
            expires_at: expiresAt,
          });
        const live = crypto.randomUUID();
        await insert(live, "2026-11-26T12:00:00.000Z");
        for (let i = 0; i < 10; i++) await insert(crypto.randomUUID(), "2026-11-25T11:00:00.000Z");
        const report = await new Sweeper(db, sweeperConfig, { clock: at(NOW) }).sweepOnce();
        expect(report.delete_expired_idempotency_records).toBeGreaterThanOrEqual(10);
        const left = await db.kysely
          .selectFrom("idempotency_keys")
          .select("expires_at")
          .where("expires_at", "<=", NOW)
          .execute();
        expect(left).toEqual([]);
        expect(
          await idempotency.findLiveIdempotencyRecord(db.kysely, projectId, hashToken(live), NOW),
        ).toBeDefined();
      });

      it("deletes OAuth states once their ten minutes are over, used or not", async () => {
        const insert = (expiresAt: string, consumedAt: string | null) =>
          oauthStates.insertOAuthState(db.kysely, {
            state_hash: hashToken(crypto.randomUUID()),
            project_id: projectId,
            session_id: 1,
            provider: "test-idp",
            browser_binding_hash: "b",
            code_verifier_sealed: null,
            redirect_uri: "https://hub.example/connect/oauth/callback",
            setup_values: null,
            created_at: NOW,
            expires_at: expiresAt,
            consumed_at: consumedAt,
          });
        for (let i = 0; i < 9; i++) await insert("2026-11-25T11:59:00.000Z", i % 2 ? NOW : null);
        await insert("2026-11-25T12:10:00.000Z", null);
        const report = await new Sweeper(db, sweeperConfig, { clock: at(NOW) }).sweepOnce();
        expect(report.delete_expired_oauth_states).toBeGreaterThanOrEqual(9);
        const left = await db.kysely.selectFrom("oauth_states").select("expires_at").execute();
        expect(left.every((row) => row.expires_at > NOW)).toBe(true);
        expect(left.length).toBeGreaterThanOrEqual(1);
      });

      it("lets several sweepers run at once, each row handled once", async () => {
        const owner = `concurrent-${crypto.randomUUID()}`;
        const rows = Array.from({ length: 60 }, () =>
          newSession(projectId, { origin_owner_id: owner, expires_at: "2026-11-24T00:00:00.000Z" }),
        );
        // Expire what earlier tests left first, so this sweep's count is exactly these rows.
        await new Sweeper(
          db,
          { ...sweeperConfig, sessionRetentionSeconds: 0 },
          { clock: at(NOW) },
        ).sweepOnce();
        await db.kysely.insertInto("connect_sessions").values(rows).execute();
        // Separate connections where the database has them, as separate processes would.
        const url = postgres?.url ?? `file:${path.join(dataDir, "store.sqlite")}`;
        const others = [
          openDatabase(loadConfig({ DATABASE_URL: url }).database),
          openDatabase(loadConfig({ DATABASE_URL: url }).database),
        ];
        // better-sqlite3 waits for a lock synchronously: in one process, a connection waiting
        // for another's transaction blocks the event loop that transaction needs to finish, for
        // the whole busy timeout. Here a sweeper meeting a lock fails its batch at once instead
        // (and leaves the rows to the sweeper holding it), as none would wait in its own process.
        const waitForLocks = async (timeoutMs: number) => {
          if (dialect !== "sqlite") return;
          for (const handle of [db, ...others])
            await sql`pragma busy_timeout = ${sql.raw(String(timeoutMs))}`.execute(handle.kysely);
        };
        await waitForLocks(0);
        try {
          const reports = await Promise.all(
            [db, ...others].map((handle) =>
              new Sweeper(
                handle,
                { ...sweeperConfig, sessionRetentionSeconds: 0 },
                { clock: at(NOW) },
              ).sweepOnce(),
            ),
          );
          const marked = reports.reduce((sum, report) => sum + (report.expire_connect_sessions ?? 0), 0);
          expect(marked).toBe(60);
          expect(await statusCounts(owner)).toEqual({});
        } finally {
          await waitForLocks(5000);
          await Promise.all(others.map((other) => other.close()));
        }
      });
    });
  });
}
