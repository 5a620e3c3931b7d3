/**
 * OAuth2 connection metadata and verification end to end: Chromium, Connect Hub, a real
 * authorization server (oidc-provider) that returns `instance_url` beside the tokens and
 * `realmId` on its redirect, and a provider simulator that answers the post-grant request
 * (`/oauth/connections`, as Xero's tenants) and the verification request at the base URL
 * built from `{{instance_url}}`.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, createSession } from "../support/hub.js";
import {
  startHubWithIdentityProvider,
  TEST_PROVIDER_KEY,
  type TestIdentityProvider,
} from "../support/identity-provider.js";
import {
  OAUTH_TENANT_ID,
  type ProviderSimulator,
  startProviderSimulator,
} from "../support/provider-simulator.js";
import type { TestServer } from "../support/server.js";
import { chromiumAvailable, launchChromium, screenshot } from "./browser.js";

let hub: TestServer;
let idp: TestIdentityProvider;
let simulator: ProviderSimulator;
let browser: Browser;
let apiKey: string;
const admin = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);

beforeAll(async () => {
  simulator = await startProviderSimulator();
  ({ hub, idp, apiKey } = await startHubWithIdentityProvider({
    // Shorter than the refresh margin: every credentials call refreshes.
    accessTokenTtlSeconds: 30,
    env: { RATE_LIMIT_PER_MINUTE: "100000" },
    idp: {
      tokenFields: { instance_url: simulator.origin },
      callbackParams: { realmId: "realm-9130" },
      onAccessToken: (token) => simulator.accepted.oauthTokens.add(token),
      providerFile: {
        api: {
          docs: "https://example.com/docs",
          baseUrl: "{{instance_url}}/oauth",
          allowedHosts: ["127.0.0.1"],
          auth: { style: "bearer" },
          verify: { method: "GET", path: "/me" },
        },
        connectionMetadata: [
          { key: "instance_url", from: "token_response", field: "instance_url", format: "url" },
          { key: "realm_id", from: "callback", param: "realmId" },
          {
            key: "tenant_id",
            from: "request",
            method: "GET",
            url: `${simulator.origin}/oauth/connections`,
            pointer: "/0/tenantId",
          },
        ],
      },
    },
  }));
  if (chromiumAvailable) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await hub?.close();
  await idp?.close();
  await simulator?.close();
});

async function authorize(owner: string): Promise<Page> {
  const session = await createSession(hub, apiKey, { origin_owner_id: owner, provider: TEST_PROVIDER_KEY });
  const page = await browser.newPage();
  await page.goto(session.auth_link_url);
  await page.getByRole("button", { name: "Continue to Test Identity Provider" }).click();
  await page.waitForURL((url) => url.origin === idp.issuer);
  await page.waitForSelector('input[name="login"], button:has-text("Continue")');
  if (await page.locator('input[name="login"]').count()) {
    await page.fill('input[name="login"]', "jane");
    await page.fill('input[name="password"]', "any-password");
    await page.click("button.login-submit");
    await page.waitForSelector("text=Continue");
  }
  await page.click("button.login-submit");
  return page;
}

const accountsOf = async (owner: string) =>
  (await admin("GET", `/accounts?origin_owner_id=${owner}`)).body as unknown as Array<
    Record<string, unknown>
  >;

describe.skipIf(!chromiumAvailable)("OAuth2 connection metadata", () => {
  it("keeps token-response, callback and post-grant values, and verifies at the base URL they build", async () => {
    const page = await authorize("meta-1");
    await page.getByRole("heading", { name: "Test Identity Provider is connected" }).waitFor();
    await page.close();
    const [account] = await accountsOf("meta-1");
    expect(account).toMatchObject({
      status: "active",
      setup_information: {
        instance_url: simulator.origin,
        realm_id: "realm-9130",
        tenant_id: OAUTH_TENANT_ID,
      },
    });
    const paths = simulator.requests.map((request) => request.path);
    expect(paths).toContain("/oauth/connections");
    // Verification went to {{instance_url}}/oauth/me, with the new access token.
    const verification = simulator.requests.find((request) => request.path === "/oauth/me");
    expect(verification?.headers.authorization).toMatch(/^Bearer .+/);

    // A refresh keeps the metadata (and may update token-response values).
    const grantsBefore = idp.grants.refresh_token;
    const fresh = await admin("GET", `/accounts/${account?.id}/credentials`);
    expect(fresh.status).toBe(200);
    expect(idp.grants.refresh_token).toBe(grantsBefore + 1);
    expect(fresh.body.setup_information).toMatchObject({
      instance_url: simulator.origin,
      realm_id: "realm-9130",
      tenant_id: OAUTH_TENANT_ID,
    });
  });

  it("refuses an OAuth2 connection whose new token the provider's API refuses, saving nothing", async () => {
    simulator.forbiddenPaths.add("/oauth/me");
    try {
      const page = await authorize("meta-refused");
      await page.getByRole("heading", { name: "Test Identity Provider could not be connected" }).waitFor();
      expect(await page.textContent("body")).toContain(
        "Test Identity Provider refused these credentials (HTTP 403)",
      );
      await screenshot(page, "oauth-verification-refused");
      await page.close();
      expect(await accountsOf("meta-refused")).toEqual([]);
    } finally {
      simulator.forbiddenPaths.clear();
    }
  });

  it("fails a connection whose required metadata is missing, naming the value", async () => {
    simulator.forbiddenPaths.add("/oauth/connections");
    try {
      const page = await authorize("meta-missing");
      await page.getByRole("heading", { name: "Test Identity Provider could not be connected" }).waitFor();
      expect(await page.textContent("body")).toContain("when asked for tenant_id");
      await page.close();
      expect(await accountsOf("meta-missing")).toEqual([]);
    } finally {
      simulator.forbiddenPaths.clear();
    }
  });
});
