/**
 * The request core: the one place that speaks HTTP. A resource class (connect sessions,
 * accounts) describes an operation (method, path, query, JSON body, success status, a reader
 * for the answer) and the core does the rest: headers and credentials, the per-attempt
 * timeout, the caller's abort signal, hooks, debug logs, retries, and turning the answer into
 * the model or a typed error.
 *
 * Each attempt is a fresh `Request` with the same body and the same `Idempotency-Key`. The
 * body of every answer is read inside the attempt (so the timeout covers it, and the
 * connection is released), while `rawResponse` is handed over unread.
 */
import {
  type ConnectHubError,
  ConnectionError,
  RequestAbortedError,
  RequestTimeoutError,
} from "../models/errors.js";
import { authorizationHeader } from "./auth.js";
import { CallLog } from "./debug-log.js";
import type { HookContext, RequestOptions, ResolvedOptions } from "./options.js";
import { type BodyReader, errorForResponse, readSuccessBody } from "./responses.js";
import { type AttemptSummary, abortedError, nextRetryDelay, resolveRetryPolicy, sleep } from "./retries.js";
import { queryString } from "./url.js";

export interface Operation<T> {
  /** The SDK method's name, shown to hooks. */
  operationId: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** The path below `serverURL`, starting with `/`, path parameters already percent-encoded (`encodePath`). */
  path: string;
  /** Query parameters by wire name; `undefined` and `null` are not sent, arrays repeat their key. */
  query?: Readonly<Record<string, unknown>>;
  /** Serialised as JSON; `undefined` sends no body. */
  body?: unknown;
  successStatus: number;
  /** Other statuses that are success too (the proxy: any 2xx or 3xx the provider answered). */
  isSuccess?: (status: number) => boolean;
  /** Extra request headers (e.g. `x-account-id`). */
  headers?: Readonly<Record<string, string>>;
  idempotencyKey?: string;
  /** False: an attempt that got no answer is not retried (it may have had its effect). */
  retryLostAnswers?: boolean;
  /** The statuses retried when the retry config names none; default `DEFAULT_RETRY_CODES`. */
  defaultRetryCodes?: readonly number[];
  read: BodyReader<T>;
  /** Reads a success answer of any content type, instead of `read` (which wants JSON). */
  readAnswer?: (answer: { response: Response; body: string }) => T;
}

/** The parts of every successful answer, as in the seed. */
export interface ResponseMetadata {
  statusCode: number;
  /** The response's `Content-Type`. */
  contentType: string;
  /** The response, with its body still unread. */
  rawResponse: Response;
}

/** The seed's response shape, with the model under `value` until the resource names it. */
export interface OperationResult<T> extends ResponseMetadata {
  value: T;
}

/** The seed's response shape with the model under its name, e.g. `{ ..., linkedAccount }`. */
export type NamedResult<K extends string, T> = ResponseMetadata & { [P in K]: T };

type AttemptOutcome =
  | { kind: "answered"; response: Response; body: string }
  | { kind: "failed"; error: ConnectHubError };

interface AttemptPlan {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  log: CallLog;
}

