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

const RUN = fileURLToPath(new URL("../../../bench/dist/run.js", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "connect-hub-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run bench -- --quick", () => {
  it("measures baseline and Connect Hub and writes the table and the JSON", async () => {
    const out = path.join(dir, "quick.json");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [RUN, "--quick", "--duration", "1", "--warmup", "0", "--connections", "4", "--out", out],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/database\s+endpoint/);
    expect(stdout).toContain("targets:");
    const result = JSON.parse(readFileSync(out, "utf8"));
    const rows = result.summary.rows as Array<{
      endpoint: string;
      hub: { requestsPerSecond: number; non2xx: number };
    }>;
    expect(rows.map((row) => row.endpoint).sort()).toEqual(["authenticate", "create", "proxy", "proxy-raw"]);
    for (const row of rows) {
      expect(row.hub.requestsPerSecond).toBeGreaterThan(0);
      expect(row.hub.non2xx).toBe(0);
    }
  });
});
