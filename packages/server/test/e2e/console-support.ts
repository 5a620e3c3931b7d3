/**
 * What the console's Chromium tests share: a sign-in link from the real CLI
 * (`connect-hub console link`, run against the test server's database), a page that records
 * every CSP violation and console error, and screenshots under test-artifacts/console/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { cli } from "../support/process.js";
import type { TestServer } from "../support/server.js";
import { screenshot } from "./browser.js";

/** Runs `connect-hub console link` and returns the link it printed alone on standard output. */
export async function consoleLink(hub: TestServer, args: string[] = []): Promise<string> {
  const result = await cli(
    {
      DATABASE_URL: hub.databaseUrl,
      DATA_DIR: hub.dataDir,
      PUBLIC_URL: hub.config.publicUrl,
      LOG_LEVEL: "warn",
    },
    "console",
    "link",
    ...args,
  );
  if (result.code !== 0) throw new Error(`console link failed: ${result.stderr}`);
  const link = result.stdout.trim();
  if (!link.startsWith(`${hub.config.publicUrl}/console/sign-in?token=chl_`)) {
    throw new Error(`unexpected link: ${link}`);
  }
  return link;
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** CSP violations reported by the page (`securitypolicyviolation`) and console errors. */
  problems: () => Promise<string[]>;
}

/** A new browser context whose pages report CSP violations and console errors. */
export async function watchedPage(
  browser: Browser,
  options: { colorScheme?: "light" | "dark"; viewport?: { width: number; height: number } } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    colorScheme: options.colorScheme ?? "light",
    viewport: options.viewport ?? { width: 1280, height: 800 },
  });
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = seen;
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push(`CSP ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
    });
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    // A refused request shows up as a console error too; the tests that expect refusals read
    // the API's answer instead, so only script errors and CSP reports count here.
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) {
      consoleErrors.push(`console: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
  return {
    page,
    context,
    problems: async () => {
      const violations = await page
        .evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? [])
        .catch(() => []);
      return [...violations, ...consoleErrors];
    },
  };
}

export const PHONE = { width: 390, height: 844 };

export function consoleScreenshot(page: Page, name: string): Promise<void> {
  return screenshot(page, `console/${name}`);
}

/** Waits until the console shows its signed-in shell. */
export async function waitForShell(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}
