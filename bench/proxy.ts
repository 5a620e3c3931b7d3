/**
 * The proxy's overhead: the same loopback upstream called directly (the baseline) and through
 * Connect Hub, as `POST /unified/proxy` (`proxy`) and as `GET /proxy/me` (`proxy-raw`), in the
 * same run. The upstream is pinned beside the server (CPU 0), so the Connect Hub figures
 * include the upstream's own work, as the baseline's do.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { LoadGenerator, LoadSpec } from "./load-worker.js";
import type { Measurement } from "./report.js";
import {
  type BenchDatabase,
  freePort,
  type RunningServer,
  runLoad,
  startHub,
  startPinned,
} from "./targets.js";

const UPSTREAM_TOKEN = "bench-upstream-token";
const PROVIDER = "bench-api";

export interface ProxySettings {
  work: string;
  rounds: number;
  connectionCounts: number[];
  durationSeconds: number;
  /** Set: each measurement sends this many requests instead of running for the duration. */
  requests?: number;
  warmupSeconds: number;
  /** The load generator polls instead of sleeping (LoadSpec.poll). */
  poll: boolean;
  /** Who sends the load (LoadSpec.generator). */
  generator: LoadGenerator;
  log(message: string): void;
  /** Servers to stop if the run is interrupted. */
  cleanups: Set<() => Promise<void>>;
}

function writeProvider(work: string, upstreamUrl: string): string {
  const dir = path.join(work, "proxy-providers");
  mkdirSync(path.join(dir, "logos"), { recursive: true });
  writeFileSync(
    path.join(dir, "logos", "bench.svg"),
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8" role="img" aria-label="Bench"><rect width="8" height="8"/></svg>',
  );
  writeFileSync(
    path.join(dir, `${PROVIDER}.json`),
    JSON.stringify({
      key: PROVIDER,
      name: "Bench API",
      categories: ["hris"],
      description: "The proxy benchmark's upstream.",
      website: "https://example.com",
      logo: "bench.svg",
      auth: {
        type: "api_key",
        fields: [{ key: "api_key", label: "API key", type: "password", required: true, secret: true }],
      },
      api: {
        docs: "https://example.com/docs",
        baseUrl: `${upstreamUrl}/v1`,
        auth: { style: "bearer", token: "{{api_key}}" },
      },
    }),
  );
  return dir;
}

/** Connects an account through the connect page's own API, as an end user would. */
async function connectAccount(hub: RunningServer, apiKey: string): Promise<string> {
  const admin = { authorization: `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}` };
  const json = { "content-type": "application/json" };
  await fetch(`${hub.url}/integrations/${PROVIDER}`, {
    method: "PUT",
    headers: { ...admin, ...json },
    body: JSON.stringify({ enabled: true }),
  });
  const session = (await (
    await fetch(`${hub.url}/connect_sessions`, {
      method: "POST",
      headers: { ...admin, ...json },
      body: JSON.stringify({
        origin_owner_id: "bench-proxy",
        origin_owner_name: "Bench",
        provider: PROVIDER,
      }),
    })
  ).json()) as { token: string };
  const connected = await fetch(`${hub.url}/connect/api/credentials`, {
    method: "POST",
    headers: {
      ...json,
      authorization: `Bearer ${session.token}`,
      origin: new URL(hub.url).origin.replace("127.0.0.1", "localhost"),
      "sec-fetch-site": "same-origin",
    },
    body: JSON.stringify({ provider: PROVIDER, values: { api_key: UPSTREAM_TOKEN } }),
  });
  const body = (await connected.json()) as { account?: { id: string } };
  if (!body.account) throw new Error(`proxy bench: account not connected: ${JSON.stringify(body)}`);
  return body.account.id;
}

export async function measureProxy(database: BenchDatabase, settings: ProxySettings): Promise<Measurement[]> {
  const port = await freePort();
  const upstream = await startPinned(
    [
      path.join(path.dirname(new URL(import.meta.url).pathname), "upstream-server.js"),
      String(port),
      UPSTREAM_TOKEN,
    ],
    process.env,
    port,
  );
  const providersDir = writeProvider(settings.work, upstream.url);
  const stopUpstream = () => upstream.stop();
  settings.cleanups.add(stopUpstream);
  const hub = await startHub(database.url, {
    PROVIDERS_DIR: providersDir,
    OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
  });
  const stopHub = () => hub.stop();
  settings.cleanups.add(stopHub);
  const measurements: Measurement[] = [];
  try {
    const accountId = await connectAccount(hub, database.apiKey);
    const targets: Array<{
      endpoint: string;
      target: "baseline" | "hub";
      server: RunningServer;
      spec: Partial<LoadSpec>;
    }> = [
      {
        endpoint: "proxy",
        target: "hub",
        server: hub,
        spec: {
          apiKey: database.apiKey,
          request: {
            method: "POST",
            path: "/unified/proxy",
            headers: { "x-account-id": accountId },
            body: JSON.stringify({ method: "get", path: "/me" }),
          },
        },
      },
      {
        endpoint: "proxy-raw",
        target: "hub",
        server: hub,
        spec: {
          apiKey: database.apiKey,
          request: { method: "GET", path: "/proxy/me", headers: { "x-account-id": accountId } },
        },
      },
    ];
    const direct = {
      target: "baseline" as const,
      server: upstream,
      spec: {
        apiKey: "",
        request: { method: "GET", path: "/v1/me", headers: { authorization: `Bearer ${UPSTREAM_TOKEN}` } },
      },
    };
    for (let round = 0; round < settings.rounds; round++) {
      for (const connections of settings.connectionCounts) {
        for (const via of targets) {
          const order =
            round % 2 === 0
              ? [{ ...direct, endpoint: via.endpoint }, via]
              : [via, { ...direct, endpoint: via.endpoint }];
          for (const run of order) {
            const spec = {
              url: run.server.url,
              connections,
              kind: "request" as const,
              apiKey: "",
              poll: settings.poll,
              generator: settings.generator,
              ...run.spec,
            };
            if (settings.warmupSeconds > 0) runLoad({ ...spec, durationSeconds: settings.warmupSeconds });
            const cpuBefore = run.server.cpuSeconds();
            const result = runLoad({
              ...spec,
              durationSeconds: settings.durationSeconds,
              ...(settings.requests ? { amount: settings.requests } : {}),
            });
            const cpuMicrosPerRequest =
              ((run.server.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, result.total);
            measurements.push({
              database: database.dialect,
              endpoint: run.endpoint,
              storedSessions: "-",
              connections,
              target: run.target,
              round,
              ...result,
              cpuMicrosPerRequest,
              peakRssMiB: run.server.peakRssMiB(),
            });
            settings.log(
              `${run.endpoint} c=${connections} ${run.target === "hub" ? "through Connect Hub" : "direct"}: ${Math.round(result.requestsPerSecond)} req/s p99 ${result.latencyP99Ms} ms${result.non2xx ? ` non2xx=${result.non2xx}` : ""}`,
            );
          }
        }
      }
    }
  } finally {
    settings.cleanups.delete(stopHub);
    settings.cleanups.delete(stopUpstream);
    await hub.stop();
    await upstream.stop();
  }
  return measurements;
}
