/**
 * `hub.proxy.request` against the real Connect Hub and a provider simulator on loopback: the
 * provider's answers (JSON, text, errors) as the SDK returns or throws them, and which calls
 * are retried.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyHub, startProxyHub } from "../../server/test/support/proxy-hub.js";
import { SIMULATOR_KEYS } from "../../server/test/support/proxy-upstream.js";
import { BadRequestResponse, ConnectHub, NotFoundResponse, SDKError } from "../src/index.js";

let hub: ProxyHub;
let client: ConnectHub;
let account: string;
/** Requests the simulator received at `path` (below the provider's prefix). */
const hits = (path: string) =>
  hub.simulator.requests.filter((request) => request.url === `/sim-header/v1${path}`);

beforeAll(async () => {
  hub = await startProxyHub();
  account = await hub.connect("sim-header", { api_key: SIMULATOR_KEYS.header });
  client = new ConnectHub({
    serverURL: hub.server.url,
    security: { username: hub.apiKey, password: "" },
    retryConfig: { strategy: "backoff", backoff: { initialInterval: 1, maxInterval: 2 } },
  });
  hub.simulator.handle("/v1/notes.txt", (_request, response) => {
    response.writeHead(200, { "content-type": "text/plain" });
    response.end("hello");
  });
  // 503 on the first call, 200 after.
  for (const path of ["/v1/flaky-get", "/v1/flaky-post"]) {
    let calls = 0;
    hub.simulator.handle(path, (_request, response) => {
      calls += 1;
      response.writeHead(calls === 1 ? 503 : 200, { "content-type": "application/json" });
      response.end(JSON.stringify({ attempt: calls }));
    });
  }
});
afterAll(() => hub?.close());

describe("hub.proxy.request", () => {
  it("returns the provider's answer: status, headers, JSON parsed or text", async () => {
    const me = await client.proxy.request({ accountId: account, path: "/me" });
    expect(me.statusCode).toBe(200);
    expect(me.contentType).toBe("application/json");
    expect(me.data).toEqual({ id: "user-1", provider: "sim-header" });

    const echoed = await client.proxy.request({
      accountId: account,
      method: "POST",
      path: "/echo?page=2",
      headers: { "X-Trace": "t-1" },
      body: { name: "Ada" },
    });
    expect(echoed.data).toMatchObject({
      method: "POST",
      query: { page: "2" },
      body: '{"name":"Ada"}',
      headers: { "x-trace": "t-1", "x-api-key": SIMULATOR_KEYS.header },
    });

    const text = await client.proxy.request({ accountId: account, path: "/notes.txt" });
    expect(text.data).toBe("hello");
    expect(text.headers.get("content-type")).toBe("text/plain");
  });

  it("throws the error class of the provider's status, with its body", async () => {
    const error = await client.proxy
      .request({ accountId: account, path: "/missing" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFoundResponse);
    expect((error as NotFoundResponse).providerErrors?.[0]).toMatchObject({
      status: 404,
      raw: { error: "not found", path: "/sim-header/v1/missing" },
    });
  });

  it("throws Connect Hub's own refusals", async () => {
    await expect(client.proxy.request({ accountId: "acc_unknown", path: "/me" })).rejects.toBeInstanceOf(
      NotFoundResponse,
    );
    const elsewhere = await client.proxy
      .request({ accountId: account, url: "https://evil.example.org/x" })
      .catch((caught: unknown) => caught);
    expect(elsewhere).toBeInstanceOf(BadRequestResponse);
    expect((elsewhere as BadRequestResponse).message).toContain("is not one of Sim Header's hosts");
  });

  it("retries a GET the provider answers 503 to, never a POST", async () => {
    const post = await client.proxy
      .request({ accountId: account, method: "POST", path: "/flaky-post", body: { a: 1 } })
      .catch((caught: unknown) => caught);
    expect(post).toBeInstanceOf(SDKError);
    expect((post as SDKError).statusCode).toBe(503);
    expect(hits("/flaky-post")).toHaveLength(1);

    const get = await client.proxy.request({ accountId: account, path: "/flaky-get" });
    expect(get.data).toEqual({ attempt: 2 });
    expect(hits("/flaky-get")).toHaveLength(2);
  });
});
