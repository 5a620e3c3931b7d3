/**
 * The durability promise: an answered write survives a power loss. Two halves, on every
 * database: the connection that writes runs with the promised setting (SQLite
 * `synchronous=FULL` in WAL, PostgreSQL `synchronous_commit=on`), and no request is answered
 * before the COMMIT holding its write has returned (a commit is held back at the driver while
 * the server gets every chance to answer early).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DriverProbe, driverProbe, eventLoopTurns } from "./support/driver-probe.js";
import { adminRequest, connectApiKeyAccount, createSession, submitCredentials } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`durability on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    const probe: DriverProbe = driverProbe();

    beforeAll(async () => {
      server = await startTestServer({ dialect, wrapDriver: probe.wrap });
      apiKey = await server.createApiKey();
      expect(
        (
          await adminRequest(server, apiKey, "PUT", "/integrations/ashby", {
            enabled: true,
            verify_credentials: false,
          })
        ).status,
      ).toBe(200);
      // Every response the server starts writing is logged beside the driver's events.
      server.app.server.on("request", (request: IncomingMessage, response: ServerResponse) => {
        const writeHead = response.writeHead;
        response.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
          probe.mark(`answer ${request.method} ${request.url}`);
          return writeHead.apply(this, args);
        } as typeof writeHead;
      });
    });
    afterAll(() => server.close());

    it("writes through a connection with the promised durability setting", async () => {
      // Asked inside the write path's own transaction, on the connection that commits writes.
      const settings = await server.db.writes.run(async (trx) =>
        dialect === "sqlite"
          ? {
              synchronous: (await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0]
                ?.synchronous,
              journal: (await sql<{ journal_mode: string }>`pragma journal_mode`.execute(trx)).rows[0]
                ?.journal_mode,
              tempStore: (await sql<{ temp_store: number }>`pragma temp_store`.execute(trx)).rows[0]
                ?.temp_store,
            }
          : {
              synchronous: (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(trx))
                .rows[0]?.synchronous_commit,
            },
      );
      if (dialect === "sqlite") {
        // 2 = FULL (3 = EXTRA would be stronger still); WAL with NORMAL (1) may lose the last commits.
        expect(settings.synchronous).toBeGreaterThanOrEqual(2);
        expect(settings).toMatchObject({ journal: "wal" });
        // 2 = MEMORY: a group commit's multi-row statements keep their statement journal in
        // memory, not in a temporary file made and deleted every other commit (no durability
        // depends on it: recovery reads the WAL).
        expect(settings).toMatchObject({ tempStore: 2 });
      } else {
        expect(["on", "remote_apply"]).toContain(settings.synchronous);
      }
    });

    /** Holds the next COMMIT until the server has had every chance to answer, then lets it go. */
    async function answeredOnlyAfterCommit(label: string, request: () => Promise<number>, status: number) {
      let reached: (transaction: number) => void = () => {};
      const commitReached = new Promise<number>((resolve) => {
        reached = resolve;
      });
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let armed = true;
      probe.reset();
      probe.gateCommits(async (commit) => {
        if (!armed) return;
        armed = false;
        probe.mark(`held ${commit.transaction}`);
        reached(commit.transaction);
        await held;
      });
      try {
        const answered = request();
        const transaction = await commitReached;
        // Hundreds of event-loop turns: an answer not waiting for the commit goes out now.
        await eventLoopTurns(200);
        release();
        expect(await answered, label).toBe(status);
        const answer = probe.events.findIndex((event) => event.startsWith("answer "));
        const committed = probe.events.indexOf(`commit ${transaction}`);
        expect(committed, `${label}: ${probe.events.join(", ")}`).toBeGreaterThan(-1);
        expect(answer, `${label}: ${probe.events.join(", ")}`).toBeGreaterThan(committed);
      } finally {
        probe.gateCommits(undefined);
        release();
      }
    }

    it("answers no write before the COMMIT holding it has returned", async () => {
      await answeredOnlyAfterCommit(
        "create a session",
        async () =>
          (
            await adminRequest(server, apiKey, "POST", "/connect_sessions", {
              origin_owner_id: "d",
              origin_owner_name: "D",
            })
          ).status,
        201,
      );
      await answeredOnlyAfterCommit(
        "create a session idempotently",
        async () =>
          (
            await fetch(`${server.url}/connect_sessions`, {
              method: "POST",
              headers: {
                authorization: `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}`,
                "content-type": "application/json",
                "idempotency-key": `durable-${crypto.randomUUID()}`,
              },
              body: JSON.stringify({ origin_owner_id: "d", origin_owner_name: "D" }),
            })
          ).status,
        201,
      );
      const { token } = await createSession(server, apiKey, { origin_owner_id: "link" });
      await answeredOnlyAfterCommit(
        "link an account",
        async () => (await submitCredentials(server, token, "ashby", { api_key: "durable-key" })).status,
        201,
      );
      const accountId = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "patch" });
      await answeredOnlyAfterCommit(
        "update an account",
        async () =>
          (await adminRequest(server, apiKey, "PATCH", `/accounts/${accountId}`, { label: "x" })).status,
        200,
      );
    });
  });
}
