/** Turns raw measurements into the table the benchmark prints and the targets it checks. */
import type { LoadResult } from "./load-worker.js";

export interface Measurement extends LoadResult {
  database: "sqlite" | "postgres";
  /** create, authenticate; proxy and proxy-raw (bench/proxy.ts). */
  endpoint: string;
  /** "1k" or "1M": how many sessions the table held ("-" for the proxy). */
  storedSessions: string;
  connections: number;
  /** reference: the plain Fastify + better-sqlite3 server (reference-server.ts), authenticate only. */
  target: "baseline" | "hub" | "reference";
  round: number;
  peakRssMiB: number;
  /** Server CPU time (user + system) per request answered, in microseconds. */
  cpuMicrosPerRequest: number;
}

interface Figures {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  peakRssMiB: number;
  cpuMicrosPerRequest: number;
  non2xx: number;
}

export interface SummaryRow {
  database: string;
  endpoint: string;
  storedSessions: string;
  connections: number;
  hub: Figures;
  baseline: Figures;
  /**
   * Each hub figure divided by the baseline's (for req/s higher is better, else lower), except
   * CPU: baseline CPU per request divided by the hub's, the share of the baseline's capacity a
   * saturated core would reach (it hardly moves when other processes share the machine).
   */
  ratio: Figures;
  /**
   * The plain Fastify + better-sqlite3 reference, measured in the same run and the same way
   * against the same baseline (authenticate on SQLite only): the speed issue 11's target for
   * authenticate was read from, so the hub's ratio has a yardstick from this machine today.
   */
  reference?: { figures: Figures; ratio: Figures };
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

function figures(runs: Measurement[]): Figures {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
    cpuMicrosPerRequest: median(runs.map((r) => r.cpuMicrosPerRequest)),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
  };
}

function ratios(measured: Figures, baseline: Figures): Figures {
  return {
    requestsPerSecond: measured.requestsPerSecond / baseline.requestsPerSecond,
    // autocannon measures latency in whole milliseconds: below 1 ms there is no ratio.
    latencyP50Ms: baseline.latencyP50Ms >= 1 ? measured.latencyP50Ms / baseline.latencyP50Ms : Number.NaN,
    latencyP99Ms: baseline.latencyP99Ms >= 1 ? measured.latencyP99Ms / baseline.latencyP99Ms : Number.NaN,
    peakRssMiB: measured.peakRssMiB / baseline.peakRssMiB,
    cpuMicrosPerRequest: baseline.cpuMicrosPerRequest / measured.cpuMicrosPerRequest,
    non2xx: 0,
  };
}

export function summarise(measurements: Measurement[]): { rows: SummaryRow[]; targets: TargetCheck[] } {
  const groups = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const key = [m.database, m.endpoint, m.storedSessions, m.connections].join("|");
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const rows: SummaryRow[] = [];
  for (const runs of groups.values()) {
    const first = runs[0] as Measurement;
    const hub = figures(runs.filter((r) => r.target === "hub"));
    const baseline = figures(runs.filter((r) => r.target === "baseline"));
    const referenceRuns = runs.filter((r) => r.target === "reference");
    const reference = referenceRuns.length > 0 ? figures(referenceRuns) : undefined;
    rows.push({
      database: first.database,
      endpoint: first.endpoint,
      storedSessions: first.storedSessions,
      connections: first.connections,
      hub,
      baseline,
      ratio: ratios(hub, baseline),
      ...(reference ? { reference: { figures: reference, ratio: ratios(reference, baseline) } } : {}),
    });
  }
  return { rows, targets: checkTargets(rows) };
}

