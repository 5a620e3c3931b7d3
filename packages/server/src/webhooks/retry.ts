/**
 * When a failed delivery is tried again: the configured schedule with +-20% jitter (so the
 * retries of many deliveries that failed together do not arrive together), stretched to the
 * endpoint's `Retry-After` when a 429 or 503 asks for longer.
 */

/** The most a `Retry-After` may push a retry back: beyond it the header is taken as this. */
export const MAX_RETRY_AFTER_MS = 86_400_000;
const JITTER = 0.2;

/**
 * The wait before the next attempt after `attemptsMade` failed attempts, or undefined when the
 * schedule is exhausted (the delivery is given up).
 */
export function nextRetryDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  const step = schedule[attemptsMade - 1];
  if (step === undefined) return undefined;
  const jittered = Math.round(step * (1 - JITTER + 2 * JITTER * random()));
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from `now`; undefined if absent or malformed. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  const raw = value?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}
