/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), with the flags a
 * closed network needs, and screenshots saved under test-artifacts/ for people to look at.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

export const ARTIFACTS_DIR = fileURLToPath(new URL("../../../../test-artifacts/", import.meta.url));

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether the browser tests can run. `npm test` installs Chromium first where it can; without
 * it they skip, except under CI=true, where a missing browser must fail the run.
 */
export const chromiumAvailable: boolean = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable && process.env.CI === "true") {
  throw new Error(`Chromium is required in CI but missing at ${CHROMIUM_PATH}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}
