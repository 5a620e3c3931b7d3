/**
 * End to end in a real browser: Debian's Chromium, Connect Hub over real HTTP on a real SQLite
 * file, and a real OAuth2 authorization server (oidc-provider) for the OAuth flows.
 */
import { createServer, type Server } from "node:http";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminRequest, createSession } from "../support/hub.js";
import {
  startHubWithIdentityProvider,
  TEST_PROVIDER_KEY,
  type TestIdentityProvider,
} from "../support/identity-provider.js";
import { freePort, type TestServer } from "../support/server.js";
import { accessibilityViolations, chromiumAvailable, launchChromium, screenshot } from "./browser.js";

let hub: TestServer;
let idp: TestIdentityProvider;
let apiKey: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let embedder: Server;
let allowedOrigin: string;
let strangerOrigin: string;
/** Moves the hub's clock forward, to bring an access token near its expiry. */
let clockOffsetMs = 0;

const admin = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);

/** The SaaS product's page: opens the auth link in a popup and records the messages it gets. */
const EMBEDDER_PAGE = `<!doctype html><html><body>
<button id="open">Connect</button>
<script>
  window.messages = [];
  window.addEventListener("message", (event) => window.messages.push({ origin: event.origin, data: event.data }));
  const params = new URLSearchParams(location.search);
  document.getElementById("open").addEventListener("click", () => {
    window.open(params.get("link"), "connect", "popup,width=480,height=720");
  });
  if (params.get("frame")) {
    const frame = document.createElement("iframe");
    frame.src = params.get("frame");
    frame.width = "480";
    frame.height = "700";
    document.body.append(frame);
  }
</script></body></html>`;

beforeAll(async () => {
  ({ hub, idp, apiKey } = await startHubWithIdentityProvider({
    accessTokenTtlSeconds: 120,
    clock: () => new Date(Date.now() + clockOffsetMs),
    env: { RATE_LIMIT_PER_MINUTE: "100000" },
  }));
  await admin("PUT", "/integrations/bamboohr", { verify_credentials: false });
  await admin("PUT", "/integrations/ashby", { verify_credentials: false });

  const embedderPort = await freePort();
  embedder = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end(EMBEDDER_PAGE),
  );
  await new Promise<void>((resolve) => embedder.listen(embedderPort, "127.0.0.1", resolve));
  allowedOrigin = `http://localhost:${embedderPort}`;
  strangerOrigin = `http://127.0.0.1:${embedderPort}`;
  await admin("PATCH", "/project", { allowed_origins: [allowedOrigin] });
  if (chromiumAvailable) browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => embedder?.close(resolve));
  await hub?.close();
  await idp?.close();
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 480, height: 800 } });
  page = await context.newPage();
});
afterEach(() => context.close());

async function authorizeAtIdentityProvider(target: Page, options: { cancel?: boolean } = {}) {
  await target.waitForURL((url) => url.origin === idp.issuer);
  await target.waitForSelector('input[name="login"], button:has-text("Continue")');
  if (await target.locator('input[name="login"]').count()) {
    await target.fill('input[name="login"]', "jane");
    await target.fill('input[name="password"]', "any-password");
    await screenshot(target, "idp-login");
    await target.click("button.login-submit");
    await target.waitForSelector("text=Continue");
  }
  await screenshot(target, "idp-consent");
  if (options.cancel) await target.click("text=[ Cancel ]");
  else await target.click("button.login-submit");
}

