/**
 * What the proxy refuses, each with the error envelope and a message naming the problem, and
 * each before any connection: the simulators' request logs stay empty. A second simulator on
 * another port stands for an attacker's host.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../src/accounts/service.js";
import { loadSecretBox } from "../../src/crypto/keyring.js";
import { loadProviderCatalog } from "../../src/providers/catalog.js";
import { TenancyService } from "../../src/tenancy/service.js";
import { expectErrorBody } from "../support/http.js";
import { adminRequest } from "../support/hub.js";
import { type ProxyHub, startProxyHub } from "../support/proxy-hub.js";
import { type ProviderSimulator, SIMULATOR_KEYS, startProviderSimulator } from "../support/proxy-upstream.js";

let hub: ProxyHub;
let attacker: ProviderSimulator;
let account: string;

beforeAll(async () => {
  hub = await startProxyHub({ PROXY_MAX_REQUEST_BYTES: "4096", BODY_LIMIT_BYTES: "2048" });
  attacker = await startProviderSimulator();
  account = await hub.connect("sim-header", { api_key: SIMULATOR_KEYS.header });
});
afterAll(async () => {
  await hub?.close();
  await attacker?.close();
});

/** Runs `attempt` and checks that neither the provider nor the attacker saw a request. */
async function refusedBeforeAnyRequest<T>(attempt: () => Promise<T>): Promise<T> {
  const seen = hub.simulator.requests.length;
  const result = await attempt();
  expect(hub.simulator.requests.slice(seen)).toEqual([]);
  expect(attacker.requests).toEqual([]);
  return result;
}

const refusal = async (body: unknown, status: number, id = account) =>
  expectErrorBody(await refusedBeforeAnyRequest(() => hub.unified(id, body)), status);

