/**
 * The Redis tests share rate limits through: TEST_REDIS_URL, else a local one. Unreachable,
 * its tests skip locally and fail under CI=true.
 */
import { Redis } from "ioredis";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function reachable(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch (error) {
    if (process.env.CI === "true") {
      throw new Error(`Redis is required in CI but unreachable at TEST_REDIS_URL: ${String(error)}`);
    }
    return false;
  } finally {
    redis.disconnect();
  }
}

export const redisAvailable: boolean = await reachable(TEST_REDIS_URL);
