/**
 * The README's quick start, in Chromium: a fresh install offers the sandbox providers, served
 * by the server itself on loopback with the outbound guard ON (no OUTBOUND_ALLOW_PRIVATE_NETWORKS):
 * the API-key sandbox refuses a wrong key and accepts `sandbox-key-good`; the OAuth2 sandbox
 * authorizes (PKCE), keeps its metadata, and its token calls the sandbox API.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminRequest, createSession } from "../support/hub.js";
import { basicAuth, freePort, startTestServer, type TestServer } from "../support/server.js";
import { accessibilityViolations, chromiumAvailable, launchChromium, screenshot } from "./browser.js";

let hub: TestServer;
let apiKey: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const admin = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);

beforeAll(async () => {
  const port = await freePort();
  hub = await startTestServer({
    port,
    env: { PUBLIC_URL: `http://127.0.0.1:${port}`, SANDBOX_PROVIDERS: "true" },
  });
  apiKey = await hub.createApiKey();
  if (chromiumAvailable) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
});
beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 480, height: 800 } });
  page = await context.newPage();
});
afterEach(() => context.close());

describe.skipIf(!chromiumAvailable)("the sandbox quick start", () => {
  it("connects the API-key sandbox with sandbox-key-good after refusing a wrong key", async () => {
    const session = await createSession(hub, apiKey, { origin_owner_id: "quick-start" });
    await page.goto(session.auth_link_url);
    await page.getByRole("button", { name: /Sandbox \(API key\)/ }).click();
    await page.getByLabel("API key").fill("not-a-real-key-123");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain(
      "Sandbox (API key) refused these credentials (HTTP 401). Check the API key",
    );
    await screenshot(page, "sandbox-key-refused");
    expect((await admin("GET", "/accounts")).body).toEqual([]);

    await page.getByLabel("API key").fill("sandbox-key-good");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await page.getByRole("heading", { name: "Sandbox (API key) is connected" }).waitFor();
    await screenshot(page, "sandbox-key-connected");
    const accounts = (await admin("GET", "/accounts?provider=sandbox-api-key")).body;
    expect(accounts).toEqual([expect.objectContaining({ status: "active", origin_owner_id: "quick-start" })]);

    // The quick start's proxied call: the server applies the stored key itself.
    const proxied = await fetch(`${hub.url}/proxy/me`, {
      headers: { authorization: basicAuth(apiKey), "x-account-id": String(accounts[0]?.id) },
    });
    expect(proxied.status).toBe(200);
    expect(await proxied.json()).toMatchObject({ id: "sandbox-user-1", credential: "api_key" });
  });

  it("authorizes the OAuth2 sandbox and its token calls the sandbox API", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "quick-oauth",
      provider: "sandbox-oauth",
    });
    await page.goto(session.auth_link_url);
    await page.getByRole("button", { name: "Continue to Sandbox (OAuth2)" }).click();
    await page.getByRole("heading", { name: "Authorize Connect Hub" }).waitFor();
    await screenshot(page, "sandbox-oauth-authorize");
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole("link", { name: "Allow" }).click();
    await page.getByRole("heading", { name: "Sandbox (OAuth2) is connected" }).waitFor();

    const [account] = (await admin("GET", "/accounts?provider=sandbox-oauth")).body as unknown as Array<
      Record<string, unknown>
    >;
    expect(account).toMatchObject({
      status: "active",
      setup_information: {
        user_id: "sandbox-user-1",
        workspace_id: "ws_sandbox",
        email: "sam@sandbox.connect-hub.invalid",
      },
    });
    const credentials = await admin("GET", `/accounts/${account?.id}/credentials`);
    const me = await fetch(`${hub.url}/sandbox/oauth/api/me`, {
      headers: {
        authorization: `Bearer ${(credentials.body.credentials as { access_token: string }).access_token}`,
      },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: "sandbox-user-1", credential: "oauth2" });
    const unified = await fetch(`${hub.url}/unified/proxy`, {
      method: "POST",
      headers: {
        authorization: basicAuth(apiKey),
        "x-account-id": String(account?.id),
        "content-type": "application/json",
      },
      body: JSON.stringify({ path: "/me", method: "get" }),
    });
    expect(unified.status).toBe(200);
    expect(await unified.json()).toMatchObject({ id: "sandbox-user-1", credential: "oauth2" });
    const verified = await admin("POST", `/accounts/${account?.id}/verify`);
    expect(verified.body).toMatchObject({
      verification: { result: "verified" },
      account: { status: "active" },
    });
  });

  it("reports a cancelled authorization when the end user denies", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "quick-deny",
      provider: "sandbox-oauth",
    });
    await page.goto(session.auth_link_url);
    await page.getByRole("button", { name: "Continue to Sandbox (OAuth2)" }).click();
    await page.getByRole("link", { name: "Deny" }).click();
    await page.getByRole("heading", { name: "Authorization cancelled" }).waitFor();
  });
});
