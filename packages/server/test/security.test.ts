/**
 * Security properties that no flow test pins down on its own: the outbound guard, sealing of
 * secrets, the OAuth state's cookie and bindings, and API key rotation.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretBox } from "../src/crypto/secrets.js";
import { isPublicAddress, OutboundClient, OutboundRequestError } from "../src/outbound/client.js";
import { expectErrorBody } from "./support/http.js";
import { adminRequest, connectApiKeyAccount, createSession } from "./support/hub.js";
import {
  startHubWithIdentityProvider,
  TEST_PROVIDER_KEY,
  type TestIdentityProvider,
} from "./support/identity-provider.js";
import { basicAuth, freePort, startTestServer, type TestServer } from "./support/server.js";
import { startTokenEndpoint, TOKEN_PROVIDER_KEY, type TokenEndpoint } from "./support/token-endpoint.js";

describe("outbound calls", () => {
  const guarded = new OutboundClient({
    timeoutMs: 2000,
    maxResponseBytes: 1024,
    allowPrivateNetworks: false,
  });
  afterAll(() => guarded.close());

  it.each([
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fc00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    // Every IPv6 form that embeds an IPv4 address, whatever the address embedded.
    "::7f00:1", // IPv4-compatible ::127.0.0.1
    "::127.0.0.1",
    "::808:808", // IPv4-compatible 8.8.8.8: refused too, the network may route it anywhere
    "::ffff:8.8.8.8", // IPv4-mapped
    "::ffff:0:7f00:1", // IPv4-translated (RFC 6145)
    "64:ff9b::7f00:1", // NAT64 (RFC 6052)
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a00:1", // local-use NAT64 (RFC 8215)
    "2002:7f00:1::", // 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
    "100::1", // discard-only
    "::", // unspecified
    "ff02::1", // multicast
    "2001:db8::1", // documentation
  ])("treats %s as private", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])("treats %s as public", (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    "http://127.0.0.1:9/token",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:9/",
    "http://10.1.2.3/",
    "http://localhost:4555/",
    "http://[::7f00:1]:9/",
    "http://[::127.0.0.1]:9/",
    "http://[::ffff:7f00:1]:9/",
    "http://[64:ff9b::7f00:1]:9/",
    "http://[2002:7f00:1::]:9/",
  ])("refuses %s before any byte is sent", async (url) => {
    const failure = await guarded.request(url).catch((error) => error);
    expect(failure).toBeInstanceOf(OutboundRequestError);
    expect(failure.reason).toBe("blocked_address");
  });

  it("refuses non-http schemes", async () => {
    await expect(guarded.request("file:///etc/passwd")).rejects.toMatchObject({ reason: "bad_url" });
  });

  it("limits response size and time when allowed to reach a loopback peer", async () => {
    const port = await freePort();
    const server = createServer((request, response) => {
      if (request.url === "/slow") return void setTimeout(() => response.end("late"), 3000);
      response.end("x".repeat(5000));
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const open = new OutboundClient({ timeoutMs: 300, maxResponseBytes: 1024, allowPrivateNetworks: true });
    try {
      await expect(open.request(`http://127.0.0.1:${port}/big`)).rejects.toMatchObject({
        reason: "too_large",
      });
      await expect(open.request(`http://127.0.0.1:${port}/slow`)).rejects.toMatchObject({
        reason: "timeout",
      });
    } finally {
      await open.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("SecretBox", () => {
  const key = (id: string) => ({ id, key: randomBytes(32) });

  it("opens what it sealed, names the key, and binds the ciphertext to its row", () => {
    const box = new SecretBox([key("k1")]);
    const sealed = box.seal("hunter2", "account:a");
    expect(sealed).toMatch(/^v1\.k1\./);
    expect(sealed).not.toContain("hunter2");
    expect(box.open(sealed, "account:a")).toBe("hunter2");
    expect(() => box.open(sealed, "account:b")).toThrow(/failed authentication/);
    const tampered = `${sealed.slice(0, -4)}AAAA`;
    expect(() => box.open(tampered, "account:a")).toThrow();
  });

  it("rotates: the new key seals, the old one still opens old data", () => {
    const oldKey = key("old");
    const before = new SecretBox([oldKey]).seal("v", "ctx");
    const rotated = new SecretBox([key("new"), oldKey]);
    expect(rotated.open(before, "ctx")).toBe("v");
    expect(rotated.needsResealing(before)).toBe(true);
    const after = rotated.seal("v", "ctx");
    expect(after).toMatch(/^v1\.new\./);
    expect(rotated.needsResealing(after)).toBe(false);
    expect(() => new SecretBox([oldKey]).open(after, "ctx")).toThrow(/unknown encryption key "new"/);
  });

  it("never seals the same plaintext to the same ciphertext", () => {
    const box = new SecretBox([key("k")]);
    fc.assert(
      fc.property(fc.string(), (plaintext) => {
        const a = box.seal(plaintext, "c");
        expect(a).not.toBe(box.seal(plaintext, "c"));
        expect(box.open(a, "c")).toBe(plaintext);
      }),
      { numRuns: 100 },
    );
  });
});

describe("the OAuth state", () => {
  let hub: TestServer;
  let idp: TestIdentityProvider;
  let apiKey: string;

  beforeAll(async () => {
    ({ hub, idp, apiKey } = await startHubWithIdentityProvider());
  });
  afterAll(async () => {
    await hub.close();
    await idp.close();
  });

  async function start(token: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${hub.url}/connect/oauth/start`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ provider: TEST_PROVIDER_KEY }),
    });
    return { response, body: await response.json() };
  }

  it("sends the browser to the provider with PKCE S256 and a 256-bit single-use state in an HttpOnly cookie", async () => {
    const { token } = await createSession(hub, apiKey);
    const { response, body } = await start(token);
    expect(response.status).toBe(201);
    const url = new URL(body.authorization_url);
    expect(url.origin).toBe(idp.issuer);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("state")).toMatch(/^chst_[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("redirect_uri")).toBe(`${hub.config.publicUrl}/connect/oauth/callback`);
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^connect_hub_oauth=chb_[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/connect/oauth");
    expect(cookie).toContain("Max-Age=600");
  });

  it("refuses a callback from another browser, a replayed state and a mixed-up issuer", async () => {
    const callback = async (query: Record<string, string>, cookie?: string) => {
      const response = await fetch(`${hub.url}/connect/oauth/callback?${new URLSearchParams(query)}`, {
        headers: cookie ? { cookie } : {},
      });
      return { status: response.status, html: await response.text() };
    };
    const begin = async () => {
      const { token } = await createSession(hub, apiKey);
      const { response, body } = await start(token);
      const state = new URL(body.authorization_url).searchParams.get("state") as string;
      const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] as string;
      return { state, cookie };
    };

    const elsewhere = await begin();
    const stranger = await callback(
      { state: elsewhere.state, code: "x" },
      `connect_hub_oauth=chb_${"A".repeat(43)}`,
    );
    expect(stranger.html).toContain("This authorization was started elsewhere");
    // The stranger did not consume the state (edge-oauth.test.ts completes a real connection
    // after one): the real browser's callback reaches the code exchange, and uses it up.
    const owner = await callback({ state: elsewhere.state, code: "x" }, elsewhere.cookie);
    expect(owner.html).not.toContain("started elsewhere");
    expect(owner.html).not.toContain("has expired");
    expect((await callback({ state: elsewhere.state, code: "x" }, elsewhere.cookie)).html).toContain(
      "This authorization has expired",
    );

    const mixedUp = await begin();
    const wrongIssuer = await callback(
      { state: mixedUp.state, code: "x", iss: "https://evil.example" },
      mixedUp.cookie,
    );
    expect(wrongIssuer.html).toContain("The authorization came from the wrong provider");

    expect((await callback({ code: "x" })).html).toContain("The provider sent no state");
    expect((await callback({ state: "chst_unknown", code: "x" })).html).toContain(
      "This authorization has expired",
    );
  });

  it("answers random connect page posts with a 4xx, never 500", async () => {
    const { token } = await createSession(hub, apiKey);
    const anyJson = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          provider: fc.oneof(fc.string(), fc.constant(TEST_PROVIDER_KEY)),
          values: fc.jsonValue(),
          setup_values: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        anyJson,
        fc.constantFrom("/connect/api/credentials", "/connect/oauth/start"),
        fc.boolean(),
        async (body, path, withToken) => {
          const response = await fetch(`${hub.url}${path}`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(withToken ? { authorization: `Bearer ${token}` } : {}),
            },
            body: JSON.stringify(body),
          });
          expect(response.status === 201 || (response.status >= 400 && response.status < 500)).toBe(true);
          await response.arrayBuffer();
        },
      ),
      { numRuns: 150 },
    );
  });

  it("refuses to start from another site", async () => {
    const { token } = await createSession(hub, apiKey);
    const { response } = await start(token, { origin: "https://evil.example" });
    expect(response.status).toBe(403);
  });

  it("marks the cookie Secure when the server is served over https", async () => {
    const secure = await startTestServer({
      env: {
        PUBLIC_URL: "https://hub.example.com",
        PROVIDERS_DIR: idp.providersDir,
        OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      },
    });
    try {
      const key = await secure.createApiKey();
      await adminRequest(secure, key, "PUT", `/integrations/${TEST_PROVIDER_KEY}`, {
        client_id: "c",
        client_secret: "s",
      });
      const { token } = await createSession(secure, key);
      const response = await fetch(`${secure.url}/connect/oauth/start`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          origin: "https://hub.example.com",
        },
        body: JSON.stringify({ provider: TEST_PROVIDER_KEY }),
      });
      expect(response.headers.get("set-cookie")).toContain("Secure");
      expect(response.headers.get("strict-transport-security")).toContain("max-age");
    } finally {
      await secure.close();
    }
  });
});

describe("a replayed OAuth callback", () => {
  let hub: TestServer;
  let tokens: TokenEndpoint;
  let apiKey: string;

  beforeAll(async () => {
    tokens = await startTokenEndpoint();
    hub = await startTestServer({
      env: { PROVIDERS_DIR: tokens.providersDir, OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
    });
    apiKey = await hub.createApiKey();
    await adminRequest(hub, apiKey, "PUT", `/integrations/${TOKEN_PROVIDER_KEY}`, {
      client_id: "replay-client",
      client_secret: "replay-secret",
    });
  });
  afterAll(async () => {
    await hub?.close();
    await tokens?.close();
  });

  it("is refused after a successful callback: no second code exchange, nothing changed", async () => {
    const { token } = await createSession(hub, apiKey, { origin_owner_id: "replayed" });
    const started = await fetch(`${hub.url}/connect/oauth/start`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ provider: TOKEN_PROVIDER_KEY }),
    });
    expect(started.status).toBe(201);
    const state = new URL(
      ((await started.json()) as { authorization_url: string }).authorization_url,
    ).searchParams.get("state") as string;
    const cookie = (started.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const callback = async () => {
      const response = await fetch(
        `${hub.url}/connect/oauth/callback?${new URLSearchParams({ state, code: "the-code" })}`,
        { headers: { cookie } },
      );
      return response.text();
    };

    expect(await callback()).toContain("Token IdP is connected");
    expect(tokens.calls()).toBe(1);
    const accounts = await hub.db.kysely.selectFrom("linked_accounts").select(["id", "updated_at"]).execute();
    expect(accounts).toHaveLength(1);

    // The same browser, the same state and code, after the success.
    expect(await callback()).toContain("This authorization has expired");
    expect(tokens.calls()).toBe(1);
    expect(await hub.db.kysely.selectFrom("linked_accounts").select(["id", "updated_at"]).execute()).toEqual(
      accounts,
    );
  });
});

describe("API keys", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("rotates a key: the new one works at once and the old one is refused", async () => {
    const { TenancyService } = await import("../src/tenancy/service.js");
    const tenancy = new TenancyService(server.db.kysely);
    const created = await tenancy.createApiKey({ project: "rotate" });
    const rotated = await tenancy.rotateApiKey(created.id);
    expect(rotated?.key).toMatch(/^chk_/);
    const call = (key: string) =>
      fetch(`${server.url}/accounts`, { headers: { authorization: basicAuth(key) } }).then(async (r) => ({
        status: r.status,
        headers: r.headers,
        body: await r.json(),
      }));
    expect((await call(rotated?.key as string)).status).toBe(200);
    expect(expectErrorBody(await call(created.key), 401)).toContain("invalid or has been revoked");
    expect(await tenancy.rotateApiKey(created.id)).toBeUndefined();
  });

  it("answers random PATCH bodies and account queries with a 4xx, never 500", async () => {
    const apiKey = await server.createApiKey("fuzz");
    await adminRequest(server, apiKey, "PUT", "/integrations/ashby", { verify_credentials: false });
    const id = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "fuzz", multiple: true });
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            origin_owner_id: value,
            label: value,
            metadata: value,
            credentials: value,
            provider: value,
            type: value,
          },
          { requiredKeys: [] },
        ),
        async (patch) => {
          const response = await adminRequest(server, apiKey, "PATCH", `/accounts/${id}`, patch);
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), async (query) => {
        const response = await fetch(`${server.url}/accounts?${query}`, {
          headers: { authorization: basicAuth(apiKey) },
        });
        expect(response.status).toBeLessThan(500);
        await response.arrayBuffer();
      }),
      { numRuns: 150 },
    );
  });
});
