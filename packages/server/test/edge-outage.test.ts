/**
 * A database that is away answers 503 with Retry-After (StackOne's SDKs retry it), never 500,
 * and the public answers (readiness included) never carry the driver's words.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody, postJson } from "./support/http.js";
import {
  createTestPostgresDatabase,
  postgresAvailable,
  type TestPostgresDatabase,
} from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";

/** A TCP port that forwards to PostgreSQL until `cut()`, which refuses and resets connections. */
async function postgresProxy(target: URL): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createServerConnection(target);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no port");
  return {
    port: address.port,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function createServerConnection(target: URL): Socket {
  return connect(Number(target.port || 5432), target.hostname);
}

const owner = { origin_owner_id: "o", origin_owner_name: "O" };

describe.skipIf(!postgresAvailable)("PostgreSQL made unreachable", () => {
  let database: TestPostgresDatabase;
  let server: TestServer;
  let proxy: Awaited<ReturnType<typeof postgresProxy>>;
  let apiKey: string;
  const lines: string[] = [];

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    const url = new URL(database.url);
    proxy = await postgresProxy(new URL(database.url));
    url.host = `127.0.0.1:${proxy.port}`;
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    server = await startTestServer({
      env: { DATABASE_URL: url.toString(), API_KEY_CACHE_SECONDS: "0" },
      logStream: stream,
    });
    apiKey = await server.createApiKey();
  });
  afterAll(async () => {
    await server.close();
    await database.drop();
  });

  it("answers 503 with Retry-After on the API and keeps driver details out of /readyz", async () => {
    expect((await postJson(`${server.url}/connect_sessions`, owner, { apiKey })).status).toBe(201);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await proxy.cut();

    const create = await postJson(`${server.url}/connect_sessions`, owner, { apiKey });
    expect(expectErrorBody(create, 503)).toContain("database");
    expect(Number(create.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    const list = await fetch(`${server.url}/accounts`, {
      headers: { authorization: `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}` },
    });
    expect(list.status).toBe(503);
    expect(list.headers.get("retry-after")).not.toBeNull();

    const ready = await fetch(`${server.url}/readyz`);
    const text = await ready.text();
    expect(ready.status).toBe(503);
    expect(text).toContain("Not ready: the database is unreachable");
    for (const detail of ["ECONNREFUSED", "127.0.0.1", String(proxy.port), "Connection terminated"]) {
      expect(text).not.toContain(detail);
    }
    // The operator still learns why, from the log.
    expect(
      lines.some((line) => line.includes("readiness check failed") && line.includes("ECONNREFUSED")),
    ).toBe(true);
  });
});

describe("SQLite locked by another process", () => {
  let server: TestServer;
  let apiKey: string;
  beforeAll(async () => {
    // A short lock wait: the answer is the same as after the default 5 s, sooner.
    server = await startTestServer({ env: { SQLITE_BUSY_TIMEOUT: "300ms" } });
    apiKey = await server.createApiKey();
  });
  afterAll(() => server.close());

  it("answers a write 503 with Retry-After once the lock wait gives up", async () => {
    const other = new SQLite(server.databaseFile);
    try {
      other.exec("BEGIN EXCLUSIVE");
      const create = await postJson(`${server.url}/connect_sessions`, owner, { apiKey });
      expect(expectErrorBody(create, 503)).toContain("database");
      expect(create.headers.get("retry-after")).not.toBeNull();
      expect(JSON.stringify(create.body)).not.toContain("SQLITE");
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    expect((await postJson(`${server.url}/connect_sessions`, owner, { apiKey })).status).toBe(201);
  });
});