describe("host confinement", () => {
  it("refuses a url or path that leads away from the provider's declared hosts", async () => {
    const attackerHost = new URL(attacker.url).host;
    expect(await refusal({ url: `${attacker.url}/sim-header/v1/me` }, 400)).toBe(
      `${attackerHost} is not one of Sim Header's hosts: the proxy only calls Sim Header's declared API`,
    );
    expect(await refusal({ url: "https://evil.example.org/steal" }, 400)).toContain(
      "evil.example.org is not one of Sim Header's hosts",
    );
    for (const path of [`//${attackerHost}/x`, `${attacker.url}/x`, "https://evil.example.org/x"]) {
      expect(await refusal({ path }, 400), path).toContain("path must be a path, not a URL");
    }
  });

  it("refuses dot segments, raw or encoded, in both routes", async () => {
    for (const path of ["/../admin", "/a/%2e%2e/b", "/a/.%2E/b", "/a/%2fb", "/a\\..\\b"]) {
      expect(await refusal({ path }, 400), path).toMatch(/dot segments|not a URL/);
    }
    for (const path of ["/proxy/../admin", "/proxy/a/%2E%2e/b", "/proxy/a/%2fb"]) {
      const raw = await refusedBeforeAnyRequest(() => hub.raw("GET", path, { accountId: account }));
      expect(raw.status, path).toBe(400);
      expect(JSON.parse(raw.body).message).toContain("dot segments");
    }
  });

  it("answers no input with a 500, and never calls another host (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            path: fc.oneof(fc.string(), fc.webPath(), fc.webUrl()),
            url: fc.oneof(fc.webUrl(), fc.constant(`${attacker.url}/x`), fc.string()),
            method: fc.constantFrom("get", "POST", "delete"),
          },
          { requiredKeys: ["path"] },
        ),
        async (body) => {
          const response = await hub.raw("POST", "/unified/proxy", {
            accountId: account,
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          expect(response.status).not.toBe(500);
          if (response.status >= 400) expect(JSON.parse(response.body).statusCode).toBe(response.status);
          expect(attacker.requests).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("accounts that cannot be used", () => {
  it("refuses a missing, unknown, other project's or deleted account", async () => {
    const missing = await refusedBeforeAnyRequest(() =>
      fetch(`${hub.server.url}/unified/proxy`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${hub.apiKey}:`).toString("base64")}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ path: "/me" }),
      }),
    );
    expect(missing.status).toBe(400);
    expect((await missing.json()).message).toBe("x-account-id is required");
    expect(await refusal({ path: "/me" }, 404, "acc_unknown")).toBe("Account acc_unknown does not exist");

    const otherKey = await hub.server.createApiKey("other-project");
    const other = await refusedBeforeAnyRequest(() => hub.unified(account, { path: "/me" }, otherKey));
    expect(expectErrorBody(other, 404)).toBe(`Account ${account} does not exist`);

    const doomed = await hub.connect("sim-header", { api_key: SIMULATOR_KEYS.header });
    expect((await adminRequest(hub.server, hub.apiKey, "DELETE", `/accounts/${doomed}`)).status).toBe(200);
    expect(await refusal({ path: "/me" }, 404, doomed)).toBe(`Account ${doomed} does not exist`);
    const raw = await refusedBeforeAnyRequest(() => hub.raw("GET", "/proxy/me", { accountId: doomed }));
    expect(raw.status).toBe(404);
  });

  it("refuses an account in error, naming why", async () => {
    const broken = await hub.connect("sim-header", { api_key: SIMULATOR_KEYS.header });
    const catalog = await loadProviderCatalog({ extraDirs: [hub.providersDir], allowLoopbackUrls: true });
    const secrets = loadSecretBox(hub.server.config, () => {});
    const principal = await new TenancyService(hub.server.db.kysely).authenticateApiKey(hub.apiKey);
    await new AccountService(hub.server.db.kysely, catalog, secrets, () => new Date()).markRefreshFailed(
      principal?.projectId as string,
      broken,
      { code: "refresh_failed", description: "The provider refused the refresh" },
    );
    expect(await refusal({ path: "/me" }, 409, broken)).toBe(
      `Account ${broken} is error (The provider refused the refresh): only active accounts can be used; reconnect it`,
    );
  });

  it("refuses a provider with no declared API", async () => {
    const id = await hub.connect("sim-noapi", { api_key: "k" });
    expect(await refusal({ path: "/me" }, 422, id)).toBe(
      "Sim Without API has no declared API in the catalog, so calls cannot be proxied to it",
    );
  });
});

describe("headers and bodies that are refused", () => {
  it("refuses hop-by-hop, credential and host headers in /unified/proxy", async () => {
    for (const name of [
      "Connection",
      "Transfer-Encoding",
      "TE",
      "Upgrade",
      "Proxy-Authorization",
      "Keep-Alive",
    ]) {
      expect(await refusal({ path: "/me", headers: { [name]: "x" } }, 400), name).toBe(
        `headers.${name} is a hop-by-hop header, which a proxy does not forward`,
      );
    }
    for (const name of ["Authorization", "Cookie", "X-Api-Key", "Host", "Content-Length"]) {
      expect(await refusal({ path: "/me", headers: { [name]: "x" } }, 400), name).toBe(
        `headers.${name} is set by the server: it applies the account's credentials itself`,
      );
    }
    expect(await refusal({ path: "/me", headers: { "X-Bad": "a\r\nInjected: 1" } }, 400)).toBe(
      "headers.X-Bad may not contain line breaks",
    );
    expect(await refusal({ path: "/me", headers: { "X-Obj": { a: 1 } } }, 400)).toBe(
      "headers.X-Obj must be a string",
    );
    expect(await refusal({ method: "GET", path: "/me", body: { a: 1 } }, 400)).toBe(
      "body cannot be sent with GET",
    );
    expect(await refusal({ method: "TRACE", path: "/me" }, 400)).toContain("method must be one of");
  });

  it("refuses oversized bodies with 413", async () => {
    const big = "x".repeat(3000);
    expect(await refusal({ method: "post", path: "/echo", body: big }, 413)).toBe(
      "Request body is larger than the limit of 2048 bytes",
    );
    const raw = await refusedBeforeAnyRequest(() =>
      hub.raw("POST", "/proxy/echo", { accountId: account, body: "y".repeat(5000) }),
    );
    expect(raw.status).toBe(413);
    expect(JSON.parse(raw.body).message).toBe(
      "Request body is larger than the proxy's limit of 4096 bytes (PROXY_MAX_REQUEST_BYTES)",
    );
  });

  it("refuses an Upgrade on /proxy/{path}", async () => {
    const raw = await refusedBeforeAnyRequest(() =>
      hub.raw("GET", "/proxy/me", {
        accountId: account,
        headers: { connection: "upgrade", upgrade: "websocket" },
      }),
    );
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body).message).toBe("Upgrade (such as WebSocket) is not proxied");
  });
});
