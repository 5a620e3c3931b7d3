/**
 * The connect page's theme and its height in an iframe, in Chromium: the project's theme
 * (light, dark, custom tokens) read back from computed styles, an auth link's query
 * parameters overriding it, invalid values refused with a 400 naming the field, and the
 * page telling a parent frame on another loopback origin its height.
 */
import { createServer, type Server } from "node:http";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminRequest, createSession } from "../support/hub.js";
import { freePort, startTestServer, type TestServer } from "../support/server.js";
import { chromiumAvailable, launchChromium, screenshot } from "./browser.js";

let hub: TestServer;
let apiKey: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let embedder: Server;
let embedderOrigin: string;
const admin = (method: string, path: string, body?: unknown) => adminRequest(hub, apiKey, method, path, body);

/** An embedder's page: the README's lines that size the frame from the page's messages. */
const EMBEDDER_PAGE = `<!doctype html><html><body>
<iframe id="connect" width="480" height="150"></iframe>
<script>
  window.resizes = [];
  const hubOrigin = new URL(new URLSearchParams(location.search).get("link")).origin;
  const frame = document.getElementById("connect");
  window.addEventListener("message", (event) => {
    if (event.origin !== hubOrigin || event.data?.type !== "connect-hub:resize") return;
    window.resizes.push({ origin: event.origin, height: event.data.height });
    frame.style.height = event.data.height + "px";
  });
  frame.src = new URLSearchParams(location.search).get("link");
</script></body></html>`;

beforeAll(async () => {
  const port = await freePort();
  hub = await startTestServer({
    port,
    env: {
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SANDBOX_PROVIDERS: "true",
      RATE_LIMIT_PER_MINUTE: "100000",
    },
  });
  apiKey = await hub.createApiKey();
  const embedderPort = await freePort();
  embedder = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end(EMBEDDER_PAGE),
  );
  await new Promise<void>((resolve) => embedder.listen(embedderPort, "127.0.0.1", resolve));
  embedderOrigin = `http://localhost:${embedderPort}`;
  await admin("PATCH", "/project", { allowed_origins: [embedderOrigin] });
  if (chromiumAvailable) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => embedder?.close(resolve));
  await hub?.close();
});

/** Opens a one-provider link (its form has a primary button) and waits for the form. */
async function openForm(target: Page, linkSuffix = "") {
  const session = await createSession(hub, apiKey, { provider: "sandbox-api-key" });
  await target.goto(session.auth_link_url + linkSuffix);
  await target.getByRole("button", { name: "Connect", exact: true }).waitFor();
}

/** Computed colours and radius of the page, as the browser applied them. */
function computed(target: Page) {
  return target.evaluate(() => {
    const style = (selector: string) => getComputedStyle(document.querySelector(selector) as Element);
    return {
      background: style("body").backgroundColor,
      text: style("body").color,
      accent: style("button.primary").backgroundColor,
      accentText: style("button.primary").color,
      radius: style(".card").borderTopLeftRadius,
    };
  });
}

