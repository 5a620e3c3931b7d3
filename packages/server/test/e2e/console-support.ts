/**
 * What the console's Chromium tests share: sign-in links (one test runs the real CLI,
 * `connect-hub console link`; the others make theirs in-process through the same service calls,
 * which spares a Node process per sign-in), a page that records every CSP violation and console
 * error, in-app navigation, and screenshots under test-artifacts/console/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { existingProject } from "../../src/cli/options.js";
import { AuditLog } from "../../src/console/audit.js";
import { ConsoleService } from "../../src/console/service.js";
import type { ConsoleRole } from "../../src/db/schema.js";
import { DEFAULT_ORGANIZATION } from "../../src/tenancy/service.js";
import { cli } from "../support/process.js";
import type { TestServer } from "../support/server.js";
import { screenshot } from "./browser.js";

/** Runs `connect-hub console link` and returns the link it printed alone on standard output. */
export async function cliConsoleLink(hub: TestServer, args: string[] = []): Promise<string> {
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
  return checkedLink(hub, result.stdout.trim());
}

/**
 * A sign-in link made in-process by what `connect-hub console link` runs (src/console/cli.ts):
 * the project looked up by name, `ConsoleService.createSignInLink` and the audit event.
 */
export async function consoleLink(
  hub: TestServer,
  options: { project: string; role?: ConsoleRole },
): Promise<string> {
  const role = options.role ?? "admin";
  const project = await existingProject(hub.db, {
    project: options.project,
    organization: DEFAULT_ORGANIZATION,
  });
  const link = await new ConsoleService(hub.db.kysely, hub.config.publicUrl).createSignInLink({
    projectId: project.id,
    role,
    createdBy: "cli",
  });
  await new AuditLog(hub.db.kysely).record({
    projectId: project.id,
    actor: { type: "cli", id: "cli", display: "cli" },
    action: "console.link_created",
    targetType: "console_sign_in_link",
    targetId: link.id,
    details: { role },
  });
  return checkedLink(hub, link.url);
}

function checkedLink(hub: TestServer, link: string): string {
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

/**
 * What is wrong with the page's layout at its width: the document wider than the window (a
 * sideways scroll), a table wider than its scrolling frame, a cell whose text spills over the
 * next row, or a table whose frame hides part of its rows; each table named by its column headers.
 */
export function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const root = document.scrollingElement ?? document.documentElement;
    if (root.scrollWidth > window.innerWidth) {
      found.push(`the page is ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
    }
    const all = (within: ParentNode, selector: string) =>
      Array.from(within.querySelectorAll(selector)) as HTMLElement[];
    for (const frame of all(document, ".table-scroll")) {
      const name = all(frame, "thead th").map((cell) => cell.textContent?.trim() || "-");
      if (frame.scrollWidth > frame.clientWidth + 1) {
        found.push(`the table (${name.join(", ")}) is ${frame.scrollWidth}px wide in ${frame.clientWidth}px`);
      }
      const spilling = all(frame, "tbody td, tbody th").filter(
        (cell) => cell.offsetParent !== null && cell.scrollHeight > cell.clientHeight + 1,
      );
      if (spilling.length > 0) {
        found.push(
          `the table (${name.join(", ")}) has ${spilling.length} cells whose text spills out of them`,
        );
      }
      const rows = frame.querySelector("tbody")?.getBoundingClientRect();
      if (rows && frame.getBoundingClientRect().height + 1 < rows.height) {
        found.push(
          `the table (${name.join(", ")}) shows ${frame.clientHeight}px of ${rows.height}px of rows`,
        );
      }
    }
    return found;
  });
}

export function consoleScreenshot(page: Page, name: string): Promise<void> {
  return screenshot(page, `console/${name}`);
}

/** Waits until the console shows its signed-in shell. */
export async function waitForShell(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/**
 * Opens a console path (relative to /console) the way the app's own links do, through the
 * router, without reloading the app: the tests that visit many pages check each page, not the
 * page load, which `page.goto` would repeat (bundle, styles, session) for every one.
 */
export async function openInApp(page: Page, path: string): Promise<void> {
  await page.evaluate(async (target) => {
    window.history.pushState(null, "", `/console${target}`);
    window.dispatchEvent(new PopStateEvent("popstate"));
    // Past the next frame, the router has rendered the new page: nothing the caller then waits
    // for can still be the previous page's.
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }, path);
}
