/**
 * The proxy against provider simulators on loopback: credentials applied in each declared
 * style (and never the caller's), headers, bodies and Retry-After relayed, the response size
 * limit, logs and metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { expectErrorBody } from "../support/http.js";
import { type ProxyHub, startProxyHub } from "../support/proxy-hub.js";
import { SIMULATOR_KEYS } from "../support/proxy-upstream.js";
import { basicAuth } from "../support/server.js";

let hub: ProxyHub;
const accounts: Record<string, string> = {};

beforeAll(async () => {
  hub = await startProxyHub({ PROXY_MAX_RESPONSE_BYTES: "2048", OUTBOUND_TIMEOUT_MS: "3000" });
  accounts.header = await hub.connect("sim-header", { api_key: SIMULATOR_KEYS.header });
  accounts.basic = await hub.connect("sim-basic", SIMULATOR_KEYS.basic);
  accounts.query = await hub.connect("sim-query", { api_key: SIMULATOR_KEYS.query });
  accounts.bearer = await hub.connect("sim-bearer", { api_key: SIMULATOR_KEYS.bearer });
  hub.simulator.handle("/v1/limited", (_request, response) => {
    response.writeHead(429, { "content-type": "application/json", "retry-after": "7" });
    response.end(JSON.stringify({ error: "slow down" }));
  });
  hub.simulator.handle("/v1/big", (_request, response) => {
    response.writeHead(200, { "content-type": "application/octet-stream" });
    response.end(Buffer.alloc(4096, 7));
  });
  hub.simulator.handle("/v1/report.csv", (_request, response) => {
    response.writeHead(200, { "content-type": "text/csv", "set-cookie": "provider-session=1" });
    response.end("id,name\n1,Ada\n");
  });
  hub.simulator.handle("/v1/silent", () => {});
  hub.simulator.handle("/v1/nothing", (_request, response) => {
    response.writeHead(204, { etag: '"v1"' });
    response.end();
  });
});
afterAll(() => hub?.close());

describe("the proxy applies the account's credentials in the provider's declared style", () => {
  it.each([
    ["header", "sim-header"],
    ["basic", "sim-basic"],
    ["query", "sim-query"],
    ["bearer", "sim-bearer"],
  ])("%s: accepted through /unified/proxy and /proxy/{path}", async (style, provider) => {
    const id = accounts[style] as string;
    const unified = await hub.unified(id, { method: "get", path: "/me" });
    expect(unified.status, JSON.stringify(unified.body)).toBe(200);
    expect(unified.body).toEqual({ id: "user-1", provider });
    const raw = await hub.raw("GET", "/proxy/me", { accountId: id });
    expect(raw.status).toBe(200);
    expect(JSON.parse(raw.body)).toEqual({ id: "user-1", provider });
  });

  it.each([
    ["sim-header", { api_key: "wrong-key" }],
    ["sim-basic", { username: "basic-user", password: "wrong" }],
    ["sim-query", { api_key: "wrong-key" }],
    ["sim-bearer", { api_key: "wrong-key" }],
  ])("%s: a wrong credential gets the provider's 401 back", async (provider, values) => {
    const id = await hub.connect(provider, values);
    const unified = await hub.unified(id, { path: "/me?page=2" });
    expect(expectErrorBody(unified, 401)).toContain("answered 401");
    const [providerError] = unified.body.provider_errors as Array<Record<string, unknown>>;
    expect(providerError).toMatchObject({ status: 401, raw: { error: "invalid credentials" } });
    // The query (which may hold a credential) is not shown.
    expect(providerError?.url).toBe(`${hub.simulator.url}/${provider}/v1/me`);
    const raw = await hub.raw("GET", "/proxy/me", { accountId: id });
    expect(raw.status).toBe(401);
    expect(JSON.parse(raw.body)).toEqual({ error: "invalid credentials" });
    expect(raw.headers["www-authenticate"]).toBe("Bearer");
  });
});

describe("headers and bodies", () => {
  it("forwards the caller's headers and query, not its Authorization, cookies or hop-by-hop headers", async () => {
    const raw = await hub.raw("POST", "/proxy/echo?fields=a,b&page=2", {
      accountId: accounts.header as string,
      headers: {
        "content-type": "text/plain",
        accept: "text/plain",
        "x-custom": "kept",
        "x-api-key": "the-caller's-own-key",
        cookie: "hub-session=secret",
        connection: "keep-alive, x-drop-me",
        "x-drop-me": "1",
        "keep-alive": "timeout=5",
        "x-forwarded-for": "10.0.0.1",
      },
      body: "plain text body",
    });
    expect(raw.status).toBe(200);
    const echo = JSON.parse(raw.body) as { headers: Record<string, string>; query: unknown; body: string };
    expect(echo.query).toEqual({ fields: "a,b", page: "2" });
    expect(echo.body).toBe("plain text body");
    expect(echo.headers).toMatchObject({
      "x-api-key": SIMULATOR_KEYS.header,
      "x-api-version": "2",
      "x-custom": "kept",
      accept: "text/plain",
      "content-type": "text/plain",
    });
    for (const name of [
      "authorization",
      "cookie",
      "x-drop-me",
      "keep-alive",
      "x-account-id",
      "x-forwarded-for",
    ]) {
      expect(echo.headers[name], name).toBeUndefined();
    }
  });

  it("sends a /unified/proxy body as JSON, or a string as it is", async () => {
    const json = await hub.unified(accounts.bearer as string, {
      method: "post",
      path: "/echo",
      headers: { "X-Custom": 1 },
      body: { name: "Ada", tags: ["a"] },
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      method: "POST",
      body: JSON.stringify({ name: "Ada", tags: ["a"] }),
      headers: {
        "content-type": "application/json",
        "x-custom": "1",
        authorization: "Bearer bearer-key-123",
      },
    });
    const text = await hub.unified(accounts.bearer as string, {
      method: "PUT",
      path: "/echo",
      headers: { "Content-Type": "application/xml" },
      body: "<a/>",
    });
    expect(text.body).toMatchObject({
      method: "PUT",
      body: "<a/>",
      headers: { "content-type": "application/xml" },
    });
  });

  it("passes the provider's status, body and Retry-After back", async () => {
    const unified = await hub.unified(accounts.header as string, { path: "/limited" });
    expect(expectErrorBody(unified, 429)).toBe("Sim Header answered 429");
    expect(unified.headers.get("retry-after")).toBe("7");
    expect(unified.body.provider_errors).toEqual([
      expect.objectContaining({ status: 429, raw: { error: "slow down" } }),
    ]);
    const raw = await hub.raw("GET", "/proxy/limited", { accountId: accounts.header as string });
    expect(raw.status).toBe(429);
    expect(raw.headers["retry-after"]).toBe("7");
    expect(JSON.parse(raw.body)).toEqual({ error: "slow down" });
  });

  it("relays non-JSON answers with their type, without the provider's cookies", async () => {
    const raw = await hub.raw("GET", "/proxy/report.csv", { accountId: accounts.header as string });
    expect(raw.status).toBe(200);
    expect(raw.headers["content-type"]).toBe("text/csv");
    expect(raw.body).toBe("id,name\n1,Ada\n");
    expect(raw.headers["set-cookie"]).toBeUndefined();
    expect(raw.headers["content-security-policy"]).toBe("default-src 'none'; sandbox");
    const unified = await fetch(`${hub.server.url}/unified/proxy`, {
      method: "POST",
      headers: {
        authorization: basicAuth(hub.apiKey),
        "content-type": "application/json",
        "x-account-id": accounts.header as string,
      },
      body: JSON.stringify({ path: "/report.csv" }),
    });
    expect(unified.headers.get("content-type")).toBe("text/csv");
    expect(await unified.text()).toBe("id,name\n1,Ada\n");
  });

  it("limits what /unified/proxy relays; /proxy/{path} streams any size", async () => {
    const unified = await hub.unified(accounts.header as string, { path: "/big" });
    expect(expectErrorBody(unified, 502)).toContain("larger than 2048 bytes");
    const raw = await hub.raw("GET", "/proxy/big", { accountId: accounts.header as string });
    expect(raw.status).toBe(200);
    expect(raw.body.length).toBe(4096);
  });

  it("relays HEAD and 204 answers without a body", async () => {
    const head = await hub.raw("HEAD", "/proxy/report.csv", { accountId: accounts.header as string });
    expect(head.status).toBe(200);
    expect(head.headers["content-type"]).toBe("text/csv");
    expect(head.body).toBe("");
    const empty = await hub.raw("DELETE", "/proxy/nothing", { accountId: accounts.header as string });
    expect(empty.status).toBe(204);
    expect(empty.headers.etag).toBe('"v1"');
    const unified = await fetch(`${hub.server.url}/unified/proxy`, {
      method: "POST",
      headers: {
        authorization: basicAuth(hub.apiKey),
        "content-type": "application/json",
        "x-account-id": accounts.header as string,
      },
      body: JSON.stringify({ method: "delete", path: "/nothing" }),
    });
    expect(unified.status).toBe(204);
    expect(await unified.text()).toBe("");
  });

  it("answers 504 when the provider does not answer in time", async () => {
    const unified = await hub.unified(accounts.header as string, { path: "/silent" });
    expect(expectErrorBody(unified, 504)).toBe("Sim Header did not answer within 3000 ms");
  });
});

describe("observability", () => {
  it("logs each call without credentials or query values, and counts it per provider", async () => {
    await hub.unified(accounts.query as string, { path: "/me?email=ada@example.com" });
    const calls = hub.logs().filter((entry) => entry.msg === "proxied call");
    const call = calls.findLast((entry) => (entry.proxy as { provider: string }).provider === "sim-query");
    expect(call?.proxy).toMatchObject({
      provider: "sim-query",
      method: "GET",
      host: new URL(hub.simulator.url).host,
      path: "/sim-query/v1/me?email&apikey",
      status: 200,
      latency_ms: expect.any(Number),
    });
    const all = JSON.stringify(hub.logs());
    for (const secret of [
      SIMULATOR_KEYS.query,
      SIMULATOR_KEYS.header,
      SIMULATOR_KEYS.bearer,
      "ada@example.com",
    ]) {
      expect(all, secret).not.toContain(secret);
    }
    const metrics = await (await fetch(`${hub.server.url}/metrics`)).text();
    expect(metrics).toMatch(/proxy_requests_total\{provider="sim-query",outcome="200"\} [1-9]/);
    expect(metrics).toMatch(/proxy_requests_total\{provider="sim-header",outcome="timeout"\} 1/);
    expect(metrics).toMatch(/proxy_request_duration_seconds_count\{provider="sim-header"\} [1-9]/);
  });
});

describe("configuration and API description", () => {
  it("reads the proxy's limits, refusing values out of range", () => {
    const config = loadConfig({ PROXY_MAX_RESPONSE_BYTES: "4096", PROXY_MAX_REQUEST_BYTES: "8192" });
    expect(config.proxy).toEqual({ maxResponseBytes: 4096, maxRequestBytes: 8192 });
    expect(loadConfig({}).proxy).toEqual({ maxResponseBytes: 10_485_760, maxRequestBytes: 104_857_600 });
    expect(() => loadConfig({ PROXY_MAX_RESPONSE_BYTES: "12" })).toThrow(ConfigError);
    expect(() => loadConfig({ PROXY_MAX_REQUEST_BYTES: "lots" })).toThrow(/PROXY_MAX_REQUEST_BYTES/);
  });

  it("describes both routes in the OpenAPI document", async () => {
    const document = await (await fetch(`${hub.server.url}/openapi.json`)).json();
    const unified = document.paths["/unified/proxy"].post;
    expect(unified.operationId).toBe("stackone_proxy_request");
    expect(unified.parameters).toEqual([
      expect.objectContaining({ in: "header", name: "x-account-id", required: true }),
    ]);
    expect(Object.keys(unified.requestBody.content["application/json"].schema.properties).sort()).toEqual([
      "body",
      "headers",
      "method",
      "path",
      "url",
    ]);
    expect(Object.keys(document.paths["/proxy/{*}"]).sort()).toEqual([
      "delete",
      "get",
      "options",
      "patch",
      "post",
      "put",
    ]);
  });
});
