/** The webhook settings (validated at start) and the retry arithmetic built on them. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { MAX_RETRY_AFTER_MS, nextRetryDelayMs, parseRetryAfter } from "../src/webhooks/retry.js";

describe("webhook configuration", () => {
  it("defaults to production-grade values: 1 s polling, ~27.5 h of retries, disable after 24 h", () => {
    const { webhooks } = loadConfig({});
    expect(webhooks.pollIntervalMs).toBe(1000);
    expect(webhooks.retryScheduleMs).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(webhooks.retryScheduleMs.reduce((a, b) => a + b, 0)).toBeGreaterThan(24 * 3_600_000);
    expect(webhooks.disableAfterMs).toBe(86_400_000);
    expect(webhooks.retentionMs).toBe(30 * 86_400_000);
  });

  it("takes durations with units, and a bare number as seconds", () => {
    const { webhooks } = loadConfig({
      WEBHOOK_POLL_INTERVAL: "50ms",
      WEBHOOK_RETRY_SCHEDULE: "100ms, 2s,1m,3",
      WEBHOOK_DISABLE_AFTER: "2h",
      WEBHOOK_RETENTION: "7d",
    });
    expect(webhooks).toEqual({
      pollIntervalMs: 50,
      retryScheduleMs: [100, 2000, 60_000, 3000],
      disableAfterMs: 7_200_000,
      retentionMs: 7 * 86_400_000,
      allowedHosts: new Set(),
      maxEndpointsPerProject: 20,
    });
  });

  it.each([
    ["WEBHOOK_POLL_INTERVAL", "soon"],
    ["WEBHOOK_POLL_INTERVAL", "2d"],
    ["WEBHOOK_RETRY_SCHEDULE", "5s,,5m"],
    ["WEBHOOK_RETRY_SCHEDULE", "0ms"],
    ["WEBHOOK_RETRY_SCHEDULE", "8d"],
    ["WEBHOOK_DISABLE_AFTER", "-1s"],
    ["WEBHOOK_RETENTION", "1s"],
  ])("refuses %s=%s with a message naming it", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe("retry delays", () => {
  const schedule = [1000, 60_000];
  it("follows the schedule with +-20% jitter, then gives up", () => {
    expect(nextRetryDelayMs(schedule, 1, undefined, () => 0)).toBe(800);
    expect(nextRetryDelayMs(schedule, 1, undefined, () => 1)).toBe(1200);
    expect(nextRetryDelayMs(schedule, 2, undefined, () => 0.5)).toBe(60_000);
    expect(nextRetryDelayMs(schedule, 3, undefined)).toBeUndefined();
  });

  it("waits at least what Retry-After asks, up to a day", () => {
    expect(nextRetryDelayMs(schedule, 1, 30_000, () => 0.5)).toBe(30_000);
    expect(nextRetryDelayMs(schedule, 1, 10, () => 0.5)).toBe(1000);
    expect(nextRetryDelayMs(schedule, 1, 10 * MAX_RETRY_AFTER_MS, () => 0.5)).toBe(MAX_RETRY_AFTER_MS);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = new Date("2026-11-27T12:00:00.000Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Fri, 27 Nov 2026 12:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
