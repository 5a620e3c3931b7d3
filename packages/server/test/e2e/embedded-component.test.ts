/**
 * StackOne's own embeddable component, `@stackone/hub` 1.11.4 unmodified (the `<stackone-hub>`
 * web component and the React `StackOneHub`), on a page of another loopback origin, pointed at
 * Connect Hub by `baseUrl` and `appUrl` alone, driven in Debian's Chromium. OAuth2 runs against
 * a real authorization server (oidc-provider) through the component's popup and polling.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Embedder, startEmbedder } from "../support/embedder.js";
import { adminRequest, connectApiKeyAccount, createSession } from "../support/hub.js";
import {
  startHubWithIdentityProvider,
  TEST_PROVIDER_KEY,
  type TestIdentityProvider,
} from "../support/identity-provider.js";
import type { TestServer } from "../support/server.js";
import { chromiumAvailable, launchChromium, screenshot } from "./browser.js";

let hub: TestServer;
let idp: TestIdentityProvider;
let apiKey: string;
let embedder: Embedder;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const admin = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);

type Kind = "web-component" | "react";

/** Opens the embedding page with a component of `kind` for a session token. */
async function openEmbedded(
  kind: Kind,
  token: string,
  options: { origin?: string; accountId?: string } = {},
): Promise<void> {
  const params = new URLSearchParams({ token, baseUrl: hub.url, appUrl: hub.url });
  if (options.accountId) params.set("accountId", options.accountId);
  await page.goto(`${options.origin ?? embedder.origin}/${kind}?${params}`);
}

async function successEvents(): Promise<Array<{ id: string; provider: string }>> {
  return page.evaluate(() =>
    (window as unknown as { hubEvents: Array<{ detail: { id: string; provider: string } }> }).hubEvents.map(
      (event) => event.detail,
    ),
  );
}

async function waitForSuccess(): Promise<{ id: string; provider: string }> {
  await page.waitForFunction(() => (window as unknown as { hubEvents: unknown[] }).hubEvents.length > 0);
  const [event] = await successEvents();
  if (!event) throw new Error("no success event");
  return event;
}

beforeAll(async () => {
  ({ hub, idp, apiKey } = await startHubWithIdentityProvider({ env: { RATE_LIMIT_PER_MINUTE: "100000" } }));
  embedder = await startEmbedder();
  await admin("PUT", "/integrations/ashby", { verify_credentials: false });
  await admin("PUT", "/integrations/bamboohr", { verify_credentials: false });
  await admin("PATCH", "/project", { allowed_origins: [embedder.origin] });
  if (chromiumAvailable) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await embedder?.close();
  await hub?.close();
  await idp?.close();
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 600, height: 760 } });
  page = await context.newPage();
});
afterEach(() => context.close());