describe("theme settings", () => {
  it("are shown by GET /project, default to auto, and are replaced whole by PATCH", async () => {
    expect((await admin("GET", "/project")).body.theme).toEqual({});
    const theme = { mode: "dark", accent: "#FF5A1F", background: "#101820", text: "#f0f0f0", radius: 0 };
    const updated = await admin("PATCH", "/project", { theme });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ theme, allowed_origins: [embedderOrigin] });
    expect((await admin("GET", "/project")).body.theme).toEqual(theme);
    expect((await admin("PATCH", "/project", { theme: {} })).body.theme).toEqual({});
  });

  it.each([
    [{ accent: "red" }, "theme.accent"],
    [{ accent: "#fff;}body{x" }, "theme.accent"],
    [{ background: "#12345" }, "theme.background"],
    [{ text: "url(x)" }, "theme.text"],
    [{ radius: 25 }, "theme.radius"],
    [{ radius: 1.5 }, "theme.radius"],
    [{ mode: "neon" }, "theme.mode"],
    [{ font: "Comic Sans" }, "theme must NOT have additional properties"],
  ])("refuses %j with a 400 naming the field", async (theme, field) => {
    const response = await admin("PATCH", "/project", { theme });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, timestamp: expect.any(String) });
    expect(response.body.message).toContain(field);
  });

  it.each([
    ["theme=sepia", "theme"],
    ["theme_accent=%23ff5a1f%3B", "theme_accent"],
    ["theme_radius=-1", "theme_radius"],
  ])("refuses the link parameter %s with a 400 naming it", async (query, field) => {
    const { token } = await createSession(hub, apiKey);
    const response = await fetch(`${hub.url}/connect/api/session?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain(field);
  });
});

describe.skipIf(!chromiumAvailable)("the connect page's theme in Chromium", () => {
  beforeEach(async () => {
    // The browser prefers dark: a light theme must win over it, and auto must follow it.
    context = await browser.newContext({ viewport: { width: 640, height: 800 }, colorScheme: "dark" });
    page = await context.newPage();
  });
  afterEach(() => context.close());

  it("follows the browser by default (auto)", async () => {
    await admin("PATCH", "/project", { theme: {} });
    await openForm(page);
    expect(await computed(page)).toMatchObject({ background: "rgb(15, 17, 21)", radius: "12px" });
  });

  it("is light when the project says light, whatever the browser prefers", async () => {
    await admin("PATCH", "/project", { theme: { mode: "light" } });
    await openForm(page);
    await screenshot(page, "theme-light");
    expect(await computed(page)).toMatchObject({
      background: "rgb(245, 246, 248)",
      text: "rgb(27, 31, 36)",
      accent: "rgb(47, 91, 234)",
    });
  });

  it("is dark when the project says dark, in a browser that prefers light", async () => {
    await page.emulateMedia({ colorScheme: "light" });
    await admin("PATCH", "/project", { theme: { mode: "dark" } });
    await openForm(page);
    await screenshot(page, "theme-dark");
    expect(await computed(page)).toMatchObject({ background: "rgb(15, 17, 21)", text: "rgb(232, 234, 237)" });
  });

  it("applies the project's colour tokens and radius", async () => {
    await admin("PATCH", "/project", {
      theme: { mode: "light", accent: "#ff5a1f", background: "#fffbe6", text: "#3a2e00", radius: 4 },
    });
    await openForm(page);
    await screenshot(page, "theme-custom-tokens");
    expect(await computed(page)).toEqual({
      background: "rgb(255, 251, 230)",
      text: "rgb(58, 46, 0)",
      accent: "rgb(255, 90, 31)",
      accentText: "rgb(17, 17, 17)",
      radius: "4px",
    });
  });

  it("lets the auth link's parameters override the project's theme, token by token", async () => {
    await admin("PATCH", "/project", { theme: { mode: "light", accent: "#ff5a1f", radius: 4 } });
    await openForm(page, `&${new URLSearchParams({ theme: "dark", theme_accent: "#00aa55" })}`);
    await screenshot(page, "theme-link-override");
    expect(await computed(page)).toMatchObject({
      background: "rgb(15, 17, 21)",
      accent: "rgb(0, 170, 85)",
      radius: "4px",
    });
    // The link's parameters leave the address bar with the token, and survive a reload.
    expect(page.url()).not.toContain("theme");
    await page.reload();
    await page.getByRole("button", { name: "Connect", exact: true }).waitFor();
    expect((await computed(page)).accent).toBe("rgb(0, 170, 85)");
  });
});

describe.skipIf(!chromiumAvailable)("the connect page in an iframe", () => {
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 640, height: 900 } });
    page = await context.newPage();
  });
  afterEach(() => context.close());

  const resizes = () =>
    page.evaluate(() => (window as unknown as { resizes: { origin: string; height: number }[] }).resizes);

  it("tells the parent on another origin its height, and the sized frame needs no scrollbar", async () => {
    await admin("PATCH", "/project", { theme: {} });
    const session = await createSession(hub, apiKey);
    await page.goto(`${embedderOrigin}/?link=${encodeURIComponent(session.auth_link_url)}`);
    const frame = page.frameLocator("#connect");
    await frame.getByRole("button", { name: /Sandbox \(API key\)/ }).waitFor();
    await page.waitForFunction(() => (window as unknown as { resizes: unknown[] }).resizes.length > 0);

    const framePage = page.frames().find((candidate) => candidate !== page.mainFrame());
    if (!framePage) throw new Error("no frame");
    const contentHeight = () =>
      framePage.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
    const scrolls = () =>
      framePage.evaluate(() => {
        const root = document.documentElement;
        return root.scrollHeight > root.clientHeight;
      });
    await page.waitForFunction(
      (height) => (window as unknown as { resizes: { height: number }[] }).resizes.at(-1)?.height === height,
      await contentHeight(),
    );
    const first = (await resizes()).at(-1);
    expect(first).toEqual({ origin: new URL(hub.url).origin, height: await contentHeight() });
    expect(first?.height).toBeGreaterThan(150);
    expect(await scrolls()).toBe(false);
    await screenshot(page, "theme-iframe-picker");

    // A taller view (the credential form) is reported again.
    await frame.getByRole("button", { name: /Sandbox \(API key\)/ }).click();
    await frame.getByRole("button", { name: "Connect", exact: true }).waitFor();
    await page.waitForFunction(
      (height) => (window as unknown as { resizes: { height: number }[] }).resizes.at(-1)?.height === height,
      await contentHeight(),
    );
    expect((await resizes()).every((message) => message.origin === new URL(hub.url).origin)).toBe(true);
    expect(await scrolls()).toBe(false);
    await screenshot(page, "theme-iframe-form");

    // Back to the shorter picker: the frame shrinks to it again (the page never fills the frame).
    await frame.getByRole("button", { name: "All integrations" }).click();
    await frame.getByRole("button", { name: /Sandbox \(API key\)/ }).waitFor();
    await page.waitForFunction(
      (height) => (window as unknown as { resizes: { height: number }[] }).resizes.at(-1)?.height === height,
      await contentHeight(),
    );
    expect((await resizes()).at(-1)?.height).toBe(first?.height);
  });
});