export class RequestCore {
  readonly #options: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.#options = options;
  }

  /** Runs the operation and returns the model under `name`, as the seed's response shapes do. */
  async call<K extends string, T>(
    name: K,
    operation: Operation<T>,
    callOptions: RequestOptions = {},
  ): Promise<NamedResult<K, T>> {
    const { value, ...metadata } = await this.execute(operation, callOptions);
    return { ...metadata, [name]: value } as NamedResult<K, T>;
  }

  async execute<T>(operation: Operation<T>, callOptions: RequestOptions = {}): Promise<OperationResult<T>> {
    if (callOptions.signal?.aborted) throw abortedError(callOptions.signal);
    const url = `${this.#options.baseURL}${operation.path}${queryString(operation.query)}`;
    const plan: AttemptPlan = {
      url,
      method: operation.method,
      headers: await this.headersFor(operation),
      body: operation.body === undefined ? undefined : JSON.stringify(operation.body),
      timeoutMs: callOptions.timeoutMs ?? this.#options.timeoutMs,
      signal: callOptions.signal,
      log: new CallLog(this.#options.debugLogger, operation.method, url),
    };
    const resolved = resolveRetryPolicy(
      callOptions.retries ?? this.#options.retryConfig,
      operation.defaultRetryCodes,
    );
    const policy =
      resolved && operation.retryLostAnswers === false
        ? { ...resolved, retryConnectionErrors: false }
        : resolved;
    const startedAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      const context: HookContext = {
        operationId: operation.operationId,
        attempt,
        idempotencyKey: operation.idempotencyKey,
      };
      const outcome = await this.attempt(plan, context);
      const delay = nextRetryDelay(policy, summarize(outcome), {
        retriesSoFar: attempt - 1,
        elapsedMs: Date.now() - startedAt,
      });
      if (delay === undefined) return settle(operation, outcome);
      plan.log.retry(delay, describe(outcome));
      await sleep(delay, callOptions.signal);
    }
  }

  private async headersFor(operation: Operation<unknown>): Promise<Headers> {
    const headers = new Headers({ accept: "application/json", ...operation.headers });
    if (operation.body !== undefined) headers.set("content-type", "application/json");
    const authorization = await authorizationHeader(this.#options.security);
    if (authorization !== undefined) headers.set("authorization", authorization);
    if (operation.idempotencyKey !== undefined) headers.set("idempotency-key", operation.idempotencyKey);
    return headers;
  }

  private async attempt(plan: AttemptPlan, context: HookContext): Promise<AttemptOutcome> {
    const controller = new AbortController();
    const request = new Request(plan.url, {
      method: plan.method,
      headers: plan.headers,
      body: plan.body,
      signal: controller.signal,
    });
    for (const hooks of this.#options.hooks) await hooks.beforeRequest?.(request, context);
    plan.log.request(request, plan.body, context);

    const stopForwardingAbort = forwardAbort(plan.signal, controller);
    let timedOut = false;
    const timer =
      plan.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, plan.timeoutMs)
        : undefined;
    const sentAt = Date.now();
    let outcome: AttemptOutcome;
    try {
      const response = await this.#options.fetch(request);
      outcome = { kind: "answered", response, body: await response.clone().text() };
    } catch (cause) {
      const error = plan.signal?.aborted
        ? abortedError(plan.signal)
        : timedOut
          ? new RequestTimeoutError(`No answer from ${plan.url} within ${plan.timeoutMs} ms`, { cause })
          : new ConnectionError(`Could not reach ${plan.url}: ${describeCause(cause)}`, { cause });
      outcome = { kind: "failed", error };
    } finally {
      clearTimeout(timer);
      stopForwardingAbort();
    }

    if (outcome.kind === "answered") {
      plan.log.response(outcome.response, outcome.body, Date.now() - sentAt);
      for (const hooks of this.#options.hooks)
        await hooks.afterResponse?.(outcome.response, request, context);
    } else {
      plan.log.failure(outcome.error);
      for (const hooks of this.#options.hooks) await hooks.afterError?.(outcome.error, request, context);
    }
    return outcome;
  }
}

function settle<T>(operation: Operation<T>, outcome: AttemptOutcome): OperationResult<T> {
  if (outcome.kind === "failed") throw outcome.error;
  const { response } = outcome;
  const success = response.status === operation.successStatus || operation.isSuccess?.(response.status);
  if (!success) throw errorForResponse(outcome);
  return {
    statusCode: response.status,
    contentType: response.headers.get("content-type") ?? "",
    rawResponse: response,
    value: operation.readAnswer ? operation.readAnswer(outcome) : readSuccessBody(outcome, operation.read),
  };
}

function summarize(outcome: AttemptOutcome): AttemptSummary {
  if (outcome.kind === "answered") {
    return {
      kind: "answered",
      status: outcome.response.status,
      retryAfter: outcome.response.headers.get("retry-after"),
    };
  }
  return outcome.error instanceof RequestAbortedError ? { kind: "aborted" } : { kind: "no-answer" };
}

function describe(outcome: AttemptOutcome): string {
  return outcome.kind === "answered" ? `HTTP ${outcome.response.status}` : outcome.error.name;
}

/** Aborts `target` when `source` fires; returns the function that stops listening. */
function forwardAbort(source: AbortSignal | undefined, target: AbortController): () => void {
  if (!source) return () => {};
  if (source.aborted) {
    target.abort(source.reason);
    return () => {};
  }
  const onAbort = () => target.abort(source.reason);
  source.addEventListener("abort", onAbort, { once: true });
  return () => source.removeEventListener("abort", onAbort);
}

/** Node's fetch says only "fetch failed"; the reason (ECONNREFUSED...) is on its cause. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause;
  if (inner instanceof Error) {
    const code = (inner as Error & { code?: unknown }).code;
    return `${cause.message} (${typeof code === "string" ? code : inner.message})`;
  }
  return cause.message;
}
