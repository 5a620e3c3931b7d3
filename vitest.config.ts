import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // A bound for a hung test, not a speed check: on a machine shared by many suites a test
    // that runs several CLI processes can take far longer than it does alone.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Tests start real servers and databases; two cores are all a machine has.
    maxWorkers: 2,
    // Never against a stale dist/ (server processes run it): rebuild what is older than src.
    globalSetup: ["./scripts/fresh-build.ts"],
    // Every run ends with how many tests were skipped, and which.
    reporters: ["default", "./scripts/skipped-tests-reporter.ts"],
  },
});
