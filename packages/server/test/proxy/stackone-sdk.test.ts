/**
 * StackOne's official TypeScript SDK (4.28.0) `proxy.proxyRequest` against `/unified/proxy`:
 * what it sends is accepted, and every answer comes back as the SDK expects it (2xx as a
 * result, errors as its typed error classes with the provider's body in `providerErrors`).
 */
import { StackOne } from "@stackone/stackone-client-ts";
import { HTTPClient } from "@stackone/stackone-client-ts/lib/http.js";
import {
  BadRequestResponse,
  NotFoundResponse,
  TooManyRequestsResponse,
  UnprocessableEntityResponse,
} from "@stackone/stackone-client-ts/sdk/models/errors/index.js";
import { Method } from "@stackone/stackone-client-ts/sdk/models/shared/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyHub, startProxyHub } from "../support/proxy-hub.js";
import { SIMULATOR_KEYS } from "../support/proxy-upstream.js";

let hub: ProxyHub;
let client: StackOne;
let account: string;
/** The SDK reads (and drops) a successful proxy answer's body; a clone keeps it for the test. */
const bodies: string[] = [];

beforeAll(async () => {
  hub = await startProxyHub();
  account = await hub.connect("sim-bearer", { api_key: SIMULATOR_KEYS.bearer });
  const httpClient = new HTTPClient();
  httpClient.addHook("response", async (response) => {
    bodies.push(await response.clone().text());
  });
  client = new StackOne({
    serverURL: hub.server.url,
    security: { username: hub.apiKey, password: "" },
    retryConfig: { strategy: "none" },
    httpClient,
  });
  hub.simulator.handle("/v1/busy", (_request, response) => {
    response.writeHead(429, { "content-type": "application/json", "retry-after": "3" });
    response.end(JSON.stringify({ error: "rate limited" }));
  });
});
afterAll(() => hub?.close());

describe("StackOne TypeScript SDK 4.28.0 proxy.proxyRequest", () => {
  it("makes a GET and a POST with the account's credentials", async () => {
    const got = await client.proxy.proxyRequest({
      xAccountId: account,
      proxyRequestBody: { method: Method.Get, path: "/me" },
    });
    expect(got.statusCode).toBe(200);
    expect(got.contentType).toBe("application/json");
    expect(JSON.parse(bodies.at(-1) as string)).toEqual({ id: "user-1", provider: "sim-bearer" });

    const posted = await client.proxy.proxyRequest({
      xAccountId: account,
      proxyRequestBody: {
        method: Method.Post,
        path: "/echo?dry_run=true",
        headers: { "X-Request-Source": "sdk" },
        body: { first_name: "Ada" },
      },
    });
    expect(posted.statusCode).toBe(200);
    expect(JSON.parse(bodies.at(-1) as string)).toMatchObject({
      method: "POST",
      query: { dry_run: "true" },
      body: JSON.stringify({ first_name: "Ada" }),
      headers: { authorization: `Bearer ${SIMULATOR_KEYS.bearer}`, "x-request-source": "sdk" },
    });
  });

  it("surfaces the provider's errors as the SDK's typed errors", async () => {
    const notFound = await client.proxy
      .proxyRequest({ xAccountId: account, proxyRequestBody: { path: "/nothing-here" } })
      .catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(NotFoundResponse);
    expect((notFound as NotFoundResponse).message).toBe("Sim Bearer answered 404");
    expect(JSON.parse((notFound as NotFoundResponse).body).provider_errors).toEqual([
      expect.objectContaining({
        status: 404,
        raw: { error: "not found", path: "/sim-bearer/v1/nothing-here" },
      }),
    ]);

    const busy = await client.proxy
      .proxyRequest({ xAccountId: account, proxyRequestBody: { path: "/busy" } })
      .catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(TooManyRequestsResponse);
    expect((busy as TooManyRequestsResponse).message).toBe("Sim Bearer answered 429");
    expect((busy as TooManyRequestsResponse).headers.get("retry-after")).toBe("3");
  });

  it("surfaces the proxy's own refusals as the SDK's typed errors", async () => {
    const elsewhere = await client.proxy
      .proxyRequest({ xAccountId: account, proxyRequestBody: { url: "https://evil.example.org/x" } })
      .catch((error: unknown) => error);
    expect(elsewhere).toBeInstanceOf(BadRequestResponse);
    expect((elsewhere as BadRequestResponse).message).toContain("is not one of Sim Bearer's hosts");

    const unknown = await client.proxy
      .proxyRequest({ xAccountId: "acc_nope", proxyRequestBody: { path: "/me" } })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(NotFoundResponse);

    const noApi = await hub.connect("sim-noapi", { api_key: "k" });
    const unusable = await client.proxy
      .proxyRequest({ xAccountId: noApi, proxyRequestBody: { path: "/me" } })
      .catch((error: unknown) => error);
    expect(unusable).toBeInstanceOf(UnprocessableEntityResponse);
    expect((unusable as Error).message).toContain("has no declared API");
  });
});
