import { describe, expect, it } from "vitest";
import { isoTimestamp } from "../src/time.js";

describe("isoTimestamp", () => {
  it("formats every millisecond as its own ISO-8601 UTC string, however the calls alternate", () => {
    const first = new Date("2026-12-02T10:00:00.001Z");
    const second = new Date("2026-12-02T10:00:00.002Z");
    for (const date of [first, first, second, first, second, second]) {
      expect(isoTimestamp(date)).toBe(date.toISOString());
    }
    expect(isoTimestamp(new Date(0))).toBe("1970-01-01T00:00:00.000Z");
  });

  it("formats any time as toISOString does: milliseconds, seconds apart in turn, before 1970, past 9999", () => {
    const now = Date.parse("2026-12-04T10:00:59.990Z");
    const times = [now, now + 1_800_000, now + 5, now + 1_800_009, now + 10, now + 99, now + 100];
    for (let step = 0; step < 2_000; step += 7) times.push(now + step, now + step + 1_800_000);
    // Each twice in its second, so the second call is formatted from the remembered one.
    for (const edge of [
      -1, -999, -1000, -1001, 0, 253_402_300_799_998, 253_402_300_800_000, -62_167_219_200_002,
    ]) {
      times.push(edge, edge + 1);
    }
    for (const millis of times) {
      expect(isoTimestamp(new Date(millis))).toBe(new Date(millis).toISOString());
    }
  });

  it("refuses an invalid date, before and after a valid one", () => {
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
    expect(isoTimestamp(new Date(5))).toBe("1970-01-01T00:00:00.005Z");
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
