/**
 * Failed authentications counted per client address: the rate limit counts per credential
 * presented, so an address rotating through wrong keys would never reach it. Past
 * AUTH_FAILURES_PER_MINUTE failures in a minute, the address gets 429 with `Retry-After` on
 * every authenticated route (a right key included) until the minute ends.
 *
 * Counts are shared through Redis when it is configured (one INCR per failure, none per
 * success: each process learns of a block from the count its own next failure returns, so the
 * success path never waits on Redis). When Redis is away, the local count still applies.
 */
import type { Redis } from "ioredis";
import type { Clock } from "../time.js";

export const AUTH_FAILURES_REDIS_NAMESPACE = "connect-hub:auth-failures:";
const WINDOW_MS = 60_000;
/** Addresses tracked in memory at most; the oldest windows are dropped first. */
const MAX_TRACKED = 100_000;

interface Window {
  count: number;
  resetAt: number;
}

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxPerMinute: number,
    private readonly clock: Clock,
    private readonly redis?: Redis,
  ) {}

  /** Seconds the address must wait before authenticating again; undefined when it may. */
  retryAfterSeconds(address: string): number | undefined {
    const window = this.windows.get(address);
    if (!window) return undefined;
    const now = this.clock().getTime();
    if (window.resetAt <= now) {
      this.windows.delete(address);
      return undefined;
    }
    return window.count >= this.maxPerMinute
      ? Math.max(1, Math.ceil((window.resetAt - now) / 1000))
      : undefined;
  }

  /** Counts one failed authentication from the address. */
  async recordFailure(address: string): Promise<void> {
    const now = this.clock().getTime();
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) {
      if (this.windows.size >= MAX_TRACKED) this.dropOldest();
      window = { count: 0, resetAt: now + WINDOW_MS };
      this.windows.delete(address);
      this.windows.set(address, window);
    }
    window.count++;
    if (!this.redis) return;
    try {
      const key = `${AUTH_FAILURES_REDIS_NAMESPACE}${address}`;
      const results = await this.redis.multi().incr(key).pttl(key).exec();
      const shared = Number(results?.[0]?.[1]);
      let ttl = Number(results?.[1]?.[1]);
      // The first failure of a window starts its minute (PEXPIRE NX would need Redis 7).
      if (ttl === -1) {
        await this.redis.pexpire(key, WINDOW_MS);
        ttl = WINDOW_MS;
      }
      if (Number.isFinite(shared) && shared > window.count) window.count = shared;
      if (Number.isFinite(ttl) && ttl > 0) window.resetAt = now + ttl;
    } catch {
      // Redis away: the local count stands (see the rate limiter's policy).
    }
  }

  private dropOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}
