/**
 * The sandbox providers over HTTP: on by default outside production and off in it, their
 * endpoints, and the one narrow exception they need in the outbound guard.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { OutboundClient, OutboundRequestError } from "../src/outbound/client.js";
import { expectErrorBody, postJson } from "./support/http.js";
import { adminRequest } from "./support/hub.js";
import { freePort, startTestServer, type TestServer } from "./support/server.js";

describe("SANDBOX_PROVIDERS", () => {
  const key = randomBytes(32).toString("base64");
  it("is on by default, off in production unless enabled, and needs a PUBLIC_URL it can serve", () => {
    expect(loadConfig({}).sandboxProviders).toBe(true);
    expect(loadConfig({ NODE_ENV: "production", ENCRYPTION_KEY: key }).sandboxProviders).toBe(false);
    expect(
      loadConfig({ NODE_ENV: "production", ENCRYPTION_KEY: key, SANDBOX_PROVIDERS: "true" }).sandboxProviders,
    ).toBe(true);
    expect(loadConfig({ PUBLIC_URL: "http://hub.internal:4000" }).sandboxProviders).toBe(false);
    expect(() => loadConfig({ PUBLIC_URL: "http://hub.internal:4000", SANDBOX_PROVIDERS: "true" })).toThrow(
      ConfigError,
    );
  });
});

describe("the outbound guard's sandbox exception", () => {
  let peer: Server;
  let origin: string;
  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    peer = createServer((_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => peer.listen(port, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => peer.close(() => resolve())));

  it("lets calls reach this server's own /sandbox/ routes on loopback, and nothing else", async () => {
    const client = new OutboundClient({
      timeoutMs: 2000,
      maxResponseBytes: 1024,
      allowPrivateNetworks: false,
      ownSandboxPrefix: `${origin}/sandbox/`,
    });
    try {
      expect((await client.request(`${origin}/sandbox/api-key/me`)).status).toBe(200);
      for (const url of [
        `${origin}/accounts`,
        `${origin}/sandbox/../accounts`,
        `${origin}/sandbox/%2e%2e/accounts`,
        `http://user@${origin.slice(7)}/sandbox/x`,
        `http://localhost:${origin.split(":")[2]}/sandbox/x`,
      ]) {
        const failure = await client.request(url).catch((error: unknown) => error);
        expect(failure, url).toBeInstanceOf(OutboundRequestError);
        expect((failure as OutboundRequestError).reason, url).toBe("blocked_address");
      }
    } finally {
      await client.close();
    }
  });
});

describe("a server with the sandbox", () => {
  let server: TestServer;
  let apiKey: string;
  beforeAll(async () => {
    const port = await freePort();
    server = await startTestServer({
      port,
      env: { PUBLIC_URL: `http://127.0.0.1:${port}`, SANDBOX_PROVIDERS: "true" },
    });
    apiKey = await server.createApiKey();
  });
  afterAll(() => server.close());

  it("offers both sandbox providers to a fresh project, with verification", async () => {
    const providers = (await adminRequest(server, apiKey, "GET", "/providers")).body;
    expect(providers.filter((p: Record<string, unknown>) => p.sandbox)).toEqual([
      expect.objectContaining({ key: "sandbox-api-key", auth_type: "api_key", verification: true }),
      expect.objectContaining({ key: "sandbox-oauth", auth_type: "oauth2", verification: true }),
    ]);
    const integrations = (await adminRequest(server, apiKey, "GET", "/integrations")).body;
    expect(integrations).toEqual([
      expect.objectContaining({ provider: "sandbox-api-key", enabled: true, ready: true }),
      expect.objectContaining({ provider: "sandbox-oauth", enabled: true, ready: true, client_id: null }),
    ]);
  });

  it("answers GET /me only for sandbox-key-good", async () => {
    const me = (key: string) =>
      fetch(`${server.url}/sandbox/api-key/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(await (await me("sandbox-key-good")).json()).toMatchObject({ id: "sandbox-user-1" });
    const refused = await me("sandbox-key-bad");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toContain("sandbox-key-good");
  });

  it("refuses a token request with the wrong client or without the PKCE verifier", async () => {
    const token = (body: Record<string, string>, auth: string) =>
      fetch(`${server.url}/sandbox/oauth/token`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(auth).toString("base64")}`,
        },
        body: new URLSearchParams(body).toString(),
      });
    const wrongClient = await token({ grant_type: "authorization_code", code: "x" }, "someone:else");
    expect(wrongClient.status).toBe(401);
    expect(await wrongClient.json()).toMatchObject({ error: "invalid_client", statusCode: 401 });
    const authorize = await fetch(
      `${server.url}/sandbox/oauth/authorize?${new URLSearchParams({
        client_id: "connect-hub-sandbox",
        redirect_uri: `${server.config.publicUrl}/connect/oauth/callback`,
        response_type: "code",
        state: "s1",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
      })}`,
    );
    const code = /code=([^&"]+)/.exec(await authorize.text())?.[1] as string;
    const grant = {
      grant_type: "authorization_code",
      code: decodeURIComponent(code),
      redirect_uri: `${server.config.publicUrl}/connect/oauth/callback`,
    };
    const noVerifier = await token(grant, "connect-hub-sandbox:connect-hub-sandbox-secret");
    expect(await noVerifier.json()).toMatchObject({ error: "invalid_grant" });
    const right = await token(
      { ...grant, code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" },
      "connect-hub-sandbox:connect-hub-sandbox-secret",
    );
    expect(await right.json()).toMatchObject({ token_type: "Bearer", user_id: "sandbox-user-1" });
    const elsewhere = await fetch(
      `${server.url}/sandbox/oauth/authorize?client_id=connect-hub-sandbox&redirect_uri=${encodeURIComponent("https://evil.example/cb")}&response_type=code&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256`,
    );
    expect(elsewhere.status).toBe(400);
  });
});

describe("a server without the sandbox (as in production)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SANDBOX_PROVIDERS: "false" } });
  });
  afterAll(() => server.close());

  it("neither serves nor offers it", async () => {
    const apiKey = await server.createApiKey();
    expect((await fetch(`${server.url}/sandbox/api-key/me`)).status).toBe(404);
    const providers = (await adminRequest(server, apiKey, "GET", "/providers")).body;
    expect(providers.some((p: Record<string, unknown>) => String(p.key).startsWith("sandbox"))).toBe(false);
    expect((await adminRequest(server, apiKey, "GET", "/integrations")).body).toEqual([]);
    const session = await postJson(
      `${server.url}/connect_sessions`,
      { origin_owner_id: "x", origin_owner_name: "X", provider: "sandbox-api-key" },
      { apiKey },
    );
    expect(expectErrorBody(session, 400)).toContain("sandbox-api-key is not in the catalog");
  });
});
