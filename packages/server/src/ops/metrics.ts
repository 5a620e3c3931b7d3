/**
 * Prometheus metrics at `/metrics`, only when METRICS_ENABLED: requests by method, route and
 * status with their latency, connect sessions created, proxied calls by provider and outcome
 * with their latency, database pool usage, and the process's own figures. With METRICS_TOKEN set, a scrape needs `Authorization: Bearer <token>`.
 * Each app has its own registry, so several apps in one process never mix their counts.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { MetricsConfig } from "../config.js";
import type { Db } from "../db/database.js";
import { ApiError } from "../http/errors.js";

export interface AppMetrics {
  sessionCreated(): void;
  /** A proxied call: the provider's status (or `timeout`, `network`, ...) and its latency. */
  proxyCall(provider: string, outcome: string, seconds: number): void;
}

export const NO_METRICS: AppMetrics = { sessionCreated: () => {}, proxyCall: () => {} };

/** prom-client is loaded only when metrics are enabled: a server without them never loads it. */
export async function registerMetrics(
  app: FastifyInstance,
  db: Db,
  config: MetricsConfig,
): Promise<AppMetrics> {
  if (!config.enabled) return NO_METRICS;
  const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = await import("prom-client");
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const labelNames = ["method", "route", "status"] as const;
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from request to response, by method, route and status",
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const sessionsCreated = new Counter({
    name: "connect_sessions_created_total",
    help: "Connect sessions created (idempotent replays not counted)",
    registers: [registry],
  });
  const proxyCalls = new Counter({
    name: "proxy_requests_total",
    help: "Calls made through the proxy, by provider and outcome (the provider's status, or why none came)",
    labelNames: ["provider", "outcome"],
    registers: [registry],
  });
  const proxyLatency = new Histogram({
    name: "proxy_request_duration_seconds",
    help: "Time from sending a proxied call to the provider's answer headers, by provider",
    labelNames: ["provider"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: "db_pool_connections",
    help: "Database connections by state (total, idle, waiting requests, max)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const stats = db.poolStats();
      for (const [state, value] of Object.entries(stats)) this.set({ state }, value);
    },
  });

  app.addHook("onResponse", async (request, reply) => {
    // The route pattern, never the raw URL: unknown paths must not grow the label set.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });

  const expected = config.token ? digest(config.token) : undefined;
  app.get("/metrics", { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
    if (expected) {
      const header = request.headers.authorization ?? "";
      const presented = /^bearer /i.test(header) ? header.slice(7).trim() : "";
      if (!timingSafeEqual(digest(presented), expected)) {
        throw new ApiError(401, "Unauthorized: send the metrics token as a Bearer token", {
          headers: { "www-authenticate": 'Bearer realm="metrics"' },
        });
      }
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  return {
    sessionCreated: () => sessionsCreated.inc(),
    proxyCall: (provider, outcome, seconds) => {
      proxyCalls.inc({ provider, outcome });
      proxyLatency.observe({ provider }, seconds);
    },
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
