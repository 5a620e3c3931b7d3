/**
 * The same measurement as load-worker.ts, sent by wrk (Debian's package `wrk`), the load
 * generator issue 11's figures were taken with: C, one thread, epoll. Like autocannon it sleeps
 * between answers, but it spends a fraction of autocannon's CPU on each, so it is asleep more
 * often and every server pays more of its wake-ups (see "Why polling" in README.md). The
 * requests are the same bytes as autocannon's; a Lua script, written for each measurement,
 * builds them once and prints the summary as one JSON line. wrk only runs for a duration.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { LoadResult, LoadSpec } from "./load-worker.js";
import { CREATE_BODY } from "./requests.js";

/** The wrk executable: WRK_PATH, else the first `wrk` on PATH; undefined when there is none. */
export function findWrk(): string | undefined {
  if (process.env.WRK_PATH) return existsSync(process.env.WRK_PATH) ? process.env.WRK_PATH : undefined;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "wrk");
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A Lua long string holding `text` as it is (no escapes are interpreted inside one). */
function luaString(text: string): string {
  let level = "";
  while (text.includes(`]${level}]`)) level += "=";
  return `[${level}[${text}]${level}]`;
}

/** The script: the requests built once in `init`, sent in turn; the summary as one JSON line. */
export function wrkScript(spec: LoadSpec): string {
  const headers = [
    ["content-type", "application/json"],
    ["authorization", `Basic ${Buffer.from(`${spec.apiKey}:`).toString("base64")}`],
    ...Object.entries(spec.request?.headers ?? {}),
  ];
  const headerTable = `{ ${headers.map(([name, value]) => `[ ${luaString(name ?? "")} ] = ${luaString(value ?? "")}`).join(", ")} }`;
  const build =
    spec.kind === "authenticate"
      ? `for token in io.lines(${luaString(spec.tokensFile ?? "")}) do
    if token ~= "" then
      requests[#requests + 1] = wrk.format("POST", "/connect_sessions/authenticate", headers, '{"token":"' .. token .. '"}')
    end
  end`
      : spec.kind === "create"
        ? `requests[1] = wrk.format("POST", "/connect_sessions", headers, ${luaString(CREATE_BODY)})`
        : `requests[1] = wrk.format(${luaString(spec.request?.method ?? "GET")}, ${luaString(spec.request?.path ?? "/")}, headers${spec.request?.body !== undefined ? `, ${luaString(spec.request.body)}` : ""})`;
  return `-- Written by bench/wrk.ts for one measurement.
local requests = {}
local turn = 0
function init(args)
  local headers = ${headerTable}
  ${build}
end
function request()
  turn = turn % #requests + 1
  return requests[turn]
end
function done(summary, latency)
  local e = summary.errors
  io.write(string.format('\\n{"total":%d,"durationMicros":%d,"non2xx":%d,"errors":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99))))
end
`;
}

interface WrkSummary {
  total: number;
  durationMicros: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
}

/** Runs one measurement with wrk, pinned by `pin` (the load generator's CPU). */
export function runWrk(
  wrk: string,
  spec: LoadSpec,
  pin: (command: string, args: string[]) => [string, string[]],
): LoadResult {
  if (spec.poll) throw new Error("wrk cannot poll: --poll needs autocannon");
  // wrk runs for a duration: a thread told to stop early still waits out the whole run.
  if (spec.amount) throw new Error("wrk runs for a duration: a fixed number of requests needs autocannon");
  const dir = mkdtempSync(path.join(tmpdir(), "connect-hub-wrk-"));
  try {
    const script = path.join(dir, "load.lua");
    writeFileSync(script, wrkScript(spec));
    const [command, argv] = pin(wrk, [
      "-t1",
      `-c${spec.connections}`,
      `-d${spec.durationSeconds}s`,
      "--timeout",
      "10s",
      "-s",
      script,
      spec.url,
    ]);
    const output = execFileSync(command, argv, { encoding: "utf8", maxBuffer: 1 << 20 });
    // Without the script's summary line wrk ran without the script (it goes on when the script fails).
    const last = output.trim().split("\n").pop() ?? "";
    if (!last.startsWith('{"total"')) throw new Error(`wrk did not run the benchmark's script:\n${output}`);
    const summary = JSON.parse(last) as WrkSummary;
    return {
      requestsPerSecond: summary.durationMicros > 0 ? summary.total / (summary.durationMicros / 1e6) : 0,
      latencyP50Ms: summary.p50 / 1000,
      latencyP99Ms: summary.p99 / 1000,
      non2xx: summary.non2xx,
      errors: summary.errors,
      total: summary.total,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
