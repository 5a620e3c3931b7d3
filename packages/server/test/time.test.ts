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

  it("refuses an invalid date, before and after a valid one", () => {
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
    expect(isoTimestamp(new Date(5))).toBe("1970-01-01T00:00:00.005Z");
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
