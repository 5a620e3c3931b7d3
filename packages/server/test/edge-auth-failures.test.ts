/**
 * Failed authentications are counted per client address, whatever key each one presents: an
 * address rotating through wrong keys is throttled (429 + Retry-After) until its minute ends,
 * in one process and across processes sharing Redis.
 */
import { randomBytes, randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody, type JsonResponse } from "./support/http.js";
import { redisAvailable, TEST_REDIS_URL } from "./support/redis.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";

async function listAccounts(server: TestServer, apiKey: string, address: string): Promise<JsonResponse> {
  const response = await fetch(`${server.url}/accounts`, {
    headers: { authorization: basicAuth(apiKey), "x-forwarded-for": address },
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const wrongKey = () => `chk_${randomBytes(32).toString("base64url")}`;
/** An address of the benchmarking range no other test (or run) uses. */
const someAddress = () => `198.18.${randomInt(256)}.${randomInt(1, 255)}`;

describe("failed authentications per address, in one process", () => {
  let server: TestServer;
  let apiKey: string;
  let now = Date.parse("2026-06-01T00:00:00Z");
  beforeAll(async () => {
    server = await startTestServer({
      clock: () => new Date(now),
      env: { TRUST_PROXY: "true", AUTH_FAILURES_PER_MINUTE: "20", RATE_LIMIT_PER_MINUTE: "100000" },
    });
    apiKey = await server.createApiKey();
  });
  afterAll(() => server.close());

  it("throttles hundreds of different wrong keys from one address, then lets it in after the minute", async () => {
    const attacker = someAddress();
    const statuses: number[] = [];
    // 400 keys (the 2,000 behave the same; fewer keep the suite fast on a busy machine).
    for (let batch = 0; batch < 8; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => listAccounts(server, wrongKey(), attacker)),
      );
      statuses.push(...answers.map((answer) => answer.status));
    }
    // The first concurrent batch may all be looked at before any failure is counted.
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(50);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(350);

    // While throttled, even the right key waits: the address learns nothing more.
    const blocked = await listAccounts(server, apiKey, attacker);
    expect(expectErrorBody(blocked, 429)).toContain("failed authentications");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Another address is not affected.
    expect((await listAccounts(server, apiKey, someAddress())).status).toBe(200);

    now += 61_000;
    expect((await listAccounts(server, apiKey, attacker)).status).toBe(200);
  });

  it("does not count a right key", async () => {
    const address = someAddress();
    for (let i = 0; i < 25; i++) expect((await listAccounts(server, apiKey, address)).status).toBe(200);
  });
});

describe.skipIf(!redisAvailable)("failed authentications per address, shared through Redis", () => {
  let first: TestServer;
  let second: TestServer;
  let apiKey: string;
  beforeAll(async () => {
    const env = {
      TRUST_PROXY: "true",
      AUTH_FAILURES_PER_MINUTE: "10",
      RATE_LIMIT_PER_MINUTE: "100000",
      REDIS_URL: TEST_REDIS_URL,
    };
    first = await startTestServer({ env });
    second = await startTestServer({ env });
    apiKey = await first.createApiKey();
  });
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it("counts the failures an address makes on every process together", async () => {
    const attacker = someAddress();
    // Alternating: 5 failures on each process, the limit of 10 only reached together.
    for (let i = 0; i < 10; i++) {
      const answer = await listAccounts(i % 2 === 0 ? first : second, wrongKey(), attacker);
      expect(answer.status, `failure ${i + 1}`).toBe(401);
    }
    // The process that counted the 10th blocks at once; the other learns from the count its
    // next failure returns (so a success never waits on Redis): at most one more each.
    expect((await listAccounts(second, wrongKey(), attacker)).status).toBe(429);
    expect((await listAccounts(first, wrongKey(), attacker)).status).toBe(401);
    expect((await listAccounts(first, wrongKey(), attacker)).status).toBe(429);
    expect((await listAccounts(second, wrongKey(), attacker)).status).toBe(429);
    expect((await listAccounts(first, apiKey, someAddress())).status).toBe(200);
  });
});
