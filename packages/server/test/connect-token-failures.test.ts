/**
 * Guessed connect-session tokens count as failed authentications of their address: past
 * AUTH_FAILURES_PER_MINUTE bad tokens at the hosted page's API, the embedded hub or the page,
 * the address gets 429 with `Retry-After` in the envelope (a valid token included) until its
 * minute ends. `POST /connect_sessions/authenticate` counts its API key, not the token asked about.
 */
import { randomBytes, randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody, type JsonResponse, postJson } from "./support/http.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";

const LIMIT = 3;
const guessedToken = () => `chs_${randomBytes(32).toString("base64url")}`;
/** An address of the benchmarking range no other test uses. */
const someAddress = () => `198.19.${randomInt(256)}.${randomInt(1, 255)}`;

async function call(server: TestServer, path: string, address: string, headers: Record<string, string>) {
  const response = await fetch(`${server.url}${path}`, {
    headers: { "x-forwarded-for": address, ...headers },
  });
  const text = await response.text();
  const body = response.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body } as JsonResponse;
}

describe("failed connect-session tokens per address", () => {
  let server: TestServer;
  let apiKey: string;
  let token: string;
  let now = Date.parse("2026-06-01T00:00:00Z");
  beforeAll(async () => {
    server = await startTestServer({
      clock: () => new Date(now),
      env: { TRUST_PROXY: "true", AUTH_FAILURES_PER_MINUTE: String(LIMIT), RATE_LIMIT_PER_MINUTE: "100000" },
    });
    apiKey = await server.createApiKey();
    const created = await postJson(
      `${server.url}/connect_sessions`,
      { origin_owner_id: "guessed", origin_owner_name: "Guessed" },
      { apiKey },
    );
    token = String(created.body.token);
  });
  afterAll(() => server?.close());

  const pageApi = (address: string, bearer: string) =>
    call(server, "/connect/api/session", address, { authorization: `Bearer ${bearer}` });
  const hub = (address: string, bearer: string) =>
    call(server, "/hub/connectors", address, { "x-hub-session-token": bearer });

  for (const [name, guess] of [
    ["the hosted page's API", pageApi],
    ["the embedded hub", hub],
  ] as const) {
    it(`throttles an address guessing tokens at ${name}, a valid token included, until its minute ends`, async () => {
      const attacker = someAddress();
      for (let i = 0; i < LIMIT; i++) expect((await guess(attacker, guessedToken())).status).toBe(401);
      const blocked = await guess(attacker, guessedToken());
      expect(expectErrorBody(blocked, 429)).toContain("failed authentications");
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(blocked.headers.get("x-content-type-options")).toBe("nosniff");
      // The right token waits too: the address learns nothing more.
      expect((await guess(attacker, token)).status).toBe(429);
      // Blocked on the other token routes as well, and for API keys.
      expect((await pageApi(attacker, token)).status).toBe(429);
      expect((await hub(attacker, token)).status).toBe(429);
      expect((await call(server, "/accounts", attacker, { authorization: basicAuth(apiKey) })).status).toBe(
        429,
      );
      // Another address is not affected.
      expect((await guess(someAddress(), token)).status).toBe(200);
      now += 61_000;
      expect((await guess(attacker, token)).status).toBe(200);
    });
  }

  it("counts a bad token at the page itself", async () => {
    const attacker = someAddress();
    for (let i = 0; i < LIMIT; i++) {
      expect((await call(server, `/connect?token=${guessedToken()}`, attacker, {})).status).toBe(401);
    }
    expect((await call(server, `/connect?token=${token}`, attacker, {})).status).toBe(429);
    now += 61_000;
  });

  it("does not count valid tokens", async () => {
    const address = someAddress();
    for (let i = 0; i < LIMIT + 3; i++) expect((await pageApi(address, token)).status).toBe(200);
  });

  it("does not count an unknown token asked about with a valid API key at /connect_sessions/authenticate", async () => {
    const address = someAddress();
    for (let i = 0; i < LIMIT + 2; i++) {
      const response = await fetch(`${server.url}/connect_sessions/authenticate`, {
        method: "POST",
        headers: {
          authorization: basicAuth(apiKey),
          "content-type": "application/json",
          "x-forwarded-for": address,
        },
        body: JSON.stringify({ token: guessedToken() }),
      });
      await response.arrayBuffer();
      expect(response.status).toBe(401);
    }
    expect((await pageApi(address, token)).status).toBe(200);
  });
});
