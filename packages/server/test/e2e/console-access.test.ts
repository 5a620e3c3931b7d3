/**
 * Who gets into the console, in Chromium: sign-in through oidc-provider (an allowed identity
 * gets a session, another a clear refusal), a used or expired CLI link refused, a viewer who
 * sees no change controls and whose changes the API refuses, and CSRF and cross-origin posts
 * refused for a signed-in admin.
 */
import { sql } from "kysely";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, connectApiKeyAccount } from "../support/hub.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { freePort, startTestServer, type TestServer } from "../support/server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { accessibilityViolations, chromiumAvailable, launchChromium } from "./browser.js";
import {
  consoleLink,
  consoleScreenshot,
  openInApp,
  PHONE,
  waitForShell,
  watchedPage,
} from "./console-support.js";

const PROJECT = "console-access";
let hub: TestServer;
let idp: TestIdentityProvider;
let receiver: WebhookReceiver;
let apiKey: string;
let browser: Browser;
let accountId: string;
const REFUSED = /this sign-in link was used or has expired/i;
/** The buttons a viewer may see: they navigate, filter or switch the theme, never change data. */
const READ_ONLY_BUTTONS = new Set([
  "Menu",
  "Use dark theme",
  "Use light theme",
  "Sign out",
  "Search",
  "Filter",
  "Previous",
  "Next",
  "Deliveries",
  "By day",
  "By week",
]);

beforeAll(async () => {
  // Chromium starts while the servers do (assigned at once, so afterAll closes it either way).
  const launching = chromiumAvailable
    ? launchChromium().then((launched) => {
        browser = launched;
      })
    : undefined;
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  idp = await startIdentityProvider({ redirectUri: `${publicUrl}/console/oidc/callback` });
  receiver = await startWebhookReceiver();
  hub = await startTestServer({
    port,
    env: {
      PUBLIC_URL: publicUrl,
      SANDBOX_PROVIDERS: "true",
      RATE_LIMIT_PER_MINUTE: "100000",
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
      WEBHOOK_POLL_INTERVAL: "50ms",
      CONSOLE_OIDC_ISSUER: idp.issuer,
      CONSOLE_OIDC_CLIENT_ID: idp.clientId,
      CONSOLE_OIDC_CLIENT_SECRET: idp.clientSecret,
      CONSOLE_OIDC_ALLOW: "admin:sub:jane",
      CONSOLE_OIDC_NAME: "Sign in with Test IdP",
    },
  });
  apiKey = await hub.createApiKey(PROJECT);
  // A delivery for the webhooks page: the account's creation event, sent to a loopback receiver.
  await adminRequest(hub, apiKey, "POST", "/webhooks/endpoints", { url: receiver.url });
  accountId = await connectApiKeyAccount(
    hub,
    apiKey,
    { origin_owner_id: "owner-1", origin_owner_name: "Viewer Visible Co", provider: "sandbox-api-key" },
    "sandbox-api-key",
    { api_key: "sandbox-key-good" },
  );
  await launching;
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
  await idp?.close();
  await receiver?.stop();
});

/** Logs in at oidc-provider's development pages as `login` and consents. */
async function idpLogin(page: import("playwright-core").Page, login: string) {
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "any");
  await page.click("button.login-submit");
  await page.waitForSelector("text=Continue");
  await page.click("button.login-submit");
}