describe.skipIf(!chromiumAvailable)("StackOne's embeddable component against Connect Hub", () => {
  for (const kind of ["web-component", "react"] as const) {
    it(`${kind}: lists the connectors, submits an API-key form, and the account is created`, async () => {
      const owner = `embed-${kind}`;
      const session = await createSession(hub, apiKey, {
        origin_owner_id: owner,
        origin_owner_name: "Embed Co",
      });
      const logoLoaded = page.waitForEvent("requestfinished", (request) =>
        request.url().endsWith("/connect/logos/ashby.svg"),
      );
      await openEmbedded(kind, session.token);

      await page.getByText("Ashby", { exact: true }).waitFor();
      await page.getByText("BambooHR", { exact: true }).waitFor();
      await page.getByText("Test Identity Provider", { exact: true }).waitFor();
      // Logos load on the embedding page from Connect Hub's origin (not blocked by CORP).
      await logoLoaded;
      await screenshot(page, `embedded-${kind}-list`);

      await page.getByText("Ashby", { exact: true }).click();
      await page.locator('input[name="api_key"]').fill("ashby-embedded-key-0001");
      await screenshot(page, `embedded-${kind}-form`);
      await page.getByRole("button", { name: "Connect", exact: true }).click();
      const account = await waitForSuccess();
      expect(account.provider).toBe("ashby");
      await page.getByText("Account successfully connected to", { exact: false }).waitFor();
      await screenshot(page, `embedded-${kind}-success`);

      const listed = await admin("GET", `/accounts?origin_owner_id=${owner}`);
      expect(listed.body.map((a) => a.id)).toEqual([account.id]);
      const credentials = await admin("GET", `/accounts/${account.id}/credentials`);
      expect(credentials.body.credentials).toEqual({ api_key: "ashby-embedded-key-0001" });
      const used = await admin("POST", "/connect_sessions/authenticate", { token: session.token });
      expect(used.body.status).toBe("completed");
    });
  }

  it("edit mode pre-fills the account, masks its secret behind Edit, and re-authorizes it", async () => {
    const accountId = await connectApiKeyAccount(hub, apiKey, { origin_owner_id: "embed-edit" }, "bamboohr", {
      subdomain: "acme",
      api_key: "bamboo-original-secret-9876",
    });
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "embed-edit",
      account_id: accountId,
    });
    await openEmbedded("web-component", session.token);

    const subdomain = page.locator('input[name="subdomain"]');
    await subdomain.waitFor();
    expect(await subdomain.inputValue()).toBe("acme");
    const masked = page.locator('input[name="api_key-display"]');
    expect(await masked.inputValue()).toBe("••••••••••9876");
    await screenshot(page, "embedded-edit-prefilled");

    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.locator('input[name="api_key"]').fill("bamboo-rotated-secret-1234");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    const account = await waitForSuccess();
    expect(account).toEqual({ id: accountId, provider: "bamboohr" });
    const credentials = await admin("GET", `/accounts/${accountId}/credentials`);
    expect(credentials.body.credentials).toEqual({
      subdomain: "acme",
      api_key: "bamboo-rotated-secret-1234",
    });
  });

  it("connects an OAuth2 account through the popup and polling (React)", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "embed-oauth",
      provider: TEST_PROVIDER_KEY,
    });
    await openEmbedded("react", session.token);
    await page.getByText('Press "Connect" below to authenticate').waitFor();
    await screenshot(page, "embedded-oauth-start");
    const popupOpened = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    const popup = await popupOpened;

    await popup.waitForURL((url) => url.origin === idp.issuer);
    await popup.waitForSelector('input[name="login"], button:has-text("Continue")');
    if (await popup.locator('input[name="login"]').count()) {
      await popup.fill('input[name="login"]', "jane");
      await popup.fill('input[name="password"]', "any-password");
      await popup.click("button.login-submit");
      await popup.waitForSelector("text=Continue");
    }
    await screenshot(popup, "embedded-oauth-consent");
    const closed = popup.waitForEvent("close");
    await popup.click("button.login-submit");
    await closed;

    const account = await waitForSuccess();
    expect(account.provider).toBe(TEST_PROVIDER_KEY);
    await screenshot(page, "embedded-oauth-success");
    const credentials = await admin("GET", `/accounts/${account.id}/credentials`);
    expect(credentials.body.credentials).toMatchObject({ access_token: expect.any(String) });
  });

  it("shows the component's expired state for a token that is no longer valid", async () => {
    await openEmbedded("web-component", "chs_expiredOrNeverIssued");
    await page.getByText("No configured integrations available.").waitFor();
    await screenshot(page, "embedded-expired");
  });

  it("gives a page on an origin the project does not allow no CORS grant", async () => {
    const session = await createSession(hub, apiKey, { origin_owner_id: "embed-stranger" });
    await openEmbedded("web-component", session.token, { origin: embedder.strangerOrigin });
    const outcome = await page.evaluate(
      async ({ baseUrl, token }) =>
        fetch(`${baseUrl}/hub/connectors`, {
          headers: { "content-type": "application/json", "x-hub-session-token": token },
        }).then(
          (response) => `read ${response.status}`,
          (error: Error) => `blocked: ${error.name}`,
        ),
      { baseUrl: hub.url, token: session.token },
    );
    expect(outcome).toBe("blocked: TypeError");
    await screenshot(page, "embedded-stranger-origin");
    expect(await page.getByText("Ashby", { exact: true }).count()).toBe(0);
  });

  it("the hosted page learns from it: re-authorization pre-fills and masks secrets behind Edit", async () => {
    const accountId = await connectApiKeyAccount(
      hub,
      apiKey,
      { origin_owner_id: "hosted-edit" },
      "bamboohr",
      {
        subdomain: "initech",
        api_key: "bamboo-hosted-secret-5555",
      },
    );
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "hosted-edit",
      account_id: accountId,
    });
    await page.goto(session.auth_link_url);
    await page.getByRole("heading", { name: "Reconnect BambooHR" }).waitFor();
    expect(await page.getByLabel("Company subdomain").inputValue()).toBe("initech");
    expect(await page.getByLabel("API key").inputValue()).toBe("••••••••••5555");
    expect(await page.content()).not.toContain("bamboo-hosted-secret");
    await screenshot(page, "connect-reauthorize-prefilled");

    // Unedited, the secret keeps its value; the plain value changes.
    await page.getByLabel("Company subdomain").fill("initrode");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await page.getByRole("heading", { name: "BambooHR is connected" }).waitFor();
    const kept = await admin("GET", `/accounts/${accountId}/credentials`);
    expect(kept.body.credentials).toEqual({ subdomain: "initrode", api_key: "bamboo-hosted-secret-5555" });

    // Edited, the new secret replaces it.
    const again = await createSession(hub, apiKey, { origin_owner_id: "hosted-edit", account_id: accountId });
    await page.goto(again.auth_link_url);
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.getByLabel("API key").fill("bamboo-hosted-rotated-7777");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await page.getByRole("heading", { name: "BambooHR is connected" }).waitFor();
    const rotated = await admin("GET", `/accounts/${accountId}/credentials`);
    expect(rotated.body.credentials).toEqual({
      subdomain: "initrode",
      api_key: "bamboo-hosted-rotated-7777",
    });
  });
});
