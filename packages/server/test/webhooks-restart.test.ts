/**
 * Webhooks across real processes (the built CLI): events left in the outbox by a server killed
 * with SIGKILL are delivered after a restart, and two processes on one PostgreSQL database
 * deliver each event once between them.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { postJson, waitUntil } from "./support/http.js";
import {
  createTestPostgresDatabase,
  postgresAvailable,
  type TestPostgresDatabase,
} from "./support/postgres.js";
import { cli, type ServerProcess, startServerProcess } from "./support/process.js";
import { signatureHeaders, startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

let receiver: WebhookReceiver;
const processes: ServerProcess[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.stop());
afterEach(async () => {
  await Promise.all(processes.splice(0).map((process) => process.stop("SIGKILL")));
  receiver.received.length = 0;
});

async function start(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const server = await startServerProcess(env);
  processes.push(server);
  return server;
}

/** Sets a project up through `server`: the ashby integration and an endpoint for all events. */
async function setUp(server: ServerProcess, env: NodeJS.ProcessEnv) {
  const created = await cli(env, "keys", "create");
  expect(created.code, created.stderr).toBe(0);
  const apiKey = created.stdout.trim();
  const auth = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  await fetch(`${server.url}/integrations/ashby`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ verify_credentials: false }),
  });
  const endpoint = await postJson(`${server.url}/webhooks/endpoints`, { url: receiver.url }, { apiKey });
  expect(endpoint.status).toBe(201);
  return { apiKey, secret: endpoint.body.secret as string };
}

/** Connects an API-key account through the connect page's API of `server`. */
async function connectAccount(server: ServerProcess, apiKey: string, owner: string): Promise<string> {
  const session = await postJson(
    `${server.url}/connect_sessions`,
    { origin_owner_id: owner, origin_owner_name: owner },
    { apiKey },
  );
  const connected = await postJson(
    `${server.url}/connect/api/credentials`,
    { provider: "ashby", values: { api_key: "ashby-key-for-restart" } },
    {
      headers: {
        authorization: `Bearer ${session.body.token}`,
        origin: `http://localhost:${server.port}`,
        "sec-fetch-site": "same-origin",
      },
    },
  );
  expect(connected.status, JSON.stringify(connected.body)).toBe(201);
  return (connected.body.account as { id: string }).id;
}

describe("webhooks across processes", () => {
  it("delivers after a restart the events a SIGKILLed server left in its outbox", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-webhooks-"));
    const env = {
      DATABASE_URL: `file:${path.join(dataDir, "hub.sqlite")}`,
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      SWEEP_INTERVAL_SECONDS: "0",
    };
    try {
      // The first process looks at its outbox once, at start, and then not for a day.
      const first = await start({ ...env, WEBHOOK_POLL_INTERVAL: "1d" });
      const { apiKey, secret } = await setUp(first, env);
      const accountId = await connectAccount(first, apiKey, "killed");
      await first.stop("SIGKILL");
      expect(receiver.received).toEqual([]);

      await start({ ...env, WEBHOOK_POLL_INTERVAL: "50ms" });
      await receiver.waitFor((all) => all.length === 2);
      expect(receiver.received.map((d) => d.event.type).sort()).toEqual([
        "account.created",
        "connect_session.completed",
      ]);
      for (const delivery of receiver.received) {
        expect(new Webhook(secret).verify(delivery.body, signatureHeaders(delivery))).toEqual(delivery.event);
      }
      expect(receiver.ofType("account.created")[0]?.event.data.account).toMatchObject({ id: accountId });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!postgresAvailable)("two processes on one PostgreSQL database", () => {
    let database: TestPostgresDatabase;
    beforeAll(async () => {
      database = await createTestPostgresDatabase();
    });
    afterAll(() => database?.drop());

    it("delivers each event once between them", async () => {
      const env = {
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: "4",
        ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
        SWEEP_INTERVAL_SECONDS: "0",
        WEBHOOK_POLL_INTERVAL: "20ms",
        RATE_LIMIT_PER_MINUTE: "100000",
      };
      const [a, b] = await Promise.all([start(env), start(env)]);
      if (!a || !b) throw new Error("not started");
      const { apiKey } = await setUp(a, env);
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => connectAccount(i % 2 ? a : b, apiKey, `multi-${i}`)),
      );
      await receiver.waitFor((all) => all.length >= 24, 20_000);
      // Then until every delivery is settled in the database: no process sends one again.
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      try {
        await waitUntil(async () => {
          const { rows } = await admin.query<{ settled: string }>(
            "select count(*) as settled from webhook_deliveries where status = 'succeeded'",
          );
          return Number(rows[0]?.settled) >= 24 ? true : undefined;
        });
      } finally {
        await admin.end();
      }
      const ids = receiver.received.map((d) => d.id);
      expect(ids).toHaveLength(24);
      expect(new Set(ids).size).toBe(24);
    });
  });
});
