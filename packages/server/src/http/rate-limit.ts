/**
 * Rate limits: per API key when a request carries one, otherwise per client address (which
 * TRUST_PROXY makes the real client's behind a load balancer). Counters live in Redis when
 * REDIS_URL is set, so every process behind the balancer counts against the same limit; in
 * memory otherwise (one process).
 *
 * When Redis cannot be reached, requests are let through (and logged) rather than refused: an
 * outage of the limiter must not become an outage of the API.
 */
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { presentedApiKey } from "./auth.js";
import { ApiError } from "./errors.js";

export const RATE_LIMIT_REDIS_NAMESPACE = "connect-hub:rate-limit:";

/** Registers the limiter; returns its Redis connection (when configured) for other counters. */
export async function registerRateLimit(
  app: FastifyInstance,
  options: { perMinute: number; redisUrl: string | undefined },
): Promise<Redis | undefined> {
  const redis = options.redisUrl ? await connectRedis(app, options.redisUrl) : undefined;
  await app.register(rateLimit, {
    // Not per route: the plugin would run after each route's own onRequest hooks, i.e. after
    // API key authentication, and requests with bad keys would never be counted. One
    // app-level hook (below) runs before any route's hooks instead.
    global: false,
    max: options.perMinute,
    timeWindow: 60_000,
    ...(redis ? { redis, nameSpace: RATE_LIMIT_REDIS_NAMESPACE, skipOnError: true } : {}),
    // The key itself is hashed so the limiter's memory (or Redis) holds no secret.
    keyGenerator: (request) => {
      const presented = presentedApiKey(request);
      return presented ? `key:${presented.hash}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        429,
        `Too many requests: the limit is ${context.max} a minute; retry after ${context.after}`,
        { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
      ),
  });
  const limit = app.rateLimit();
  app.addHook("onRequest", function rateLimited(request, reply) {
    // Probes and metrics opt out with `config: { rateLimit: false }`.
    if (request.routeOptions.config?.rateLimit === false) return Promise.resolve();
    return limit.call(this, request, reply);
  });
  return redis;
}

/** Loaded only when REDIS_URL is set: a server without it never loads the Redis client. */
async function connectRedis(app: FastifyInstance, url: string): Promise<Redis> {
  const ioredis = await import("ioredis");
  const redis = new ioredis.Redis(url, {
    // Fail fast while Redis is away (the limiter then lets requests through) instead of
    // queueing commands and holding requests.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
  });
  let reported = false;
  redis.on("error", (error: Error) => {
    if (!reported)
      app.log.warn({ err: error }, "Redis for rate limits is unreachable; limits are not enforced");
    reported = true;
  });
  redis.on("ready", () => {
    reported = false;
  });
  app.addHook("onClose", async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  return redis;
}
