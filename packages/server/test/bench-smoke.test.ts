/**
 * The benchmark's pieces work (baseline, pinned servers, load generator, seeding, the proxy's
 * upstream and account, report):
 * a one-second run per target on SQLite. Its figures are not checked; the benchmark measures
 * speed, the test suite never does.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { findWrk } from "../../../bench/wrk.js";

const RUN = fileURLToPath(new URL("../../../bench/dist/run.js", import.meta.url));
/** `npm test` installs Debian's wrk where it can; without it the wrk run skips, except under CI=true. */
const wrkAvailable = findWrk() !== undefined;
if (!wrkAvailable && process.env.CI === "true") throw new Error("wrk is required in CI but missing");

const dir = mkdtempSync(path.join(tmpdir(), "connect-hub-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One `npm run bench` run with these options; its table on standard output. */
async function bench(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [RUN, ...args], { timeout: 230_000 });
  return stdout;
}

describe("npm run bench -- --quick", () => {
  // One run measures and profiles: each server start costs seconds on a busy machine, so the
  // smoke test starts the benchmark once. Generous limit: it only guards against a hang.
  it("measures baseline and Connect Hub, profiles the pieces, and writes the table and the JSON", {
    timeout: 240_000,
  }, async () => {
    const out = path.join(dir, "quick.json");
    const stdout = await bench(
      "--quick",
      // A fixed number of requests, not a time window: on a busy machine one second may
      // complete none.
      "--requests",
      "200",
      "--warmup",
      "0",
      "--connections",
      "4",
      "--profile-requests",
      "300",
      "--out",
      out,
    );
    expect(stdout).toMatch(/database\s+endpoint/);
    expect(stdout).toContain("targets:");
    expect(stdout).toContain("CPU µs");
    expect(stdout).toContain("where a request's CPU time goes");
    const result = JSON.parse(readFileSync(out, "utf8"));
    const rows = result.summary.rows as Array<{
      endpoint: string;
      hub: { requestsPerSecond: number; non2xx: number; cpuMicrosPerRequest: number };
      reference?: { figures: { requestsPerSecond: number; non2xx: number } };
    }>;
    expect(rows.map((row) => row.endpoint).sort()).toEqual(["authenticate", "create", "proxy", "proxy-raw"]);
    for (const row of rows) {
      expect(row.hub.requestsPerSecond).toBeGreaterThan(0);
      expect(row.hub.non2xx).toBe(0);
      expect(row.hub.cpuMicrosPerRequest).toBeGreaterThan(0);
    }
    // The plain Fastify reference measured beside authenticate (only), every answer a success.
    const reference = rows.find((row) => row.endpoint === "authenticate")?.reference?.figures;
    expect(reference?.requestsPerSecond).toBeGreaterThan(0);
    expect(reference?.non2xx).toBe(0);
    expect(rows.filter((row) => row.reference)).toHaveLength(1);
    expect(stdout).toContain("plain Fastify in this run");
    const profiles = result.profiles as Array<{
      endpoint: string;
      cpuMicrosPerRequest: number;
      baselineCpuMicrosPerRequest: number;
      referenceCpuMicrosPerRequest: number | null;
      polling: { hub: number; baseline: number; reference: number | null };
      pieces: Record<string, number>;
    }>;
    expect(profiles.map((p) => p.endpoint)).toEqual(["create", "authenticate"]);
    // The plain Fastify reference does authenticate's lookup only (NaN is written as null).
    const [create, authenticate] = profiles;
    expect(create?.referenceCpuMicrosPerRequest).toBeNull();
    expect(authenticate?.referenceCpuMicrosPerRequest).toBeGreaterThan(0);
    expect(authenticate?.polling.reference).toBeGreaterThan(0);
    expect(stdout).toContain("plain Fastify + better-sqlite3");
    expect(stdout).toContain("waking the sleeping load generator");
    for (const profile of profiles) {
      expect(profile.cpuMicrosPerRequest).toBeGreaterThan(0);
      expect(profile.baselineCpuMicrosPerRequest).toBeGreaterThan(0);
      // Measured again with the load generator polling: it answered (it did not hang), and the
      // servers' CPU was read.
      expect(profile.polling.hub).toBeGreaterThan(0);
      expect(profile.polling.baseline).toBeGreaterThan(0);
      const pieces = Object.values(profile.pieces);
      for (const value of pieces) expect(value).toBeGreaterThanOrEqual(0);
      const sum = pieces.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(profile.cpuMicrosPerRequest, 3);
    }
  });

  // The issue's own load generator: the same requests, sent by wrk, answered without an error.
  it.skipIf(!wrkAvailable)("sends the same requests with wrk (--wrk)", { timeout: 240_000 }, async () => {
    const out = path.join(dir, "wrk.json");
    await bench(
      "--quick",
      "--wrk",
      "--duration",
      "1",
      "--warmup",
      "0",
      "--connections",
      "4",
      "--no-profile",
      "--out",
      out,
    );
    const result = JSON.parse(readFileSync(out, "utf8"));
    expect(result.loadGenerator).toBe("wrk");
    const rows = result.summary.rows as Array<{
      endpoint: string;
      hub: { requestsPerSecond: number; non2xx: number; latencyP99Ms: number };
      baseline: { requestsPerSecond: number };
    }>;
    expect(rows.map((row) => row.endpoint).sort()).toEqual(["authenticate", "create", "proxy", "proxy-raw"]);
    for (const row of rows) {
      // Every answer a success: the key, the bodies and the tokens the script sent were right.
      expect(row.hub.requestsPerSecond).toBeGreaterThan(0);
      expect(row.hub.non2xx).toBe(0);
      expect(row.hub.latencyP99Ms).toBeGreaterThan(0);
      expect(row.baseline.requestsPerSecond).toBeGreaterThan(0);
    }
    const measurements = result.measurements as Array<{ errors: number; non2xx: number; total: number }>;
    for (const measurement of measurements) {
      expect(measurement.total).toBeGreaterThan(0);
      expect(measurement.errors).toBe(0);
      expect(measurement.non2xx).toBe(0);
    }
  });
});
