/**
 * The `/hub/*` API behind StackOne's embeddable component, over real HTTP: CORS only for the
 * project's origins, only the session's own account, secrets redacted, connection attempts and
 * the OAuth2 popup entry bound to them, and no input that answers 500.
 */
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, connectApiKeyAccount, createSession } from "./support/hub.js";
import { startHubWithIdentityProvider, TEST_PROVIDER_KEY } from "./support/identity-provider.js";
import type { TestServer } from "./support/server.js";

const ORIGIN = "https://app.embedder.test";
const OTHER_PROJECT_ORIGIN = "https://other.embedder.test";

let hub: TestServer;
let apiKey: string;
let otherApiKey: string;
let close: () => Promise<void>;
let clockOffsetMs = 0;
const logLines: string[] = [];

const admin = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);

async function hubCall(
  method: string,
  path: string,
  options: { token?: string; origin?: string; body?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${hub.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      "x-hub-version": "1.11.4",
      ...(options.token ? { "x-hub-session-token": options.token } : {}),
      ...(options.origin ? { origin: options.origin } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

async function integrationId(token: string, provider: string): Promise<string> {
  const listed = await hubCall("GET", "/hub/connectors", { token });
  const entry = (listed.body.integrations as Array<{ provider: string; integration_id: string }>).find(
    (i) => i.provider === provider,
  );
  if (!entry) throw new Error(`${provider} not listed`);
  return entry.integration_id;
}

beforeAll(async () => {
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
  let stopHub: () => Promise<void>;
  ({
    hub,
    apiKey,
    close: stopHub,
  } = await startHubWithIdentityProvider({
    clock: () => new Date(Date.now() + clockOffsetMs),
    env: { RATE_LIMIT_PER_MINUTE: "100000" },
    logStream: stream,
  }));
  close = stopHub;
  await admin("PUT", "/integrations/ashby", { verify_credentials: false });
  await admin("PUT", "/integrations/bamboohr", { verify_credentials: false });
  await admin("PATCH", "/project", { allowed_origins: [ORIGIN] });
  otherApiKey = await hub.createApiKey("other-project");
  await adminRequest(hub, otherApiKey, "PUT", "/integrations/ashby", { verify_credentials: false });
  await adminRequest(hub, otherApiKey, "PATCH", "/project", { allowed_origins: [OTHER_PROJECT_ORIGIN] });
});
afterAll(() => close());

describe("CORS on /hub/*", () => {
  it("grants a preflight to an allowed origin with the component's headers and methods", async () => {
    const response = await fetch(`${hub.url}/hub/connectors`, {
      method: "OPTIONS",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "GET",
        "access-control-request-headers": "content-type,x-hub-session-token,x-hub-version",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.headers.get("access-control-allow-headers")).toBe(
      "content-type, x-hub-session-token, x-hub-version",
    );
    expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST, PATCH, DELETE");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("gives an origin no project allows no grant, and routes outside /hub/* no CORS at all", async () => {
    const stranger = await fetch(`${hub.url}/hub/settings`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.test", "access-control-request-method": "GET" },
    });
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
    const outside = await fetch(`${hub.url}/accounts`, {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "GET" },
    });
    expect(outside.headers.get("access-control-allow-origin")).toBeNull();
    const { token } = await createSession(hub, apiKey);
    const accounts = await fetch(`${hub.url}/accounts`, { headers: { origin: ORIGIN } });
    expect(accounts.headers.get("access-control-allow-origin")).toBeNull();
    const hubCallFromOrigin = await hubCall("GET", "/hub/settings", { token, origin: ORIGIN });
    expect(hubCallFromOrigin.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });

  it("refuses a session's calls from another project's origin with 403 and no grant", async () => {
    const { token } = await createSession(hub, apiKey);
    const response = await hubCall("GET", "/hub/connectors", { token, origin: OTHER_PROJECT_ORIGIN });
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.body).toMatchObject({ statusCode: 403, message: expect.any(String) });
  });

  it("lets an allowed origin read the 401 of an unknown token (the component's expired state)", async () => {
    const response = await hubCall("GET", "/hub/settings", { token: "chs_unknown", origin: ORIGIN });
    expect(response.status).toBe(401);
    expect(response.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(response.body).toMatchObject({ statusCode: 401, message: expect.any(String) });
  });
});

describe("settings and connectors", () => {
  it("follow the session's filters, with absolute logos loadable cross-origin", async () => {
    const { token } = await createSession(hub, apiKey, { categories: ["ats"] });
    const settings = await hubCall("GET", "/hub/settings", { token });
    expect(settings.body).toEqual({ enabled_features: [] });
    const listed = await hubCall("GET", "/hub/connectors", { token });
    const integrations = listed.body.integrations as Array<Record<string, unknown>>;
    expect(integrations.map((i) => i.provider)).toEqual(["ashby"]);
    expect(integrations[0]).toMatchObject({
      name: "Ashby",
      type: "ats",
      active: true,
      authentication_config_key: "api_key",
      environment: "production",
      logo_url: `${hub.url}/connect/logos/ashby.svg`,
    });
    const logo = await fetch(integrations[0]?.logo_url as string);
    expect(logo.status).toBe(200);
    expect(logo.headers.get("cross-origin-resource-policy")).toBe("cross-origin");

    const all = await createSession(hub, apiKey);
    const filtered = await hubCall("GET", "/hub/connectors?provider=bamboohr", { token: all.token });
    expect((filtered.body.integrations as Array<{ provider: string }>).map((i) => i.provider)).toEqual([
      "bamboohr",
    ]);
  });

  it("describe a connector's form with the component's field types and anchored patterns", async () => {
    const { token } = await createSession(hub, apiKey);
    const id = await integrationId(token, "bamboohr");
    const response = await hubCall("GET", `/hub/connectors/${id}`, { token });
    const config = response.body.config as Record<string, unknown>;
    expect(config).toMatchObject({
      key: "bamboohr",
      name: "BambooHR",
      assets: { icon: expect.stringMatching(/^http/) },
    });
    const form = (
      config.authentication as Record<string, Record<string, { type: string; fields: unknown[] }>>
    ).api_key?.production;
    expect(form?.type).toBe("api_key");
    const [subdomain, key] = (form?.fields ?? []) as Array<Record<string, unknown>>;
    const pattern = (subdomain?.validation as { pattern: string } | undefined)?.pattern ?? "";
    expect(subdomain).toMatchObject({ key: "subdomain", type: "text", secret: false, required: true });
    expect(pattern).toMatch(/^\^\(\?:.*\)\$$/);
    expect(new RegExp(pattern).test("acme!")).toBe(false);
    expect(key).toMatchObject({ key: "api_key", type: "password", secret: true });

    const oauth = await hubCall("GET", `/hub/connectors/${await integrationId(token, TEST_PROVIDER_KEY)}`, {
      token,
    });
    const oauthConfig = (oauth.body.config as { authentication: Record<string, Record<string, unknown>> })
      .authentication.oauth2?.production;
    expect(oauthConfig).toMatchObject({ type: "oauth2", grantType: "authorization_code" });

    const missing = await hubCall("GET", "/hub/connectors/int_nope", { token });
    expect(missing.status).toBe(404);
  });
});

describe("accounts", () => {
  it("creates an account as the connect page does, completing the session", async () => {
    const { token } = await createSession(hub, apiKey, { origin_owner_id: "api-create" });
    const id = await integrationId(token, "ashby");
    const bad = await hubCall("POST", "/hub/accounts", {
      token,
      body: { integration_id: id, credentials: {} },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("API key is required");
    const created = await hubCall("POST", "/hub/accounts", {
      token,
      body: { integration_id: id, credentials: { api_key: "ashby-key-from-hub-api" } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^acc_/), provider: "ashby" });
    const again = await hubCall("POST", "/hub/accounts", {
      token,
      body: { integration_id: id, credentials: { api_key: "second" } },
    });
    expect(again.status).toBe(409);
  });

  it("shows only the session's account, secrets redacted, and keeps unedited secrets on PATCH", async () => {
    const accountId = await connectApiKeyAccount(hub, apiKey, { origin_owner_id: "api-edit" }, "bamboohr", {
      subdomain: "acme",
      api_key: "bamboo-long-secret-value-4321",
    });
    const otherAccount = await connectApiKeyAccount(hub, apiKey, { origin_owner_id: "api-other" });
    const { token } = await createSession(hub, apiKey, {
      origin_owner_id: "api-edit",
      account_id: accountId,
    });

    expect((await hubCall("GET", "/hub/settings", { token })).body).toEqual({
      enabled_features: [],
      existing_account_id: accountId,
    });
    const shown = await hubCall("GET", `/hub/accounts/${accountId}`, { token });
    expect(shown.body).toEqual({
      id: accountId,
      provider: "bamboohr",
      integrationId: expect.stringMatching(/^int_/),
      authConfigKey: "api_key",
      environment: "production",
      setupInformation: { subdomain: "acme" },
      secrets: { api_key: "__secretvalue:**redacted**4321" },
    });
    expect(JSON.stringify(shown.body)).not.toContain("bamboo-long-secret");
    expect((await hubCall("GET", `/hub/accounts/${otherAccount}`, { token })).status).toBe(404);
    const otherPatch = await hubCall("PATCH", `/hub/accounts/${otherAccount}`, {
      token,
      body: { integration_id: shown.body.integrationId, credentials: { api_key: "x" } },
    });
    expect(otherPatch.status).toBe(404);

    const patched = await hubCall("PATCH", `/hub/accounts/${accountId}`, {
      token,
      body: { integration_id: shown.body.integrationId, credentials: { subdomain: "globex" } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ id: accountId, provider: "bamboohr" });
    const credentials = await admin("GET", `/accounts/${accountId}/credentials`);
    expect(credentials.body.credentials).toEqual({
      subdomain: "globex",
      api_key: "bamboo-long-secret-value-4321",
    });
  });

  it("shows no characters of a short secret", async () => {
    const accountId = await connectApiKeyAccount(hub, apiKey, { origin_owner_id: "api-short" }, "ashby", {
      api_key: "short-key",
    });
    const { token } = await createSession(hub, apiKey, {
      origin_owner_id: "api-short",
      account_id: accountId,
    });
    const shown = await hubCall("GET", `/hub/accounts/${accountId}`, { token });
    expect(shown.body.secrets).toEqual({ api_key: "__secretvalue:**redacted**" });
  });
});

describe("connection attempts and the OAuth2 popup", () => {
  it("are created, polled and cancelled by their own session only", async () => {
    const { token } = await createSession(hub, apiKey);
    const other = await createSession(hub, apiKey);
    const created = await hubCall("POST", "/hub/connection_attempts", { token, body: { token } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(await hubCall("GET", `/hub/connection_attempts/${id}`, { token })).toMatchObject({
      status: 200,
      body: { id, status: "pending", account: null, error: null },
    });
    expect((await hubCall("GET", `/hub/connection_attempts/${id}`, { token: other.token })).status).toBe(404);
    expect((await hubCall("DELETE", `/hub/connection_attempts/${id}`, { token: other.token })).status).toBe(
      404,
    );
    const cancelled = await hubCall("DELETE", `/hub/connection_attempts/${id}`, { token });
    expect(cancelled.body).toMatchObject({ id, status: "cancelled" });
  });

  it("expire after ten minutes", async () => {
    const { token } = await createSession(hub, apiKey);
    const { body } = await hubCall("POST", "/hub/connection_attempts", { token, body: { token } });
    clockOffsetMs = 601_000;
    try {
      const polled = await hubCall("GET", `/hub/connection_attempts/${body.id}`, { token });
      expect(polled.body.status).toBe("expired");
    } finally {
      clockOffsetMs = 0;
    }
  });

  it("send the popup to the provider with PKCE and no referrer, and refuse a redirect_uri off the allow-list", async () => {
    const { token } = await createSession(hub, apiKey, { provider: TEST_PROVIDER_KEY });
    const integration = await integrationId(token, TEST_PROVIDER_KEY);
    const popup = async (redirectUri: string) => {
      const attempt = await hubCall("POST", "/hub/connection_attempts", { token, body: { token } });
      const query = new URLSearchParams({
        redirect_uri: redirectUri,
        token,
        connection_attempt_id: attempt.body.id as string,
      });
      const response = await fetch(`${hub.url}/connect/oauth2/${integration}?${query}`, {
        redirect: "manual",
      });
      return { response, attemptId: attempt.body.id as string };
    };

    const refused = await popup("https://evil.test/embedded/accounts/callback");
    expect(refused.response.status).toBe(400);
    expect(refused.response.headers.get("content-type")).toContain("text/html");
    expect(await refused.response.text()).toContain("allowed origins");
    const failed = await hubCall("GET", `/hub/connection_attempts/${refused.attemptId}`, { token });
    expect(failed.body).toMatchObject({
      status: "error",
      error: { description: expect.stringContaining("allowed") },
    });

    const started = await popup(`${ORIGIN}/embedded/accounts/callback`);
    expect(started.response.status).toBe(303);
    const location = new URL(started.response.headers.get("location") ?? "");
    expect(location.searchParams.get("code_challenge_method")).toBe("S256");
    expect(location.searchParams.get("state")).toMatch(/^chst_/);
    expect(location.toString()).not.toContain(token);
    expect(started.response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(started.response.headers.get("set-cookie")).toMatch(/HttpOnly/i);

    const closing = await fetch(`${hub.url}/embedded/accounts/callback`);
    expect(closing.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await closing.text()).toContain('src="/embedded/assets/close.js"');
    expect(logLines.join("\n")).not.toContain(token);
  });
});

describe("the OpenAPI document", () => {
  it("describes every /hub/* route under Embedded Hub, and the connector metadata", async () => {
    const document = (await (await fetch(`${hub.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { tags?: string[]; description?: string; summary?: string }>>;
    };
    const hubOperations = Object.entries(document.paths)
      .filter(([path]) => path.startsWith("/hub/"))
      .flatMap(([, operations]) => Object.values(operations));
    expect(hubOperations).toHaveLength(9);
    for (const operation of hubOperations) {
      expect(operation.tags).toEqual(["Embedded Hub"]);
      expect(operation.summary).toBeTruthy();
      expect(operation.description).toContain("x-hub-session-token");
    }
    expect(document.paths["/connectors/meta"]?.get).toBeDefined();
    expect(document.paths["/connectors/meta/{provider}"]?.get).toBeDefined();
  });
});

describe("bad input", () => {
  it("never answers 500 on the /hub/* routes and the popup", async () => {
    const { token } = await createSession(hub, apiKey);
    const paths = [
      "/hub/accounts",
      "/hub/connection_attempts",
      "/hub/accounts/acc_x",
      "/hub/connectors/int_x",
      "/hub/connection_attempts/cat_x",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PATCH", "DELETE"),
        fc.constantFrom(...paths),
        fc.jsonValue(),
        fc.boolean(),
        fc.string({ maxLength: 20 }),
        async (method, path, body, withToken, junk) => {
          const response = await hubCall(method, path, {
            ...(withToken ? { token } : { token: junk || "chs_x" }),
            ...(method === "GET" || method === "DELETE" ? {} : { body }),
          });
          expect(response.status).toBeLessThan(500);
          const popup = await fetch(
            `${hub.url}/connect/oauth2/${encodeURIComponent(junk || "x")}?token=${encodeURIComponent(junk)}&connection_attempt_id=${encodeURIComponent(junk)}&redirect_uri=${encodeURIComponent(junk)}`,
            { redirect: "manual" },
          );
          expect(popup.status).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });
});
