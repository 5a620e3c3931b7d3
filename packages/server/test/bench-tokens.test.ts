/**
 * The tokens authenticate is measured with: every stored session when the table is small,
 * and a sample drawn from the whole table when it is large (so a 1M table is not measured on
 * its first 1,000 rows, which stay in the page cache).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { benchToken, writeTokenSample } from "../../../bench/targets.js";

const dir = mkdtempSync(path.join(tmpdir(), "connect-hub-bench-tokens-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The session numbers of the sample's tokens, each checked to be a seeded token's shape. */
function sample(sessions: number, count: number): number[] {
  const file = writeTokenSample(path.join(dir, `tokens-${sessions}-${count}.txt`), sessions, count);
  return readFileSync(file, "utf8")
    .trimEnd()
    .split("\n")
    .map((token) => {
      const n = Number(/^chs_bench_(\d+)$/.exec(token)?.[1]);
      expect(token).toBe(benchToken(n));
      return n;
    });
}

describe("the benchmark's token sample", () => {
  it("sends every stored session once when the table holds no more than the sample", () => {
    expect(sample(5, 1000)).toEqual([1, 2, 3, 4, 5]);
    const all = sample(1000, 1000);
    expect(new Set(all).size).toBe(1000);
    expect(Math.min(...all)).toBe(1);
    expect(Math.max(...all)).toBe(1000);
  });

  it("draws the sample from the whole table when it is larger", () => {
    const drawn = sample(1_000_000, 1000);
    expect(drawn).toHaveLength(1000);
    for (const n of drawn) expect(n >= 1 && n <= 1_000_000).toBe(true);
    // 1,000 draws all among the first 1,000 of 1,000,000 would have a probability of 10^-3000.
    expect(Math.max(...drawn)).toBeGreaterThan(1000);
  });
});