function checkTargets(rows: SummaryRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const find = (database: string, endpoint: string, stored: string, connections: number) =>
    rows.find(
      (r) =>
        r.database === database &&
        r.endpoint === endpoint &&
        r.storedSessions === stored &&
        r.connections === connections,
    );
  const connectionCounts = [...new Set(rows.map((r) => r.connections))];
  // SQLite: issue 11's targets for every default on; PostgreSQL: the scale-out targets.
  const ratioTargets: Array<[string, string, number]> = [
    ["sqlite", "create", 0.15],
    ["sqlite", "authenticate", 0.24],
    ["postgres", "create", 0.12],
    ["postgres", "authenticate", 0.2],
  ];
  for (const [database, endpoint, minimum] of ratioTargets) {
    for (const connections of connectionCounts) {
      const row = find(database, endpoint, "1k", connections);
      if (!row) continue;
      const reference = row.reference
        ? `; plain Fastify in this run ${row.reference.ratio.requestsPerSecond.toFixed(3)}`
        : "";
      checks.push({
        target: `${database} ${endpoint} c=${connections}: ratio >= ${minimum}`,
        measured: `${row.ratio.requestsPerSecond.toFixed(3)}; CPU per request ${row.ratio.cpuMicrosPerRequest.toFixed(3)}${reference}`,
        met: row.ratio.requestsPerSecond >= minimum,
      });
    }
  }
  for (const endpoint of ["create", "authenticate"]) {
    const row = find("sqlite", endpoint, "1k", 50);
    if (row) {
      checks.push({
        target: `sqlite ${endpoint} c=50: p99 < 10 ms`,
        measured: `${row.hub.latencyP99Ms.toFixed(1)} ms`,
        met: row.hub.latencyP99Ms < 10,
      });
    }
  }
  for (const database of ["sqlite", "postgres"]) {
    for (const connections of connectionCounts) {
      const small = find(database, "authenticate", "1k", connections);
      const large = rows.find(
        (r) =>
          r.database === database &&
          r.endpoint === "authenticate" &&
          r.storedSessions !== "1k" &&
          r.connections === connections,
      );
      if (!small || !large) continue;
      const relative = large.hub.requestsPerSecond / small.hub.requestsPerSecond;
      checks.push({
        target: `${database} authenticate c=${connections}: ${large.storedSessions} sessions within 20% of 1k`,
        measured: `${(relative * 100).toFixed(1)}% of 1k`,
        met: relative >= 0.8,
      });
    }
  }
  return checks;
}

const pad = (value: string, width: number) => value.padStart(width);
const ratioText = (ratio: number) => (Number.isFinite(ratio) ? ratio.toFixed(2) : "<1ms");

/**
 * The table and the target checks, as printed. `notes`: lines under the targets when any is
 * missed (what about the machine may explain it).
 */
export function reportText(
  summary: { rows: SummaryRow[]; targets: TargetCheck[] },
  notes: readonly string[] = [],
): string {
  const header = [
    "database",
    "endpoint",
    "sessions",
    "conns",
    "req/s",
    "(ratio)",
    "p50 ms",
    "(ratio)",
    "p99 ms",
    "(ratio)",
    "RSS MiB",
    "(ratio)",
    "CPU µs",
    "(ratio)",
    "baseline req/s",
  ];
  const widths = [9, 13, 9, 6, 8, 8, 7, 8, 7, 8, 8, 8, 7, 8, 15];
  const lines = [header.map((h, i) => pad(h, widths[i] ?? 8)).join(" ")];
  for (const row of summary.rows) {
    const cells = [
      row.database,
      row.endpoint,
      row.storedSessions,
      String(row.connections),
      Math.round(row.hub.requestsPerSecond).toString(),
      row.ratio.requestsPerSecond.toFixed(3),
      row.hub.latencyP50Ms.toFixed(1),
      ratioText(row.ratio.latencyP50Ms),
      row.hub.latencyP99Ms.toFixed(1),
      ratioText(row.ratio.latencyP99Ms),
      row.hub.peakRssMiB.toFixed(0),
      row.ratio.peakRssMiB.toFixed(2),
      row.hub.cpuMicrosPerRequest.toFixed(0),
      row.ratio.cpuMicrosPerRequest.toFixed(3),
      Math.round(row.baseline.requestsPerSecond).toString(),
    ];
    lines.push(cells.map((c, i) => pad(c, widths[i] ?? 8)).join(" "));
    if (row.hub.non2xx > 0) lines.push(`  ! ${row.hub.non2xx} responses were not 2xx`);
    if (row.reference) {
      const { figures: measured, ratio } = row.reference;
      lines.push(
        `  plain Fastify + better-sqlite3, the same lookup and no defaults: ${Math.round(measured.requestsPerSecond)} req/s (ratio ${ratio.requestsPerSecond.toFixed(3)}), p99 ${measured.latencyP99Ms.toFixed(1)} ms, CPU ${measured.cpuMicrosPerRequest.toFixed(0)} µs (ratio ${ratio.cpuMicrosPerRequest.toFixed(3)})`,
      );
    }
  }
  lines.push(
    "(latency ratios show <1ms where the baseline answered within 1 ms, autocannon's resolution;",
    " CPU µs: server CPU per request, its ratio baseline/hub: the share of the baseline's capacity)",
  );
  lines.push("", "targets:");
  for (const check of summary.targets) {
    lines.push(`  ${check.met ? "met   " : "MISSED"}  ${check.target}  (measured ${check.measured})`);
  }
  if (summary.targets.some((check) => !check.met)) lines.push(...notes.map((note) => `  ${note}`));
  return `${lines.join("\n")}\n`;
}
