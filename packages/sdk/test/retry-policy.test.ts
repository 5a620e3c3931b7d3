/** The retry decision on its own, with a fixed clock and fixed randomness. */
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  nextRetryDelay,
  parseRetryAfter,
  resolveRetryPolicy,
} from "../src/core/retries.js";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const policy = resolveRetryPolicy(undefined);
const start = { retriesSoFar: 0, elapsedMs: 0 };
const answered = (status: number, retryAfter: string | null = null) =>
  ({ kind: "answered", status, retryAfter }) as const;

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfter("0", NOW)).toBe(0);
    expect(parseRetryAfter(" 3 ", NOW)).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 12:00:05 GMT", NOW)).toBe(5000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:00 GMT", NOW)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    for (const value of [null, "", "soon", "-1", "1.5"]) expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe("backoffDelay", () => {
  it("grows by the exponent, stays under maxInterval, and jitters between half and all", () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 0, () => 1)).toBe(500);
    expect(backoffDelay(DEFAULT_BACKOFF, 0, () => 0)).toBe(250);
    expect(backoffDelay(DEFAULT_BACKOFF, 2, () => 1)).toBe(1125);
    expect(backoffDelay(DEFAULT_BACKOFF, 20, () => 1)).toBe(DEFAULT_BACKOFF.maxInterval);
  });
});

describe("nextRetryDelay", () => {
  it("retries 408, 429, 502, 503, 504 and attempts without an answer by default", () => {
    for (const status of [408, 429, 502, 503, 504]) {
      expect(nextRetryDelay(policy, answered(status), start, NOW, () => 1)).toBe(500);
    }
    expect(nextRetryDelay(policy, { kind: "no-answer" }, start, NOW, () => 1)).toBe(500);
  });

  it("never retries other statuses, aborts, or with strategy none", () => {
    for (const status of [400, 401, 404, 409, 422, 500, 501]) {
      expect(nextRetryDelay(policy, answered(status), start, NOW)).toBeUndefined();
    }
    expect(nextRetryDelay(policy, { kind: "aborted" }, start, NOW)).toBeUndefined();
    expect(
      nextRetryDelay(resolveRetryPolicy({ strategy: "none" }), answered(429), start, NOW),
    ).toBeUndefined();
  });

  it("waits at least Retry-After, even beyond maxInterval", () => {
    expect(nextRetryDelay(policy, answered(429, "2"), start, NOW, () => 1)).toBe(2000);
    expect(nextRetryDelay(policy, answered(429, "30"), start, NOW, () => 1)).toBe(30_000);
    expect(nextRetryDelay(policy, answered(429, "0"), start, NOW, () => 1)).toBe(500);
  });

  it("stops when the next attempt would start after maxElapsedTime", () => {
    expect(nextRetryDelay(policy, answered(503), { retriesSoFar: 3, elapsedMs: 59_000 }, NOW, () => 1)).toBe(
      undefined,
    );
    expect(nextRetryDelay(policy, answered(429, "61"), start, NOW)).toBeUndefined();
    expect(nextRetryDelay(policy, answered(429, "60"), start, NOW)).toBe(60_000);
  });

  it("takes an operation's default retry codes unless the config names its own", () => {
    expect(resolveRetryPolicy(undefined, [429])?.retryCodes).toEqual(new Set([429]));
    expect(resolveRetryPolicy({ strategy: "backoff" }, [429])?.retryCodes).toEqual(new Set([429]));
    expect(resolveRetryPolicy({ strategy: "backoff", retryCodes: [502] }, [429])?.retryCodes).toEqual(
      new Set([502]),
    );
  });

  it("merges a partial backoff over the defaults", () => {
    const custom = resolveRetryPolicy({ strategy: "backoff", backoff: { maxElapsedTime: 1000 } });
    expect(custom?.backoff).toEqual({ ...DEFAULT_BACKOFF, maxElapsedTime: 1000 });
  });
});
