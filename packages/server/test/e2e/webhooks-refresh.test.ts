/**
 * `account.credentials_refresh_failed` from a real OAuth2 flow: an account connected in
 * Chromium against a real authorization server (oidc-provider), whose refresh the server then
 * refuses (the integration's client secret no longer matches).
 */
import type { Browser } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, createSession } from "../support/hub.js";
import {
  startHubWithIdentityProvider,
  TEST_PROVIDER_KEY,
  type TestIdentityProvider,
} from "../support/identity-provider.js";
import type { TestServer } from "../support/server.js";
import { signatureHeaders, startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { chromiumAvailable, launchChromium } from "./browser.js";

let hub: TestServer;
let idp: TestIdentityProvider;
let receiver: WebhookReceiver;
let browser: Browser;
let apiKey: string;
const admin = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);

beforeAll(async () => {
  // Tokens that live less than the refresh margin (60 s): every credentials call refreshes.
  ({ hub, idp, apiKey } = await startHubWithIdentityProvider({
    accessTokenTtlSeconds: 30,
    env: { WEBHOOK_POLL_INTERVAL: "50ms", RATE_LIMIT_PER_MINUTE: "100000" },
  }));
  receiver = await startWebhookReceiver();
  if (chromiumAvailable) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await receiver?.stop();
  await hub?.close();
  await idp?.close();
});

describe.skipIf(!chromiumAvailable)("account.credentials_refresh_failed", () => {
  it("is sent once when a refused refresh puts an OAuth2 account into error", async () => {
    const endpoint = await admin("POST", "/webhooks/endpoints", {
      url: receiver.url,
      events: ["account.credentials_refresh_failed"],
    });
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "oauth-refresh",
      provider: TEST_PROVIDER_KEY,
    });
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
    await page.getByRole("heading", { name: "Test Identity Provider is connected" }).waitFor();
    await page.close();
    const accountId = (
      (await admin("POST", "/connect_sessions/authenticate", { token: session.token })).body.account as {
        id: string;
      }
    ).id;

    await admin("PUT", `/integrations/${TEST_PROVIDER_KEY}`, { client_secret: "no-longer-the-secret" });
    expect((await admin("GET", `/accounts/${accountId}/credentials`)).status).toBe(502);
    const [delivery] = await receiver.waitFor((all) => all.length === 1);
    if (!delivery) throw new Error("no delivery");
    new Webhook(endpoint.body.secret as string).verify(delivery.body, signatureHeaders(delivery));
    expect(delivery.event.type).toBe("account.credentials_refresh_failed");
    expect(delivery.event.data.account).toMatchObject({
      id: accountId,
      status: "error",
      auth_type: "oauth2",
      status_reasons: [{ code: "refresh_failed" }],
    });
    expect(delivery.event.data.origin_owner).toMatchObject({ id: "oauth-refresh" });
    expect(delivery.body).not.toMatch(/access_token|refresh_token/);

    // Still failing: the account stays in error, and no second event is sent.
    expect((await admin("GET", `/accounts/${accountId}/credentials`)).status).toBe(502);
    // Events are written with the change: the outbox, not a wait, shows there is no second one.
    const events = await hub.db.kysely
      .selectFrom("webhook_events")
      .select("id")
      .where("type", "=", "account.credentials_refresh_failed")
      .execute();
    expect(events).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
  });
});
