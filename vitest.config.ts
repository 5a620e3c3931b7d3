import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./scripts/slow-first-sequencer.js";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // A bound for a hung test, not a speed check: on a machine shared by many suites a test
    // that runs several CLI processes can take far longer than it does alone.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Tests start real servers and databases; two cores are all a machine has.
    maxWorkers: 2,
    // Test files share their worker's loaded modules: importing Fastify, Kysely, the drivers
    // and the app once per worker instead of once per file saves about a minute of a run. No
    // test file patches globals or the environment (they only read it), so sharing is safe.
    isolate: false,
    // The slowest files first (see the sequencer), so the workers end together.
    sequence: { sequencer: SlowFirstSequencer },
    // Never against a stale dist/ (server processes run it): rebuild what is older than src.
    globalSetup: ["./scripts/fresh-build.ts"],
    // Every run ends with how many tests were skipped, and which.
    reporters: ["default", "./scripts/skipped-tests-reporter.ts"],
  },
});
