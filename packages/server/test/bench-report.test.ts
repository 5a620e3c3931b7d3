/**
 * The benchmark's report: the target checks it prints from the measurements, and the notes on
 * the machine it adds only when a target is missed.
 */
import { describe, expect, it } from "vitest";
import { type Measurement, reportText, summarise } from "../../../bench/report.js";

/** One run of authenticate on SQLite, 1k sessions, 50 connections. */
function run(target: Measurement["target"], requestsPerSecond: number, latencyP99Ms: number): Measurement {
  return {
    database: "sqlite",
    endpoint: "authenticate",
    storedSessions: "1k",
    connections: 50,
    target,
    round: 0,
    requestsPerSecond,
    latencyP50Ms: 1,
    latencyP99Ms,
    non2xx: 0,
    errors: 0,
    total: 1000,
    peakRssMiB: 100,
    cpuMicrosPerRequest: 50,
  };
}

const NOTE = "note: idle CPUs halt at once";

describe("the benchmark's report", () => {
  it("prints a p99 target's measurement to a tenth of a millisecond", () => {
    const summary = summarise([run("baseline", 60_000, 2), run("hub", 20_000, 9.503499999999999)]);
    expect(summary.targets).toContainEqual({
      target: "sqlite authenticate c=50: p99 < 10 ms",
      measured: "9.5 ms",
      met: true,
    });
  });

  it("adds the machine's notes under the targets only when one is missed", () => {
    const met = summarise([run("baseline", 60_000, 2), run("hub", 20_000, 5)]);
    expect(met.targets.every((check) => check.met)).toBe(true);
    expect(reportText(met, [NOTE])).not.toContain(NOTE);

    const missed = summarise([run("baseline", 60_000, 2), run("hub", 10_000, 5)]);
    const text = reportText(missed, [NOTE]);
    expect(text).toContain("MISSED  sqlite authenticate c=50: ratio >= 0.24");
    expect(text.trimEnd().split("\n").at(-1)).toBe(`  ${NOTE}`);
  });

  it("shows the plain Fastify reference beside authenticate's target, and never lets it decide one", () => {
    const summary = summarise([
      run("baseline", 60_000, 2),
      run("hub", 12_000, 5),
      run("reference", 15_000, 3),
    ]);
    const [row] = summary.rows;
    expect(row?.hub.requestsPerSecond).toBe(12_000);
    expect(row?.reference?.ratio.requestsPerSecond).toBe(0.25);
    expect(summary.targets).toContainEqual({
      target: "sqlite authenticate c=50: ratio >= 0.24",
      measured: "0.200; CPU per request 1.000; plain Fastify in this run 0.250",
      met: false,
    });
    expect(reportText(summary)).toContain(
      "plain Fastify + better-sqlite3, the same lookup and no defaults: 15000 req/s (ratio 0.250)",
    );
  });
});
