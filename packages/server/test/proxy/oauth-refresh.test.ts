/**
 * OAuth2 accounts through the proxy, against a simulator whose API accepts only its current
 * access token and whose token endpoint refreshes it: an expired token is refreshed before the
 * call, a token the provider refuses (401) is refreshed once and the call repeated once, and
 * concurrent calls share one refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody } from "../support/http.js";
import { adminRequest } from "../support/hub.js";
import { type ProxyHub, startProxyHub } from "../support/proxy-hub.js";

let hub: ProxyHub;
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const anHourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

beforeAll(async () => {
  hub = await startProxyHub();
});
afterAll(() => hub?.close());

/** The simulator's API and token requests since `from`, as `METHOD path token`. */
function trafficSince(from: number): string[] {
  return hub.simulator.requests
    .slice(from)
    .map((request) =>
      request.url === "/oauth/token"
        ? "token"
        : `${request.method} ${request.url} ${request.headers.authorization ?? "-"}`,
    );
}

describe("OAuth2 accounts through the proxy", () => {
  it("refreshes a token the provider answers 401 to, and repeats the call once", async () => {
    const { oauth } = hub.simulator;
    const id = await hub.oauthAccount({
      accessToken: "at-revoked-early",
      refreshToken: oauth.refreshToken,
      expiresAt: inAnHour(),
    });
    const before = hub.simulator.requests.length;
    const refreshesBefore = oauth.refreshes;
    const answer = await hub.unified(id, { path: "/me" });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toEqual({ id: "user-1", provider: "sim-oauth" });
    expect(oauth.refreshes).toBe(refreshesBefore + 1);
    expect(trafficSince(before)).toEqual([
      "GET /sim-oauth/v1/me Bearer at-revoked-early",
      "token",
      `GET /sim-oauth/v1/me Bearer ${oauth.accessToken}`,
    ]);
    // The new token was stored: the next call needs no refresh.
    const next = hub.simulator.requests.length;
    expect((await hub.raw("GET", "/proxy/me", { accountId: id })).status).toBe(200);
    expect(trafficSince(next)).toEqual([`GET /sim-oauth/v1/me Bearer ${oauth.accessToken}`]);
  });

  it("shares one refresh among concurrent calls refused with the same token", async () => {
    const { oauth } = hub.simulator;
    const id = await hub.oauthAccount({
      accessToken: "at-stale-for-all",
      refreshToken: oauth.refreshToken,
      expiresAt: inAnHour(),
    });
    const refreshesBefore = oauth.refreshes;
    const answers = await Promise.all(Array.from({ length: 5 }, () => hub.unified(id, { path: "/me" })));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(oauth.refreshes).toBe(refreshesBefore + 1);
  });

  it("refreshes an expired token before the call, so the provider never sees it", async () => {
    const { oauth } = hub.simulator;
    const id = await hub.oauthAccount({
      accessToken: "at-expired",
      refreshToken: oauth.refreshToken,
      expiresAt: anHourAgo(),
    });
    const before = hub.simulator.requests.length;
    expect((await hub.unified(id, { path: "/me" })).status).toBe(200);
    expect(trafficSince(before)).toEqual(["token", `GET /sim-oauth/v1/me Bearer ${oauth.accessToken}`]);
  });

  it("passes a 401 back when there is no refresh token, and after one repeat", async () => {
    const id = await hub.oauthAccount({ accessToken: "at-unrefreshable", expiresAt: inAnHour() });
    const before = hub.simulator.requests.length;
    expect(expectErrorBody(await hub.unified(id, { path: "/me" }), 401)).toBe("Sim OAuth answered 401");
    expect(trafficSince(before)).toEqual(["GET /sim-oauth/v1/me Bearer at-unrefreshable"]);

    // The provider refuses even the fresh token: one refresh, one repeat, then its 401.
    hub.simulator.handle("/v1/always-401", (_request, response) => {
      response.writeHead(401, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: "scope missing" }));
    });
    const refreshable = await hub.oauthAccount({
      accessToken: "at-fine",
      refreshToken: hub.simulator.oauth.refreshToken,
      expiresAt: inAnHour(),
    });
    const from = hub.simulator.requests.length;
    const answer = await hub.unified(refreshable, { path: "/always-401" });
    expect(expectErrorBody(answer, 401)).toBe("Sim OAuth answered 401");
    expect(trafficSince(from).filter((line) => line === "token")).toHaveLength(1);
    expect(trafficSince(from).filter((line) => line.startsWith("GET"))).toHaveLength(2);
  });

  it("does not repeat a streamed upload, but refreshes for the next call", async () => {
    const { oauth } = hub.simulator;
    const id = await hub.oauthAccount({
      accessToken: "at-before-upload",
      refreshToken: oauth.refreshToken,
      expiresAt: inAnHour(),
    });
    const refreshesBefore = oauth.refreshes;
    const upload = await hub.raw("POST", "/proxy/echo", {
      accountId: id,
      headers: { "content-type": "application/octet-stream", "transfer-encoding": "chunked" },
      body: Buffer.alloc(100_000, 1),
    });
    expect(upload.status).toBe(401);
    expect(oauth.refreshes).toBe(refreshesBefore + 1);
    expect((await hub.raw("GET", "/proxy/me", { accountId: id })).status).toBe(200);
  });

  it("marks the account error when the provider refuses the refresh, then refuses to proxy it", async () => {
    const id = await hub.oauthAccount({
      accessToken: "at-dead",
      refreshToken: "rt-not-known-to-the-provider",
      expiresAt: inAnHour(),
    });
    const refused = await hub.unified(id, { path: "/me" });
    expect(expectErrorBody(refused, 502)).toContain("The provider refused the refresh");
    const account = await adminRequest(hub.server, hub.apiKey, "GET", `/accounts/${id}`);
    expect(account.body.status).toBe("error");
    expect(expectErrorBody(await hub.unified(id, { path: "/me" }), 409)).toContain(`Account ${id} is error`);
  });
});