describe.skipIf(!chromiumAvailable)("console sign-in and access", () => {
  it("shows the sign-in page with the CLI command and the SSO button, on a laptop and a phone", async () => {
    const { page, context, problems } = await watchedPage(browser);
    await page.goto(`${hub.url}/console/`);
    await page.getByText("npx connect-hub console link --role admin").waitFor();
    await page.getByRole("link", { name: "Sign in with Test IdP" }).waitFor();
    await consoleScreenshot(page, "sign-in-laptop");
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.setViewportSize(PHONE);
    await consoleScreenshot(page, "sign-in-phone");
    expect(await problems()).toEqual([]);
    await context.close();
  });

  it("signs in through the OpenID Connect provider, and refuses an identity not on the allow-list", async () => {
    const allowed = await watchedPage(browser);
    await allowed.page.goto(`${hub.url}/console/`);
    await allowed.page.getByRole("link", { name: "Sign in with Test IdP" }).click();
    await idpLogin(allowed.page, "jane");
    await waitForShell(allowed.page);
    await allowed.page.getByText("jane").first().waitFor();
    expect(
      await allowed.page.evaluate(
        async () => (await (await fetch("/console/session")).json()).operator.method,
      ),
    ).toBe("oidc");
    expect(await allowed.problems()).toEqual([]);
    await allowed.context.close();

    const refused = await watchedPage(browser);
    await refused.page.goto(`${hub.url}/console/oidc/start`);
    await idpLogin(refused.page, "mallory");
    await refused.page.waitForURL(new RegExp(`^${hub.url}/console/`));
    await refused.page
      .getByText(/not allowed|refused/i)
      .first()
      .waitFor();
    await consoleScreenshot(refused.page, "oidc-refused");
    expect(await refused.context.cookies()).not.toContainEqual(
      expect.objectContaining({ name: "connect_hub_console" }),
    );
    await refused.context.close();
  });

  it("refuses a used sign-in link and an expired one", async () => {
    const link = await consoleLink(hub, { project: PROJECT });
    const first = await watchedPage(browser);
    await first.page.goto(link);
    await waitForShell(first.page);
    await first.context.close();

    const again = await watchedPage(browser);
    const answer = await again.page.goto(link);
    expect([401, 410]).toContain(answer?.status());
    await again.page.getByText(REFUSED).waitFor();
    await consoleScreenshot(again.page, "sign-in-link-refused");
    expect(await accessibilityViolations(again.page)).toEqual([]);
    expect(await again.page.evaluate(async () => (await fetch("/console/session")).status)).toBe(401);

    const expiring = await consoleLink(hub, { project: PROJECT });
    await sql`update console_sign_in_links set expires_at = ${"2000-01-01T00:00:00.000Z"} where consumed_at is null`.execute(
      hub.db.kysely,
    );
    const expired = await again.page.goto(expiring);
    expect([401, 410]).toContain(expired?.status());
    await again.page.getByText(REFUSED).waitFor();
    await again.context.close();
  });

  it("shows a viewer no change control on any page, and the API refuses a viewer's change", async () => {
    const viewer = await watchedPage(browser);
    const { page } = viewer;
    await page.goto(await consoleLink(hub, { project: PROJECT, role: "viewer" }));
    await waitForShell(page);
    // Each page, once it shows its data: only controls that read are there (no switch, no
    // enabled field that would change a setting, no button outside READ_ONLY_BUTTONS).
    const pages: [path: string, shown: () => Promise<void>][] = [
      ["/", () => page.getByTestId("accounts-in-error").waitFor()],
      [`/accounts/${accountId}`, () => page.getByRole("heading", { name: /Viewer Visible Co/ }).waitFor()],
      ["/accounts", () => page.getByRole("link", { name: "Viewer Visible Co" }).waitFor()],
      [
        "/connect-sessions",
        () =>
          page
            .getByRole("rowheader", { name: /Viewer Visible Co/ })
            .first()
            .waitFor(),
      ],
      [
        "/integrations?search=sandbox",
        () =>
          page
            .getByRole("rowheader", { name: /Sandbox/ })
            .first()
            .waitFor(),
      ],
      ["/api-keys", () => page.locator("tr[data-key-id]").first().waitFor()],
      ["/webhooks", () => page.locator("tr[data-delivery-id]").first().waitFor()],
      ["/audit", () => page.locator("tr[data-action]").first().waitFor()],
      ["/console-sessions", () => page.locator("tr[data-session-id]").first().waitFor()],
    ];
    for (const [path, shown] of pages) {
      await openInApp(page, path);
      await shown();
      const buttons = await page
        .getByRole("button")
        .evaluateAll((found) =>
          found.map((button) => button.getAttribute("aria-label") || button.textContent?.trim() || ""),
        );
      expect(
        buttons.filter((name) => !READ_ONLY_BUTTONS.has(name)),
        path,
      ).toEqual([]);
      expect(await page.getByRole("switch").count(), path).toBe(0);
      expect(
        await page
          .locator("form[aria-label='Project settings'] :is(input, textarea, select):enabled")
          .count(),
        path,
      ).toBe(0);
      if (path.startsWith("/accounts/")) await consoleScreenshot(page, "account-detail-viewer");
      if (path.startsWith("/integrations")) await consoleScreenshot(page, "integrations-viewer");
    }

    // Even with its CSRF token, a viewer's change is refused by the API.
    const refusal = await page.evaluate(async () => {
      const session = await (await fetch("/console/session")).json();
      const response = await fetch("/api_keys", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token },
        body: "{}",
      });
      return { status: response.status, body: await response.json() };
    });
    expect(refusal.status).toBe(403);
    expect(refusal.body.message).toMatch(/viewers can only read/);
    expect((await adminRequest(hub, apiKey, "GET", "/api_keys")).body).toHaveLength(1);
    expect(await viewer.problems()).toEqual([]);
    await viewer.context.close();
  });

  it("answers a signed-out browser's API call 401 without a Basic challenge (no login prompt)", async () => {
    const { page, context } = await watchedPage(browser);
    await page.goto(`${hub.url}/console/`);
    await page.getByText("npx connect-hub console link --role admin").waitFor();
    const answer = await page.evaluate(async () => {
      const response = await fetch("/accounts", { credentials: "same-origin" });
      return { status: response.status, challenge: response.headers.get("www-authenticate") };
    });
    expect(answer).toEqual({ status: 401, challenge: null });
    // API clients (curl, the SDK on Node's fetch) still get the challenge HTTP asks for.
    expect((await fetch(`${hub.url}/accounts`)).headers.get("www-authenticate")).toBe(
      'Basic realm="connect-hub"',
    );
    await context.close();
  });

  it("refuses an admin's change without the CSRF token, and cross-origin posts", async () => {
    const admin = await watchedPage(browser);
    await admin.page.goto(await consoleLink(hub, { project: PROJECT }));
    await waitForShell(admin.page);
    const statuses = await admin.page.evaluate(async () => {
      const session = await (await fetch("/console/session")).json();
      const post = (headers: Record<string, string>) =>
        fetch("/api_keys", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: "{}",
        }).then((response) => response.status);
      return {
        missing: await post({}),
        wrong: await post({ "x-csrf-token": "not-the-token" }),
        right: await post({ "x-csrf-token": session.csrf_token }),
        token: session.csrf_token as string,
      };
    });
    expect(statuses).toMatchObject({ missing: 403, wrong: 403, right: 201 });

    // The same request with the session's cookie and token, from another site.
    const cookie = (await admin.context.cookies()).find((c) => c.name.includes("connect_hub_console"));
    expect(cookie).toBeDefined();
    const crossSite = (headers: Record<string, string>) =>
      fetch(`${hub.url}/api_keys`, {
        method: "POST",
        headers: {
          cookie: `${cookie?.name}=${cookie?.value}`,
          "content-type": "application/json",
          "x-csrf-token": statuses.token,
          ...headers,
        },
        body: "{}",
      });
    const fromOtherOrigin = await crossSite({ origin: "https://attacker.example" });
    expect(fromOtherOrigin.status).toBe(403);
    expect((await crossSite({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await crossSite({ origin: hub.url, "sec-fetch-site": "same-origin" })).status).toBe(201);
    expect(await admin.problems()).toEqual([]);
    await admin.context.close();
  });
});
