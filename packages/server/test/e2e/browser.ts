/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), with the flags a
 * closed network needs, and screenshots saved under test-artifacts/ for people to look at.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
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

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/**
 * axe-core's WCAG 2.2 A and AA violations on the page as it is now, one line per element:
 * `rule: selector (what is wrong)`, once the page's finite animations have ended. axe is
 * evaluated through the DevTools protocol, which the page's CSP does not govern (a script tag
 * would be refused, as it should be).
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  // Colours are measured as they end up: a fade or transition still running would be measured
  // half-way (a busy machine makes that likelier). Endless ones (spinners) are not waited for.
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((animation) => animation.effect?.getTiming().iterations !== Number.POSITIVE_INFINITY)
        .map((animation) => animation.finished.catch(() => undefined)),
    ),
  );
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: AxeLike }).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
    return result.violations.flatMap((violation) =>
      violation.nodes.map(
        (node) => `${violation.id}: ${node.target.join(" ")} (${node.failureSummary ?? violation.help})`,
      ),
    );
  }, WCAG_AA);
}

interface AxeLike {
  run(
    context: Document,
    options: { runOnly: { type: "tag"; values: string[] } },
  ): Promise<{
    violations: { id: string; help: string; nodes: { target: string[]; failureSummary?: string }[] }[];
  }>;
}
