/**
 * The operator console in Chromium, signed in as an admin through a CLI link: every page
 * against a real server (SQLite, the sandbox providers, a loopback webhook receiver), with no
 * CSP violation, and screenshots of each page (laptop and phone, light and dark) under
 * test-artifacts/console/.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sweeper } from "../../src/maintenance/sweeper.js";
import { WebhookOutbox } from "../../src/webhooks/outbox.js";
import { adminRequest, connectApiKeyAccount, createSession } from "../support/hub.js";
import { basicAuth, freePort, startTestServer, type TestServer } from "../support/server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { accessibilityViolations, chromiumAvailable, launchChromium } from "./browser.js";
import {
  cliConsoleLink,
  consoleLink,
  consoleScreenshot,
  layoutProblems,
  openInApp,
  PHONE,
  type WatchedPage,
  waitForShell,
  watchedPage,
} from "./console-support.js";

const PROJECT = "console-e2e";
let hub: TestServer;
let apiKey: string;
let receiver: WebhookReceiver;
let browser: Browser;
let admin: WatchedPage;
let page: Page;
const api = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);
const consoleUrl = (path: string) => `${hub.url}/console${path}`;

/** Connects a sandbox API-key account for an owner; returns its id. */
const connectSandbox = (ownerId: string, ownerName: string) =>
  connectApiKeyAccount(
    hub,
    apiKey,
    { origin_owner_id: ownerId, origin_owner_name: ownerName, provider: "sandbox-api-key" },
    "sandbox-api-key",
    { api_key: "sandbox-key-good" },
  );

beforeAll(async () => {
  // Chromium starts while the server does (assigned at once, so afterAll closes it either way).
  const launching = chromiumAvailable
    ? launchChromium().then((launched) => {
        browser = launched;
      })
    : undefined;
  receiver = await startWebhookReceiver();
  const port = await freePort();
  hub = await startTestServer({
    port,
    env: {
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SANDBOX_PROVIDERS: "true",
      RATE_LIMIT_PER_MINUTE: "100000",
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
      WEBHOOK_POLL_INTERVAL: "50ms",
      API_KEY_CACHE_SECONDS: "0",
    },
  });
  apiKey = await hub.createApiKey(PROJECT);
  await api("POST", "/webhooks/endpoints", { url: receiver.url });
  if (!launching) return;
  await launching;
  admin = await watchedPage(browser);
  page = admin.page;
  await admin.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: hub.url });
  // The one sign-in through the real `connect-hub console link` command; the other tests make
  // their links in-process (consoleLink), by the same service calls.
  await page.goto(await cliConsoleLink(hub, ["--project", PROJECT, "--role", "admin"]));
  await waitForShell(page);
});
afterAll(async () => {
  await browser?.close();
  await hub?.close();
  await receiver?.stop();
});

