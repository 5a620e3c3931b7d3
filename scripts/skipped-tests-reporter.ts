/**
 * Vitest reporter: ends every run with the number of skipped tests and their names, so a
 * skip (PostgreSQL, Redis or Chromium missing outside CI, a dialect-specific test) is never
 * silent. Under CI=true the services are required and the suites fail rather than skip.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SkippedTestsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    let total = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        total += 1;
        if (test.result().state === "skipped") {
          skipped.push(`  ${module.relativeModuleId} > ${test.fullName}`);
        }
      }
    }
    const lines = [
      `\nSkipped tests: ${skipped.length} of ${total}${process.env.CI === "true" ? " (CI=true)" : ""}`,
    ];
    if (skipped.length > 0) lines.push(...skipped);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}