describe.skipIf(!chromiumAvailable)("the connect page", () => {
  it("connects an API-key account from the auth link, and the account is listed", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "browser-1",
      origin_owner_name: "Browser One",
    });
    const loaded: string[] = [];
    const recordRequest = (request: { url(): string }) => loaded.push(new URL(request.url()).pathname);
    page.on("request", recordRequest);
    await page.goto(session.auth_link_url);
    await page.getByRole("heading", { name: "Connect your account" }).waitFor();
    page.off("request", recordRequest);
    // The page stays small: nothing of the operator console's bundle is loaded here.
    expect(loaded.filter((pathname) => pathname.startsWith("/console"))).toEqual([]);
    expect(loaded.some((pathname) => pathname.startsWith("/connect/assets/"))).toBe(true);
    expect(page.url()).not.toContain("token=");
    // The address keeps an opaque page reference, never the session's sequential id.
    expect(page.url()).toMatch(new RegExp(`^${hub.config.publicUrl}/connect\\?session=v1\\.`));
    expect(new URL(page.url()).searchParams.get("session")).not.toBe(String(session.id));
    await screenshot(page, "connect-picker");
    expect(await page.locator("button.provider").count()).toBe(3);

    await page.getByRole("button", { name: /BambooHR/ }).click();
    await page.getByRole("heading", { name: "Connect BambooHR" }).waitFor();
    await page.getByLabel("Company subdomain").fill("not valid!");
    await page.getByLabel("API key").fill("bamboo-browser-key");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toBe(
      "Company subdomain: this is not in the expected format.",
    );
    await screenshot(page, "connect-form-error");

    await page.getByLabel("Company subdomain").fill("acme");
    await screenshot(page, "connect-form");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await page.getByRole("heading", { name: "BambooHR is connected" }).waitFor();
    await screenshot(page, "connect-success");

    const accounts = await admin("GET", "/accounts?origin_owner_id=browser-1");
    expect(accounts.body).toHaveLength(1);
    expect(accounts.body[0]).toMatchObject({
      provider: "bamboohr",
      setup_information: { subdomain: "acme" },
    });
    const credentials = await admin("GET", `/accounts/${accounts.body[0]?.id}/credentials`);
    expect(credentials.body.credentials).toEqual({ subdomain: "acme", api_key: "bamboo-browser-key" });
  });

  it("searches and filters by category when the list is long", async () => {
    for (const provider of ["greenhouse", "lever", "workable", "teamtailor", "hibob"]) {
      await admin(
        "PUT",
        `/integrations/${provider}`,
        provider === "lever" ? { client_id: "x", client_secret: "y" } : {},
      );
    }
    const session = await createSession(hub, apiKey, { origin_owner_id: "browser-search" });
    await page.goto(session.auth_link_url);
    await page.getByRole("searchbox").waitFor();
    expect(await page.locator("button.provider").count()).toBe(8);
    await page.getByRole("searchbox").fill("green");
    expect(await page.locator("button.provider").allInnerTexts()).toEqual([
      expect.stringContaining("Greenhouse"),
    ]);
    await page.getByRole("searchbox").fill("");
    await page.getByRole("tab", { name: "ATS" }).click();
    expect(await page.locator("button.provider").count()).toBe(5);
    await screenshot(page, "connect-search");
    for (const provider of ["greenhouse", "lever", "workable", "teamtailor", "hibob"]) {
      await admin("DELETE", `/integrations/${provider}`);
    }
  });

  it("works from the keyboard alone, and follows a dark color scheme", async () => {
    const dark = await browser.newContext({ viewport: { width: 1024, height: 700 }, colorScheme: "dark" });
    const keyboardPage = await dark.newPage();
    try {
      const session = await createSession(hub, apiKey, { origin_owner_id: "keyboard" });
      await keyboardPage.goto(session.auth_link_url);
      await keyboardPage.getByRole("heading", { name: "Connect your account" }).waitFor();
      const background = await keyboardPage.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe("rgb(15, 17, 21)");
      await keyboardPage.keyboard.press("Tab");
      expect(await keyboardPage.evaluate(() => document.activeElement?.textContent)).toContain("Ashby");
      await keyboardPage.keyboard.press("Enter");
      await keyboardPage.getByRole("heading", { name: "Connect Ashby" }).waitFor();
      expect(await keyboardPage.evaluate(() => document.activeElement?.tagName)).toBe("H1");
      await keyboardPage.keyboard.press("Tab");
      expect(await keyboardPage.evaluate(() => document.activeElement?.id)).toBe("field-api_key");
      await keyboardPage.keyboard.type("keyboard-key");
      await keyboardPage.keyboard.press("Enter");
      await keyboardPage.getByRole("heading", { name: "Ashby is connected" }).waitFor();
      await screenshot(keyboardPage, "connect-dark-success");
    } finally {
      await dark.close();
    }
  });

  it("meets WCAG 2.2 AA (axe-core) in every state, light and dark", async () => {
    // The audit sees what it should: an image without a text alternative.
    await page.setContent(
      '<!doctype html><html lang="en"><title>canary</title><main><img src="data:,"></main>',
    );
    expect(await accessibilityViolations(page)).toEqual([expect.stringMatching(/^image-alt: img /)]);
    const found: Record<string, string[]> = {};
    const audit = async (target: Page, state: string) => {
      const violations = await accessibilityViolations(target);
      if (violations.length > 0) found[state] = violations;
    };
    for (const colorScheme of ["light", "dark"] as const) {
      const themed = await browser.newContext({ viewport: { width: 480, height: 800 }, colorScheme });
      const view = await themed.newPage();
      try {
        const session = await createSession(hub, apiKey, { origin_owner_id: `a11y-${colorScheme}` });
        await view.goto(session.auth_link_url);
        await view.getByRole("heading", { name: "Connect your account" }).waitFor();
        await audit(view, `${colorScheme}: the provider list`);
        await view.getByRole("button", { name: /BambooHR/ }).click();
        await view.getByRole("heading", { name: "Connect BambooHR" }).waitFor();
        await audit(view, `${colorScheme}: a credentials form`);
        await view.getByLabel("Company subdomain").fill("not valid!");
        await view.getByLabel("API key").fill("a11y-key");
        await view.getByRole("button", { name: "Connect", exact: true }).click();
        await view.getByRole("alert").waitFor();
        await audit(view, `${colorScheme}: a refused form`);
        await view.getByLabel("Company subdomain").fill("acme");
        await view.getByRole("button", { name: "Connect", exact: true }).click();
        await view.getByRole("heading", { name: "BambooHR is connected" }).waitFor();
        await audit(view, `${colorScheme}: connected`);
        const expired = await createSession(hub, apiKey, { expires_in: 1 });
        clockOffsetMs += 1001;
        try {
          await view.goto(expired.auth_link_url);
        } finally {
          clockOffsetMs -= 1001;
        }
        await view.getByRole("heading", { name: "This link has expired" }).waitFor();
        await audit(view, `${colorScheme}: an expired link`);
      } finally {
        await themed.close();
      }
    }
    expect(found).toEqual({});
  });

  it("says clearly that an expired link has expired", async () => {
    const session = await createSession(hub, apiKey, { expires_in: 1 });
    // A second passes on the server's clock (expiry is the row's `expires_at` against it).
    clockOffsetMs += 1001;
    let response: Awaited<ReturnType<typeof page.goto>>;
    try {
      response = await page.goto(session.auth_link_url);
    } finally {
      clockOffsetMs -= 1001;
    }
    expect(response?.status()).toBe(401);
    await page.getByRole("heading", { name: "This link has expired" }).waitFor();
    await screenshot(page, "connect-expired");
  });

  it("connects through OAuth2 with PKCE, then refreshes once under concurrent credential calls", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "oauth-1",
      provider: TEST_PROVIDER_KEY,
    });
    await page.goto(session.auth_link_url);
    await page.getByRole("heading", { name: "Connect Test Identity Provider" }).waitFor();
    await screenshot(page, "connect-oauth-start");
    await page.getByRole("button", { name: "Continue to Test Identity Provider" }).click();
    await authorizeAtIdentityProvider(page);
    await page.getByRole("heading", { name: "Test Identity Provider is connected" }).waitFor();
    await screenshot(page, "connect-oauth-success");
    expect(idp.grants.authorization_code).toBe(1);

    const authenticated = await admin("POST", "/connect_sessions/authenticate", { token: session.token });
    expect(authenticated.body).toMatchObject({
      status: "completed",
      account: { provider: TEST_PROVIDER_KEY },
    });
    const accountId = (authenticated.body.account as { id: string }).id;

    const fresh = await admin("GET", `/accounts/${accountId}/credentials`);
    expect(idp.grants.refresh_token).toBe(0);
    clockOffsetMs = 100_000;
    const calls = await Promise.all(
      Array.from({ length: 6 }, () => admin("GET", `/accounts/${accountId}/credentials`)),
    );
    expect(calls.map((c) => c.status)).toEqual(Array(6).fill(200));
    clockOffsetMs = 0;
    expect(idp.grants.refresh_token).toBe(1);
    const tokens = new Set(calls.map((c) => (c.body.credentials as { access_token: string }).access_token));
    expect(tokens.size).toBe(1);
    expect(tokens.has((fresh.body.credentials as { access_token: string }).access_token)).toBe(false);
    expect(calls[0]?.body.credentials).not.toHaveProperty("refresh_token");
    expect(calls[0]?.body).toMatchObject({ auth_type: "oauth2", credentials: { token_type: "Bearer" } });
  });

  it("shows a cancelled consent in words and lets the user try again", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "oauth-cancel",
      provider: TEST_PROVIDER_KEY,
    });
    await page.goto(session.auth_link_url);
    await page.getByRole("button", { name: "Continue to Test Identity Provider" }).click();
    await authorizeAtIdentityProvider(page, { cancel: true });
    await page.getByRole("heading", { name: "Authorization cancelled" }).waitFor();
    expect(await page.locator("main").textContent()).toContain("Nothing was connected");
    await screenshot(page, "connect-oauth-cancelled");
    await page.getByRole("button", { name: "Try again" }).click();
    await page.getByRole("button", { name: "Continue to Test Identity Provider" }).waitFor();
    const status = await admin("POST", "/connect_sessions/authenticate", { token: session.token });
    expect(status.body.status).toBe("pending");
  });

  it("re-authorizes an existing account with account_id, keeping its id", async () => {
    const first = await createSession(hub, apiKey, {
      origin_owner_id: "oauth-reauth",
      provider: TEST_PROVIDER_KEY,
    });
    await page.goto(first.auth_link_url);
    await page.getByRole("button", { name: "Continue to Test Identity Provider" }).click();
    await authorizeAtIdentityProvider(page);
    await page.getByRole("heading", { name: "Test Identity Provider is connected" }).waitFor();
    const accountId = (
      (await admin("POST", "/connect_sessions/authenticate", { token: first.token })).body.account as {
        id: string;
      }
    ).id;
    const before = await admin("GET", `/accounts/${accountId}`);

    const again = await createSession(hub, apiKey, {
      origin_owner_id: "oauth-reauth",
      account_id: accountId,
      multiple: true,
    });
    await page.goto(again.auth_link_url);
    await page.getByRole("heading", { name: "Reconnect Test Identity Provider" }).waitFor();
    await screenshot(page, "connect-reauthorize");
    await page.getByRole("button", { name: "Continue to Test Identity Provider" }).click();
    await authorizeAtIdentityProvider(page);
    await page.getByRole("heading", { name: "Test Identity Provider is connected" }).waitFor();
    const reauthorized = await admin("POST", "/connect_sessions/authenticate", { token: again.token });
    expect(reauthorized.body.account).toEqual({ id: accountId, provider: TEST_PROVIDER_KEY });
    expect((await admin("GET", "/accounts?origin_owner_id=oauth-reauth")).body).toHaveLength(1);
    expect((await admin("GET", `/accounts/${accountId}`)).body.updated_at).not.toBe(before.body.updated_at);
  });

  it("refuses a replayed OAuth callback", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "oauth-replay",
      provider: TEST_PROVIDER_KEY,
    });
    await page.goto(session.auth_link_url);
    await page.getByRole("button", { name: "Continue to Test Identity Provider" }).click();
    await authorizeAtIdentityProvider(page);
    await page.getByRole("heading", { name: "Test Identity Provider is connected" }).waitFor();
    const callbackUrl = page.url();
    expect(callbackUrl).toContain("/connect/oauth/callback?");
    await page.goto(callbackUrl);
    await page.getByRole("heading", { name: "This authorization has expired" }).waitFor();
  });

  it("runs inside an iframe of an allowed origin, with OAuth2 in a popup", async () => {
    const session = await createSession(hub, apiKey, {
      origin_owner_id: "iframe-oauth",
      provider: TEST_PROVIDER_KEY,
    });
    await page.goto(`${allowedOrigin}/?frame=${encodeURIComponent(session.auth_link_url)}`);
    const frame = page.frameLocator("iframe");
    await frame.getByRole("heading", { name: "Connect Test Identity Provider" }).waitFor();
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      frame.getByRole("button", { name: "Continue to Test Identity Provider" }).click(),
    ]);
    // The popup closes itself once it has told the frame; listen before it can happen.
    const closed = popup.waitForEvent("close");
    await authorizeAtIdentityProvider(popup);
    await closed;
    await frame.getByRole("heading", { name: "Test Identity Provider is connected" }).waitFor();
    await screenshot(page, "connect-iframe-success");
    const account = (await admin("POST", "/connect_sessions/authenticate", { token: session.token })).body
      .account;
    expect(account).toMatchObject({ provider: TEST_PROVIDER_KEY });
    const messages = await page.evaluate(() =>
      (window as unknown as { messages: { data: { type: string } }[] }).messages.filter(
        // The frame also reports its height (see connect-theme.test.ts).
        (message) => message.data.type !== "connect-hub:resize",
      ),
    );
    expect(messages).toEqual([
      { origin: hub.config.publicUrl, data: { type: "connect-hub:account-connected", account } },
    ]);
  });

  it("cannot be framed by an origin the project does not allow", async () => {
    const session = await createSession(hub, apiKey, { origin_owner_id: "iframe-stranger" });
    // The browser refuses the frame: it navigates to its error page (listened for before it can happen).
    const refused = page.waitForEvent("framenavigated", {
      predicate: (frame) => frame !== page.mainFrame() && frame.url().startsWith("chrome-error://"),
      timeout: 0,
    });
    await page.goto(`${strangerOrigin}/?frame=${encodeURIComponent(session.auth_link_url)}`);
    await refused;
    const framed = page.frames().find((f) => f !== page.mainFrame());
    expect(framed).toBeDefined();
    expect(framed?.url()).toBe("chrome-error://chromewebdata/");
    expect(await framed?.getByRole("heading", { name: "Connect your account" }).count()).toBe(0);
  });

  it("posts the connection to the opener at the allowed origin only", async () => {
    for (const origin of [allowedOrigin, strangerOrigin]) {
      const session = await createSession(hub, apiKey, {
        origin_owner_id: `popup-${origin}`,
        provider: "ashby",
        multiple: true,
      });
      const opener = await context.newPage();
      await opener.goto(`${origin}/?link=${encodeURIComponent(session.auth_link_url)}`);
      const [popup] = await Promise.all([opener.waitForEvent("popup"), opener.click("#open")]);
      await popup.getByLabel("API key").fill("popup-key");
      await popup.getByRole("button", { name: "Connect", exact: true }).click();
      await popup.getByRole("heading", { name: "Ashby is connected" }).waitFor();
      await screenshot(popup, "connect-popup-success");
      // The button closes its own window: listen first, and do not wait on the closed page.
      const closed = popup.waitForEvent("close");
      await popup
        .getByRole("button", { name: "Close" })
        .click({ noWaitAfter: true })
        // The window can close while Playwright is still finishing the click: it was clicked.
        .catch((error: unknown) => {
          if (!popup.isClosed()) throw error;
        });
      await closed;
      if (origin === allowedOrigin) {
        await opener.waitForFunction(
          () => (window as unknown as { messages: unknown[] }).messages.length >= 2,
        );
      } else {
        // Messages posted before the popup closed are queued on the opener: let them run.
        await opener.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
      }
      const messages = await opener.evaluate(() => (window as unknown as { messages: unknown[] }).messages);
      if (origin === allowedOrigin) {
        const account = (await admin("POST", "/connect_sessions/authenticate", { token: session.token })).body
          .account;
        expect(messages).toEqual([
          { origin: hub.config.publicUrl, data: { type: "connect-hub:account-connected", account } },
          { origin: hub.config.publicUrl, data: { type: "connect-hub:closed" } },
        ]);
      } else {
        expect(messages).toEqual([]);
      }
    }
  });
});
