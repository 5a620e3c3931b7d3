/** What an operator relies on: probes, metrics, graceful shutdown, and how soon revocation bites. */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenancyService } from "../src/tenancy/service.js";
import { expectErrorBody, postJson, waitUntil } from "./support/http.js";
import { postgresAvailable, TEST_POSTGRES_URL } from "./support/postgres.js";
import { cli, startServerProcess } from "./support/process.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";

const getJson = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
};

describe("probes", () => {
  it("answers /healthz and /readyz when the database is migrated", async () => {
    const server = await startTestServer();
    try {
      expect(await getJson(`${server.url}/healthz`)).toMatchObject({ status: 200, body: { status: "ok" } });
      expect(await getJson(`${server.url}/readyz`)).toMatchObject({ status: 200, body: { status: "ready" } });
    } finally {
      await server.close();
    }
  });

  it("answers /readyz with 503 and the pending migrations while the schema is behind", async () => {
    const server = await startTestServer({ skipMigrations: true });
    try {
      const response = await getJson(`${server.url}/readyz`);
      expect(expectErrorBody(response, 503)).toMatch(
        /^Not ready: database migrations pending: 2026-11-25-0001-initial/,
      );
      expect((await getJson(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it.skipIf(!postgresAvailable)("answers /readyz with 503 when the database goes away", async () => {
    const server = await startTestServer({ dialect: "postgres" });
    try {
      expect((await getJson(`${server.url}/readyz`)).status).toBe(200);
      const name = new URL(server.databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await admin.connect();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
      const response = await getJson(`${server.url}/readyz`);
      expect(expectErrorBody(response, 503)).toContain("Not ready: the database is unreachable");
    } finally {
      await server.close();
    }
  });
});

describe("metrics", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { METRICS_ENABLED: "true", METRICS_TOKEN: "scrape-secret" } });
  });
  afterAll(() => server.close());

  it("are off unless enabled", async () => {
    const plain = await startTestServer();
    try {
      expect((await fetch(`${plain.url}/metrics`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it("need the token, then count requests by route and status, sessions and the pool", async () => {
    const apiKey = await server.createApiKey();
    await postJson(
      `${server.url}/connect_sessions`,
      { origin_owner_id: "c", origin_owner_name: "A" },
      { apiKey },
    );
    await postJson(`${server.url}/connect_sessions/authenticate`, { token: "chs_nope" }, { apiKey });
    const headers = { "idempotency-key": crypto.randomUUID() };
    const body = { origin_owner_id: "i", origin_owner_name: "I" };
    await postJson(`${server.url}/connect_sessions`, body, { apiKey, headers });
    await postJson(`${server.url}/connect_sessions`, body, { apiKey, headers });

    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status,
    ).toBe(401);
    const response = await fetch(`${server.url}/metrics`, {
      headers: { authorization: "Bearer scrape-secret" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/connect_sessions",status="201"\} 3/);
    expect(text).toMatch(
      /http_requests_total\{method="POST",route="\/connect_sessions\/authenticate",status="401"\} 1/,
    );
    expect(text).toMatch(
      // Every request lands in the histogram (the +Inf bucket): how fast is no test's business.
      /http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/connect_sessions",status="201"\} 3/,
    );
    expect(text).toMatch(/^connect_sessions_created_total 2$/m);
    expect(text).toMatch(/^db_pool_connections\{state="max"\} 1$/m);
    expect(text).toContain("process_resident_memory_bytes");
  });
});

describe("API key cache", () => {
  it("stops accepting a revoked key within API_KEY_CACHE_SECONDS", async () => {
    let offsetMs = 0;
    const server = await startTestServer({
      env: { API_KEY_CACHE_SECONDS: "1" },
      clock: () => new Date(Date.now() + offsetMs),
    });
    try {
      const tenancy = new TenancyService(server.db.kysely);
      const created = await tenancy.createApiKey({ project: "revoked" });
      const call = () =>
        postJson(`${server.url}/connect_sessions/authenticate`, { token: "chs_x" }, { apiKey: created.key });
      expect((await call()).status).toBe(401);
      expect(expectErrorBody(await call(), 401)).toContain("connect session token");
      await tenancy.revokeApiKey(created.id);
      // The cache's second passes on the server's clock, not by waiting.
      offsetMs += 1001;
      expect(expectErrorBody(await call(), 401)).toContain("API key is invalid or has been revoked");
    } finally {
      await server.close();
    }
  });
});

describe("graceful shutdown", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-shutdown-"));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("on SIGTERM stops accepting, finishes a request whose body is still arriving, and exits 0", async () => {
    const env = { DATABASE_URL: `file:${path.join(dataDir, "hub.sqlite")}` };
    // Only serve and migrate create a database; keys create needs one.
    expect((await cli(env, "migrate")).code).toBe(0);
    const apiKey = (await cli(env, "keys", "create")).stdout.trim();
    const server = await startServerProcess(env);
    const body = JSON.stringify({ origin_owner_id: "slow", origin_owner_name: "Slow Client" });
    const socket = connect(server.port, "127.0.0.1");
    const answer = new Promise<string>((resolve, reject) => {
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk;
      });
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    // `Expect: 100-continue`: the server's "100 Continue" says the request is in flight there.
    const continued = new Promise<void>((resolve) =>
      socket.on("data", (chunk) => {
        if (String(chunk).includes("100 Continue")) resolve();
      }),
    );
    socket.write(
      `POST /connect_sessions HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth(apiKey)}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    await continued;
    server.child.kill("SIGTERM");
    // No new connections while the slow request is still in flight: wait until one is refused.
    await waitUntil(() =>
      fetch(`${server.url}/healthz`).then(
        async (response) => {
          await response.arrayBuffer();
          return undefined;
        },
        () => true,
      ),
    );
    expect(server.child.exitCode).toBeNull();
    socket.write(body.slice(10));
    const raw = (await answer).replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, "");
    expect(raw).toMatch(/^HTTP\/1\.1 201/);
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toMatchObject({ origin_owner_id: "slow" });
    expect(await server.exited).toBe(0);
  });
});
