/**
 * Rate limits shared by several processes through Redis, and the client address behind a
 * load balancer (TRUST_PROXY).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody, type JsonResponse, postJson } from "./support/http.js";
import { cli, type ServerProcess, startServerProcess } from "./support/process.js";
import { redisAvailable, TEST_REDIS_URL } from "./support/redis.js";
import { startTestServer } from "./support/server.js";

describe.skipIf(!redisAvailable)("a rate limit shared by three processes through Redis", () => {
  let dataDir: string;
  let servers: ServerProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-redis-"));
    // Three processes on one SQLite file: enough for this test, and independent of PostgreSQL.
    env = {
      DATABASE_URL: `file:${path.join(dataDir, "hub.sqlite")}`,
      REDIS_URL: TEST_REDIS_URL,
      RATE_LIMIT_PER_MINUTE: "7",
    };
    expect((await cli(env, "migrate")).code).toBe(0);
    servers = await Promise.all([startServerProcess(env), startServerProcess(env), startServerProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts one API key's requests across every process, then answers 429 with Retry-After", async () => {
    const apiKey = (await cli(env, "keys", "create", "--project", `busy-${Date.now()}`)).stdout.trim();
    const statuses: number[] = [];
    let limited: JsonResponse | undefined;
    for (let i = 0; i < 10; i++) {
      const server = servers[i % servers.length] as ServerProcess;
      const response = await postJson(
        `${server.url}/connect_sessions`,
        { origin_owner_id: "c", origin_owner_name: "A" },
        { apiKey },
      );
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses).toEqual([...Array(7).fill(201), 429, 429, 429]);
    if (!limited) throw new Error("never limited");
    expect(expectErrorBody(limited, 429)).toContain("the limit is 7 a minute");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    const calmKey = (await cli(env, "keys", "create", "--project", `calm-${Date.now()}`)).stdout.trim();
    const calm = await postJson(
      `${(servers[0] as ServerProcess).url}/connect_sessions`,
      { origin_owner_id: "c", origin_owner_name: "A" },
      { apiKey: calmKey },
    );
    expect(calm.status).toBe(201);
  });
});

describe("the client address behind a load balancer", () => {
  const fromAddress = (url: string, address: string) =>
    postJson(
      `${url}/connect_sessions/authenticate`,
      { token: "x" },
      { headers: { "x-forwarded-for": address } },
    );

  it("limits each forwarded client separately when TRUST_PROXY trusts the balancer", async () => {
    const server = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: "2", TRUST_PROXY: "127.0.0.1" } });
    try {
      const first = [
        await fromAddress(server.url, "203.0.113.7"),
        await fromAddress(server.url, "203.0.113.7"),
      ];
      expect(first.map((r) => r.status)).toEqual([401, 401]);
      expect((await fromAddress(server.url, "203.0.113.7")).status).toBe(429);
      expect((await fromAddress(server.url, "198.51.100.9")).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it("ignores X-Forwarded-For without TRUST_PROXY, so a client cannot pick its own address", async () => {
    const server = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: "2" } });
    try {
      await fromAddress(server.url, "203.0.113.7");
      await fromAddress(server.url, "203.0.113.8");
      expect((await fromAddress(server.url, "203.0.113.9")).status).toBe(429);
    } finally {
      await server.close();
    }
  });
});