describe.skipIf(!chromiumAvailable)("the console, as an admin", () => {
  it("signs in through a CLI link into the project's overview", async () => {
    expect(new URL(page.url()).pathname).toBe("/console/");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    expect(await admin.problems()).toEqual([]);
  });

  it("finds an account by its owner, and shows an account in error with its reason", async () => {
    const wanted = await connectSandbox("owner-find-me", "Findable Ltd");
    await connectSandbox("owner-other", "Other Inc");
    await openInApp(page, "/accounts");
    // The whole list first, so that the search's answer is what replaces it (a list keeps
    // showing its previous rows while the next page loads).
    const other = page.getByRole("link", { name: "Other Inc" });
    await other.waitFor();
    await page.getByLabel("Owner id, owner name or label").fill("find-me");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/search=find-me/);
    await other.waitFor({ state: "detached" });
    await page.getByRole("link", { name: "Findable Ltd" }).waitFor();
    expect(await other.count()).toBe(0);
    await consoleScreenshot(page, "accounts-laptop");

    // The provider stops accepting the stored key: verify puts the account in error.
    await api("PATCH", `/accounts/${wanted}`, { credentials: { api_key: "sandbox-key-revoked" } });
    // A run of token refreshes, as the history folds them (the page shows how many).
    const project = await hub.db.kysely
      .selectFrom("linked_accounts")
      .select("project_id")
      .where("id", "=", wanted)
      .executeTakeFirstOrThrow();
    await hub.db.kysely
      .insertInto("account_events")
      .values({
        project_id: project.project_id,
        account_id: wanted,
        type: "refreshed",
        occurred_at: new Date().toISOString(),
        status_before: "active",
        status_after: "active",
        reason_code: null,
        reason_description: null,
        details: JSON.stringify({ refreshes: 4, first_refreshed_at: "2026-11-01T08:00:00.000Z" }),
      })
      .execute();
    await page.getByRole("link", { name: "Findable Ltd" }).click();
    await page.getByRole("cell", { name: /^4 refreshes since / }).waitFor();
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText(/Verification: refused/).waitFor();
    await page.getByTestId("status-reasons").getByText("verification_failed").waitFor();
    await page.getByRole("cell", { name: "verification_failed" }).first().waitFor();
    await consoleScreenshot(page, "account-detail-laptop");
    const account = await api("GET", `/accounts/${wanted}`);
    expect(account.body.status).toBe("error");
    expect(await admin.problems()).toEqual([]);
  });

  it("shows the funnel of sessions created, completed and expired by the tests", async () => {
    const before = (await api("GET", "/stats/overview")).body as unknown as {
      accounts_in_error: number;
      buckets: {
        sessions_created: number;
        sessions_completed: number;
        sessions_expired_unconnected: number;
      }[];
    };
    const sum = (key: "sessions_created" | "sessions_completed" | "sessions_expired_unconnected") =>
      before.buckets.reduce((total, bucket) => total + bucket[key], 0);
    await createSession(hub, apiKey, { origin_owner_id: "owner-abandons", expires_in: 60 });
    await connectSandbox("owner-completes", "Completes Co");
    // The sweeper, an hour later, marks the abandoned session expired (and counts it).
    const later = () => new Date(Date.now() + 3_600_000);
    await new Sweeper(hub.db, hub.config.sweeper, {
      clock: later,
      events: new WebhookOutbox(later, hub.config.organizationIdType),
    }).sweepOnce();
    // A reload, not in-app navigation: the overview may be the page already shown, with older counts.
    await page.goto(consoleUrl("/"));
    const step = (name: string) => page.getByTestId(name).locator(".funnel-value");
    await expect.poll(() => step("funnel-created").textContent()).toBe(String(sum("sessions_created") + 2));
    expect(await step("funnel-completed").textContent()).toBe(String(sum("sessions_completed") + 1));
    expect(await step("funnel-expired-unconnected").textContent()).toBe(
      String(sum("sessions_expired_unconnected") + 1),
    );
    expect(await page.getByTestId("accounts-in-error").textContent()).toBe(String(before.accounts_in_error));
    await page.locator(".chart canvas").first().waitFor();
    await consoleScreenshot(page, "overview-laptop-light");
    await page.getByText("By week").first().click();
    await page.waitForURL(/interval=week/);
    await page.locator(".chart canvas").first().waitFor();
    expect(await admin.problems()).toEqual([]);
  });

  it("creates a connect session and copies its auth link", async () => {
    await openInApp(page, "/connect-sessions");
    await page.getByLabel("Owner id").first().fill("owner-from-console");
    await page.getByLabel("Owner name").fill("Console Customer");
    await page.getByRole("button", { name: "Create" }).click();
    const created = page.getByTestId("created-session");
    await created.waitFor();
    const link = (await created.getByLabel("Auth link").textContent()) ?? "";
    expect(link).toMatch(new RegExp(`^${hub.url}/connect\\?token=chs_`));
    await created.getByRole("button", { name: "Copy" }).click();
    await created.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await page.getByRole("rowheader", { name: /Console Customer/ }).waitFor();
    await consoleScreenshot(page, "connect-sessions-laptop");
    expect(await admin.problems()).toEqual([]);
  });

  it("enables an integration from the catalog, and changes the project's settings", async () => {
    await openInApp(page, "/integrations");
    await page.getByLabel("Provider name or category").fill("bamboo");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/search=bamboo/);
    await page.getByRole("switch", { name: "Enable BambooHR" }).click();
    await expect.poll(async () => (await api("GET", "/integrations/bamboohr")).body.enabled).toBe(true);
    await expect
      .poll(() => page.getByRole("switch", { name: "Enable BambooHR" }).getAttribute("aria-checked"))
      .toBe("true");
    await page.getByLabel(/Allowed origins/).fill("https://app.example.com");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Saved.").waitFor();
    expect((await api("GET", "/project")).body.allowed_origins).toEqual(["https://app.example.com"]);
    await consoleScreenshot(page, "integrations-laptop");
    expect(await admin.problems()).toEqual([]);
  });

  it("creates an API key shown once, and revokes it: the revoked key then gets 401", async () => {
    await openInApp(page, "/api-keys");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-key");
    const key = (await shown.getByLabel("New API key").textContent()) ?? "";
    expect(key).toMatch(/^chk_/);
    const created = (await api("GET", "/api_keys")).body as unknown as { id: string; last_four: string }[];
    const keyId = created.find((listed) => listed.last_four === key.slice(-4))?.id;
    const withKey = () => fetch(`${hub.url}/project`, { headers: { authorization: basicAuth(key) } });
    expect((await withKey()).status).toBe(200);
    await consoleScreenshot(page, "api-keys-laptop");
    await page.getByRole("button", { name: "Hide the key" }).click();
    expect(await page.content()).not.toContain(key);

    // The row is found by the key's id: it keeps matching once revoked (its buttons are gone).
    const row = page.locator(`tr[data-key-id="${keyId}"]`);
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.locator("dialog[open]").getByRole("button", { name: "Revoke" }).click();
    await row.getByText(/^revoked/).waitFor();
    expect(await row.getByRole("button").count()).toBe(0);
    expect((await withKey()).status).toBe(401);
    expect(await admin.problems()).toEqual([]);
  });

  it("lists webhook deliveries and replays one to the loopback receiver", async () => {
    const accountId = await connectSandbox("owner-webhooks", "Webhooks Co");
    await receiver.waitFor((received) =>
      received.some(
        (delivery) =>
          delivery.event.type === "account.created" &&
          JSON.stringify(delivery.event.data).includes(accountId),
      ),
    );
    await openInApp(page, "/webhooks");
    const succeeded = page
      .locator("tr[data-delivery-id]", { hasText: "account.created" })
      .filter({ hasText: "succeeded" });
    await expect.poll(() => succeeded.count()).toBeGreaterThan(0);
    const row = succeeded.first();
    const eventId = (await row.locator("td, th").first().locator("div").textContent()) ?? "";
    const before = receiver.received.filter((delivery) => delivery.id === eventId).length;
    await row.getByRole("button", { name: "Replay" }).click();
    await page.getByText(/queued again/).waitFor();
    await receiver.waitFor(
      (received) => received.filter((delivery) => delivery.id === eventId).length > before,
    );

    await page.getByRole("button", { name: "Send test event" }).click();
    await receiver.waitFor((received) => received.some((delivery) => delivery.event.type === "webhook.test"));
    await consoleScreenshot(page, "webhooks-laptop");
    expect(await admin.problems()).toEqual([]);
  });

  it("records each change in the audit log, with the operator as the actor", async () => {
    // Changes made with this console session (its cookie and CSRF token), then the audit page.
    await connectSandbox("owner-audited", "Audited Co");
    const succeededDelivery = async () => {
      const listed = (await api("GET", "/webhooks/deliveries?status=succeeded")).body as unknown as {
        id: number;
      }[];
      return listed[0]?.id;
    };
    await expect.poll(succeededDelivery).toBeDefined();
    const deliveryId = await succeededDelivery();
    const made = await page.evaluate(async (deliveryId) => {
      const session = await (await fetch("/console/session")).json();
      const change = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(path, {
          method,
          headers: {
            "x-csrf-token": session.csrf_token,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? null : JSON.stringify(body),
        });
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
        return response.status === 204 ? null : response.json();
      };
      const key = await change("POST", "/api_keys", {});
      await change("DELETE", `/api_keys/${key.id}`);
      await change("PUT", "/integrations/greenhouse", { enabled: true });
      await change("POST", `/webhooks/deliveries/${deliveryId}/replay`, {});
      return { keyId: key.id as string, operator: session.operator.subject as string };
    }, deliveryId);
    await openInApp(page, "/audit?actor_type=console");
    const row = (action: string) =>
      page
        .locator(`tr[data-action="${action}"]`)
        .filter({ hasText: made.operator })
        .filter({ hasText: "console" });
    await row("api_key.created").filter({ hasText: made.keyId }).first().waitFor();
    await row("api_key.revoked").filter({ hasText: made.keyId }).first().waitFor();
    await row("integration.updated").first().waitFor();
    await row("webhook_delivery.replayed")
      .getByRole("cell", { name: `webhook_delivery ${deliveryId}`, exact: true })
      .first()
      .waitFor();
    expect(
      await page
        .locator("tr[data-action]")
        .filter({ hasText: "api_key" })
        .filter({ hasNotText: "console" })
        .count(),
    ).toBe(0);
    await consoleScreenshot(page, "audit-laptop");
    expect(await admin.problems()).toEqual([]);
  });

  it("lists the console sessions and revokes another operator's session at once", async () => {
    const other = await watchedPage(browser);
    await other.page.goto(await consoleLink(hub, { project: PROJECT }));
    await waitForShell(other.page);
    const otherId = await other.page.evaluate(
      async () => (await (await fetch("/console/session")).json()).id,
    );
    await openInApp(page, "/console-sessions");
    const otherRow = page.locator(`tr[data-session-id="${otherId}"]`);
    await otherRow.waitFor();
    await consoleScreenshot(page, "console-sessions-laptop");
    await otherRow.getByRole("button", { name: "Revoke" }).click();
    await page.locator("dialog[open]").getByRole("button", { name: "Revoke" }).click();
    await otherRow.waitFor({ state: "detached" });
    const answer = await other.page.evaluate(async () => (await fetch("/console/session")).status);
    expect(answer).toBe(401);
    await other.context.close();
    expect(await admin.problems()).toEqual([]);
  });

  it("works at a phone's width (navigation behind the menu) and in dark mode", async () => {
    // One context for both widths, dark as the system prefers: a laptop first, then a phone.
    const dark = await watchedPage(browser, { colorScheme: "dark" });
    const phone = dark.page;
    await phone.goto(await consoleLink(hub, { project: PROJECT }));
    await waitForShell(phone);
    await phone.locator(".chart canvas").first().waitFor();
    await consoleScreenshot(phone, "overview-laptop-dark");
    await phone.setViewportSize(PHONE);
    await consoleScreenshot(phone, "overview-phone-dark");
    expect(await phone.getByRole("link", { name: "Accounts" }).isVisible()).toBe(false);
    await phone.getByRole("button", { name: "Menu" }).click();
    await consoleScreenshot(phone, "navigation-phone-dark");
    await phone.getByRole("link", { name: "Accounts" }).click();
    await phone.getByRole("heading", { name: "Accounts" }).waitFor();
    await phone.locator("tbody tr").first().waitFor();
    await consoleScreenshot(phone, "accounts-phone-dark");
    const accountId = await phone.locator("tbody a").first().getAttribute("href");
    // Every page (the list pages with rows the earlier tests made, and one account), checked
    // for its layout and for WCAG 2.2 AA (axe-core).
    const pages = [
      ["/", "overview", "Overview"],
      ["/accounts", "accounts", "Accounts"],
      [accountId?.replace(/^\/console/, "") ?? "/accounts/missing", "account", null],
      ["/connect-sessions", "connect-sessions", "Connect sessions"],
      ["/webhooks", "webhooks", "Webhooks"],
      ["/integrations", "integrations", "Integrations"],
      ["/api-keys", "api-keys", "API keys"],
      ["/audit", "audit", "Audit log"],
      ["/console-sessions", "console-sessions", "Console sessions"],
    ] as const;
    const checkEveryPage = async (screen: string) => {
      const problems: Record<string, string[]> = {};
      for (const [path, name, heading] of pages) {
        await openInApp(phone, path);
        if (heading) await phone.getByRole("heading", { level: 1, name: heading }).waitFor();
        await phone
          .locator(name === "overview" ? ".chart canvas" : "main tbody tr")
          .last()
          .waitFor();
        if (name !== "overview") await consoleScreenshot(phone, `${name}-${screen}`);
        const found = [...(await layoutProblems(phone)), ...(await accessibilityViolations(phone))];
        if (found.length > 0) problems[name] = found;
      }
      return problems;
    };
    // Nothing on a phone needs a sideways scroll (what does not fit goes under its row's title),
    // no row is hidden, and nothing fails WCAG 2.2 AA, in the dark theme here ...
    expect(await checkEveryPage("phone-dark")).toEqual({});
    // The toggle switches to light whatever the system prefers, and keeps the choice (a reload).
    await phone.getByRole("button", { name: "Use light theme" }).click();
    await phone.goto(consoleUrl("/"));
    await phone.getByRole("button", { name: "Use dark theme" }).waitFor();
    await phone.locator(".chart canvas").first().waitFor();
    await consoleScreenshot(phone, "overview-phone-light");
    // ... and in the light one on a laptop.
    await phone.setViewportSize({ width: 1280, height: 800 });
    expect(await checkEveryPage("laptop-light")).toEqual({});
    expect(await dark.problems()).toEqual([]);
    await dark.context.close();
  });
});
