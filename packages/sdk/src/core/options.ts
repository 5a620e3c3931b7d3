/**
 * The client's options and each call's options, and their resolution into the one settings
 * object the request core reads. Resolution happens once, in the constructor, so a bad
 * `serverURL` fails at start rather than on the first call.
 */
import type { ConnectHubError } from "../models/errors.js";
import type { RetryConfig } from "./retries.js";

/** The API key as the HTTP Basic username with an empty password, as in StackOne's SDKs. */
export interface Security {
  username?: string | undefined;
  password?: string | undefined;
}

/** Any `fetch`-compatible function; it is always called with a single `Request`. */
export type Fetch = (request: Request) => Promise<Response>;

/** Where an attempt stands, for hooks and logs. */
export interface HookContext {
  /** The SDK method, e.g. `createConnectSession`. */
  operationId: string;
  /** 1 for the first try, 2 for the first retry, and so on. */
  attempt: number;
  /** The key sent with this call, if the operation sends one. */
  idempotencyKey?: string | undefined;
}

/**
 * Hooks observe and adjust every attempt, retries included. `beforeRequest` may change the
 * request's headers in place (e.g. to add a trace header). `afterResponse` gets the response
 * with its body unread: clone it before reading. `afterError` sees attempts that got no answer.
 * An error thrown by a hook ends the call with that error.
 */
export interface Hooks {
  beforeRequest?: (request: Request, context: HookContext) => void | Promise<void>;
  afterResponse?: (response: Response, request: Request, context: HookContext) => void | Promise<void>;
  afterError?: (error: ConnectHubError, request: Request, context: HookContext) => void | Promise<void>;
}

/** `console` fits. Never receives the `Authorization` header or session tokens. */
export interface DebugLogger {
  log(message: string, details?: unknown): void;
}

export interface ConnectHubOptions {
  /** The server's base URL; a path prefix is kept (`https://host/hub` calls `https://host/hub/connect_sessions`). */
  serverURL: string;
  /** The API key as `username` with an empty `password`, or a function that returns them (called once per call). */
  security?: Security | (() => Security | Promise<Security>);
  /** Per-attempt time limit in milliseconds, reading the body included. Default 30 000; 0 disables it. */
  timeoutMs?: number;
  /** Retries of every call; a call's own `retries` replaces it. Default: backoff for up to 60 s. */
  retryConfig?: RetryConfig;
  /** Replaces the global `fetch` (for proxies, tests, instrumentation). */
  fetch?: Fetch;
  /** One set of hooks, or several run in order. */
  hooks?: Hooks | readonly Hooks[];
  /** Logs every attempt, response and retry, with credentials and tokens redacted. */
  debugLogger?: DebugLogger;
}

/** Options of a single call. */
export interface RequestOptions {
  /** Replaces the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Replaces the client's `retryConfig` for this call, e.g. `{ strategy: "none" }`. */
  retries?: RetryConfig;
  /** Aborts the call, including any wait between retries, with `RequestAbortedError`. */
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ResolvedOptions {
  baseURL: string;
  security: ConnectHubOptions["security"];
  timeoutMs: number;
  retryConfig: RetryConfig | undefined;
  fetch: Fetch;
  hooks: readonly Hooks[];
  debugLogger: DebugLogger | undefined;
}

export function resolveOptions(options: ConnectHubOptions): ResolvedOptions {
  return {
    baseURL: normalizeServerURL(options.serverURL),
    security: options.security,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retryConfig: options.retryConfig,
    fetch: options.fetch ?? ((request) => globalThis.fetch(request)),
    hooks: options.hooks === undefined ? [] : Array.isArray(options.hooks) ? options.hooks : [options.hooks],
    debugLogger: options.debugLogger,
  };
}

function normalizeServerURL(serverURL: string): string {
  let url: URL;
  try {
    url = new URL(serverURL);
  } catch {
    throw new TypeError(`serverURL must be an absolute http(s) URL (got "${serverURL}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`serverURL must use http or https (got "${url.protocol}")`);
  }
  if (url.search || url.hash) throw new TypeError("serverURL must not carry a query or a fragment");
  return url.toString().replace(/\/+$/, "");
}
