/**
 * One measurement with autocannon, run as its own process (pinned to its own CPU by the
 * runner) so the load generator never shares a core with the server it measures.
 * Usage: node load-worker.js '<json spec>'; prints one JSON result line.
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { CREATE_BODY } from "./requests.js";

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Send exactly this many requests instead of running for `durationSeconds`. */
  amount?: number;
  apiKey: string;
  /**
   * create: POST /connect_sessions; authenticate: POST /connect_sessions/authenticate;
   * request: the one `request` below, sent as it is (the proxy benchmark).
   */
  kind: "create" | "authenticate" | "request";
  request?: { method: string; path: string; headers?: Record<string, string>; body?: string };
  /** For authenticate: a file of tokens, one a line (drawn at random by the runner), sent in turn. */
  tokensFile?: string;
  /**
   * Keep the load generator's event loop polling instead of sleeping between answers. On
   * loopback the kernel wakes a sleeping reader inside the writer's `writev`, so a server slower
   * than its load generator pays, in its own CPU time, for waking the load generator at nearly
   * every answer (a cost no server pays for a client across a real network). Polling, the load
   * generator is never asleep, and the server's CPU time is its own work.
   */
  poll?: boolean;
  /** Who sends the load: autocannon (this worker, the default) or wrk (wrk.ts). */
  generator?: LoadGenerator;
}

export type LoadGenerator = "autocannon" | "wrk";

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  // A pending immediate makes libuv poll for I/O without blocking: the loop never sleeps.
  const keepPolling = (): void => {
    setImmediate(keepPolling);
  };
  if (spec.poll) keepPolling();
  const headers = {
    "content-type": "application/json",
    authorization: `Basic ${Buffer.from(`${spec.apiKey}:`).toString("base64")}`,
  };
  const tokens = spec.tokensFile ? readFileSync(spec.tokensFile, "utf8").split("\n").filter(Boolean) : [];
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.durationSeconds }),
    method: "POST",
    headers,
    // Static requests only: autocannon builds their bytes once, so the load generator spends
    // its CPU on sending, not on building bodies (tokens are pre-shuffled instead).
    requests:
      spec.kind === "request" && spec.request
        ? [
            {
              method: spec.request.method as "GET",
              path: spec.request.path,
              headers: { ...headers, ...spec.request.headers },
              ...(spec.request.body !== undefined ? { body: spec.request.body } : {}),
            },
          ]
        : spec.kind === "create"
          ? [{ method: "POST", path: "/connect_sessions", body: CREATE_BODY }]
          : tokens.map((token) => ({
              method: "POST" as const,
              path: "/connect_sessions/authenticate",
              body: JSON.stringify({ token }),
            })),
  });
  // Completed requests over the run's own elapsed time. autocannon's `requests.average` is the
  // mean of whole-second samples: a short run on a busy machine can end before its first
  // sample and report 0 for a run that completed requests.
  const elapsedSeconds = (new Date(result.finish).getTime() - new Date(result.start).getTime()) / 1000;
  const output: LoadResult = {
    requestsPerSecond: elapsedSeconds > 0 ? result.requests.total / elapsedSeconds : result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
  // The polling loop would keep the process alive.
  if (spec.poll) process.exit(0);
}

void main();
