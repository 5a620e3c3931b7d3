/**
 * When a call is tried again, and how long it waits first.
 *
 * Retried by default: the statuses 408, 429, 502, 503 and 504, and attempts that got no answer
 * (connection failures and `timeoutMs` expiries), never an abort by the caller. Waits grow
 * exponentially with jitter; a `Retry-After` header (seconds or an HTTP date) is a floor on
 * the wait. A retry is made only if it can start within `maxElapsedTime` of the call's start
 * (60 s by default, not StackOne's hour), so a call that keeps failing gives up in bounded time;
 * a `Retry-After` beyond that budget ends the retries at once.
 *
 * Retrying a create is safe because every create carries an `Idempotency-Key` that stays the
 * same across its retries. The accounts operations are retried alike: reads change nothing, a
 * PATCH is a merge that a second application leaves as the first did, and a DELETE repeated
 * after a lost answer finds the account gone (404). `getAccountCredentials` alone does not
 * retry 502 by default, because Connect Hub answers 502 when the provider refused to refresh
 * the token, and a retry would only ask the provider again.
 *
 * The shape of `RetryConfig` is StackOne's SDK's (same names, milliseconds), plus `retryCodes`.
 */
import { RequestAbortedError } from "../models/errors.js";
import { withoutUndefined } from "./wire.js";

export interface BackoffStrategy {
  /** The first wait, in milliseconds. Default 500. */
  initialInterval: number;
  /** The longest single wait, in milliseconds (a longer `Retry-After` still wins). Default 10 000. */
  maxInterval: number;
  /** How much each wait grows over the one before. Default 1.5. */
  exponent: number;
  /** No retry starts later than this many milliseconds after the call began. Default 60 000. */
  maxElapsedTime: number;
}

export type RetryConfig =
  | { strategy: "none" }
  | {
      strategy: "backoff";
      backoff?: Partial<BackoffStrategy>;
      /** Retry attempts that got no answer (connection failures, timeouts). Default true. */
      retryConnectionErrors?: boolean;
      /** The statuses to retry. Default 408, 429, 502, 503, 504. */
      retryCodes?: readonly number[];
    };

export const DEFAULT_BACKOFF: Readonly<BackoffStrategy> = {
  initialInterval: 500,
  maxInterval: 10_000,
  exponent: 1.5,
  maxElapsedTime: 60_000,
};

export const DEFAULT_RETRY_CODES: readonly number[] = [408, 429, 502, 503, 504];

export interface RetryPolicy {
  backoff: BackoffStrategy;
  retryConnectionErrors: boolean;
  retryCodes: ReadonlySet<number>;
}

/**
 * `undefined` means: never retry. `defaultRetryCodes` are the statuses retried when the config
 * names none: an operation may narrow them (`getAccountCredentials` leaves out 502).
 */
export function resolveRetryPolicy(
  config: RetryConfig | undefined,
  defaultRetryCodes: readonly number[] = DEFAULT_RETRY_CODES,
): RetryPolicy | undefined {
  if (config?.strategy === "none") return undefined;
  return {
    backoff: { ...DEFAULT_BACKOFF, ...withoutUndefined(config?.backoff ?? {}) },
    retryConnectionErrors: config?.retryConnectionErrors ?? true,
    retryCodes: new Set(config?.retryCodes ?? defaultRetryCodes),
  };
}

/** What the retry decision needs to know about one attempt. */
export type AttemptSummary =
  | { kind: "answered"; status: number; retryAfter: string | null }
  | { kind: "no-answer" }
  | { kind: "aborted" };

export interface RetryState {
  /** Retries already made in this call. */
  retriesSoFar: number;
  /** Milliseconds since the call began. */
  elapsedMs: number;
}

/** How long to wait before the next attempt, or `undefined` to stop and report this outcome. */
export function nextRetryDelay(
  policy: RetryPolicy | undefined,
  attempt: AttemptSummary,
  state: RetryState,
  now: number = Date.now(),
  random: () => number = Math.random,
): number | undefined {
  if (!policy || !isRetryable(policy, attempt)) return undefined;
  const backoff = backoffDelay(policy.backoff, state.retriesSoFar, random);
  const serverFloor = attempt.kind === "answered" ? parseRetryAfter(attempt.retryAfter, now) : undefined;
  const delay = Math.max(backoff, serverFloor ?? 0);
  return state.elapsedMs + delay <= policy.backoff.maxElapsedTime ? delay : undefined;
}

function isRetryable(policy: RetryPolicy, attempt: AttemptSummary): boolean {
  switch (attempt.kind) {
    case "answered":
      return policy.retryCodes.has(attempt.status);
    case "no-answer":
      return policy.retryConnectionErrors;
    case "aborted":
      return false;
  }
}

/** Exponential growth capped at `maxInterval`, then "equal jitter": between half and all of it. */
export function backoffDelay(backoff: BackoffStrategy, retriesSoFar: number, random: () => number): number {
  const exponential = backoff.initialInterval * backoff.exponent ** retriesSoFar;
  const capped = Math.min(backoff.maxInterval, exponential);
  return Math.round(capped / 2 + (capped / 2) * random());
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date (in GMT); `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/GMT$/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits, unless the signal fires first: then rejects with `RequestAbortedError`. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortedError(signal: AbortSignal): RequestAbortedError {
  return new RequestAbortedError("The request was aborted by its AbortSignal", { cause: signal.reason });
}
