/**
 * Configuration: read once from the environment, validated, frozen. A bad value stops the
 * process at start with a message naming the variable, never later at request time.
 */
import path from "node:path";
import { type AllowRule, parseAllowList } from "./console/allow-list.js";
import { type EncryptionKey, parseEncryptionKeys } from "./crypto/secrets.js";

export type OrganizationIdType = "string" | "number";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
export type LogFormat = "pretty" | "json";

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly database: DatabaseConfig;
  readonly logLevel: LogLevel;
  /** LOG_FORMAT; undefined: pretty when standard output is a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
  readonly organizationIdType: OrganizationIdType;
  /** Largest accepted request body, in bytes. Larger bodies answer 413. */
  readonly bodyLimitBytes: number;
  /** Requests per minute per API key (and per client address before authentication). */
  readonly rateLimitPerMinute: number;
  /** Failed API key authentications per minute per client address before it gets 429. */
  readonly authFailuresPerMinute: number;
  /** Seconds a request may take to arrive in full before it answers 408. */
  readonly requestTimeoutSeconds: number;
  /** NODE_ENV=production: unsafe defaults (a generated encryption key) are refused. */
  readonly production: boolean;
  /** Where a development encryption key is generated when ENCRYPTION_KEY is unset. */
  readonly dataDir: string;
  /** Keys from ENCRYPTION_KEY, current first; undefined means "generate one in dataDir". */
  readonly encryptionKeys: readonly EncryptionKey[] | undefined;
  /** Operator folders of provider files, added to (and overriding) the shipped catalog. */
  readonly providersDirs: readonly string[];
  /**
   * SANDBOX_PROVIDERS: offer the sandbox providers this server serves itself (on by default,
   * off by default when NODE_ENV=production).
   */
  readonly sandboxProviders: boolean;
  readonly outbound: {
    readonly timeoutMs: number;
    readonly maxResponseBytes: number;
    /** Only for tests and closed networks: lets outbound calls reach private addresses. */
    readonly allowPrivateNetworks: boolean;
  };
  readonly proxy: ProxyConfig;
  /** Shares rate-limit counters between processes when set; in memory otherwise. */
  readonly redisUrl: string | undefined;
  /** Which proxies to believe about the client address (Fastify's `trustProxy`). */
  readonly trustProxy: TrustProxy;
  /** Seconds an API key lookup may be served from memory: the most a revocation waits. */
  readonly apiKeyCacheSeconds: number;
  readonly sweeper: SweeperConfig;
  readonly metrics: MetricsConfig;
  readonly webhooks: WebhookConfig;
  readonly console: ConsoleConfig;
}

/** The operator console (see console/). */
export interface ConsoleConfig {
  /** CONSOLE_ASSETS_DIR; undefined: the built `@connect-hub/console` package. */
  readonly assetsDir: string | undefined;
  /** OpenID Connect sign-in; undefined when CONSOLE_OIDC_ISSUER is unset. */
  readonly oidc: ConsoleOidcConfig | undefined;
  /** AUDIT_RETENTION: how long audit events and account history are kept. */
  readonly auditRetentionMs: number;
}

export interface ConsoleOidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly allow: readonly AllowRule[];
  /** The sign-in button's label. */
  readonly name: string;
}

/** Limits of the proxy (`/unified/proxy` and `/proxy/{path}`); its timeout is OUTBOUND_TIMEOUT_MS. */
export interface ProxyConfig {
  /** Largest provider answer `/unified/proxy` reads and relays; a larger one answers 502. */
  readonly maxResponseBytes: number;
  /** Largest request body `/proxy/{path}` streams to a provider; a larger one answers 413. */
  readonly maxRequestBytes: number;
}

export interface WebhookConfig {
  /** How often the delivery worker looks for due deliveries; 0 turns delivery off in this process. */
  readonly pollIntervalMs: number;
  /**
   * Waits before each retry, in order: a delivery gets one first attempt plus one retry per
   * entry, then is given up. Each wait gets +-20% jitter; a 429 or 503 `Retry-After` that asks
   * for longer wins.
   */
  readonly retryScheduleMs: readonly number[];
  /** An endpoint whose every attempt has failed for this long is disabled. */
  readonly disableAfterMs: number;
  /** Finished deliveries, their attempts and their events are deleted this long after. */
  readonly retentionMs: number;
  /**
   * `host:port` receivers that may be private or loopback (a local receiver in development),
   * separate from OUTBOUND_ALLOW_PRIVATE_NETWORKS, which also opens provider calls.
   */
  readonly allowedHosts: ReadonlySet<string>;
  /** Endpoints a project may register at most. */
  readonly maxEndpointsPerProject: number;
}

/** `false` (the socket's address), `true` (the left-most X-Forwarded-For), a hop count, or addresses/CIDRs. */
export type TrustProxy = boolean | number | string;

export interface SweeperConfig {
  /** Seconds between sweeps; 0 turns sweeping off in this process. */
  readonly intervalSeconds: number;
  /** Rows touched per statement, so no sweep holds a lock for long. */
  readonly batchSize: number;
  /** Seconds an expired session is kept (marked `expired`) before it is deleted. */
  readonly sessionRetentionSeconds: number;
}

export interface MetricsConfig {
  readonly enabled: boolean;
  /** When set, `/metrics` requires `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
}

export type DatabaseConfig =
  | {
      readonly dialect: "sqlite";
      readonly file: string;
      /** How long a write waits for another process's lock before giving up (503). */
      readonly busyTimeoutMs?: number;
    }
  | { readonly dialect: "postgres"; readonly url: string; readonly poolSize: number };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
export const DEFAULT_SQLITE_FILE = "./data/connect-hub.sqlite";

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): Config {
  const port = integerSetting(env, "PORT", 4000, 0, 65535);
  const host = env.HOST?.trim() || "0.0.0.0";
  const publicUrl = parsePublicUrl(env.PUBLIC_URL, port);
  const parsedDatabase = parseDatabaseUrl(
    env.DATABASE_URL,
    integerSetting(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
  );
  const busyTimeoutMs = durationSetting(env, "SQLITE_BUSY_TIMEOUT", "5s", 0, 600_000);
  const database: DatabaseConfig =
    parsedDatabase.dialect === "sqlite" ? { ...parsedDatabase, busyTimeoutMs } : parsedDatabase;
  const logLevel = enumSetting(env, "LOG_LEVEL", LOG_LEVELS, "info");
  const logFormat = env.LOG_FORMAT?.trim()
    ? enumSetting(env, "LOG_FORMAT", ["pretty", "json"] as const, "json")
    : undefined;
  const organizationIdType = enumSetting(
    env,
    "ORGANIZATION_ID_TYPE",
    ["string", "number"] as const,
    "string",
  );
  const bodyLimitBytes = integerSetting(env, "BODY_LIMIT_BYTES", 65_536, 1_024, 10_485_760);
  const rateLimitPerMinute = integerSetting(env, "RATE_LIMIT_PER_MINUTE", 600, 1, 10_000_000);
  const authFailuresPerMinute = integerSetting(env, "AUTH_FAILURES_PER_MINUTE", 30, 1, 1_000_000);
  const requestTimeoutSeconds = integerSetting(env, "REQUEST_TIMEOUT_SECONDS", 30, 1, 3600);
  const production = env.NODE_ENV?.trim() === "production";
  const dataDir = path.resolve(env.DATA_DIR?.trim() || "./data");
  const encryptionKeys = parseEncryptionKeySetting(env.ENCRYPTION_KEY, production);
  const providersDirs = (env.PROVIDERS_DIR ?? "")
    .split(/[,:]/)
    .map((dir) => dir.trim())
    .filter(Boolean)
    .map((dir) => path.resolve(dir));
  // Off by default where the sandbox could not work (a plain-http PUBLIC_URL on another host).
  const sandboxProviders = booleanSetting(
    env,
    "SANDBOX_PROVIDERS",
    !production && sandboxCanServe(publicUrl),
  );
  if (sandboxProviders && !sandboxCanServe(publicUrl)) {
    throw new ConfigError(
      `SANDBOX_PROVIDERS needs PUBLIC_URL to be https or a loopback http address (got "${publicUrl}"); set SANDBOX_PROVIDERS=false`,
    );
  }
  const outbound = Object.freeze({
    timeoutMs: integerSetting(env, "OUTBOUND_TIMEOUT_MS", 10_000, 100, 120_000),
    maxResponseBytes: integerSetting(env, "OUTBOUND_MAX_RESPONSE_BYTES", 1_048_576, 1_024, 104_857_600),
    allowPrivateNetworks: booleanSetting(env, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", false),
  });
  const proxy = Object.freeze({
    maxResponseBytes: integerSetting(env, "PROXY_MAX_RESPONSE_BYTES", 10_485_760, 1_024, 104_857_600),
    maxRequestBytes: integerSetting(env, "PROXY_MAX_REQUEST_BYTES", 104_857_600, 1_024, 10_737_418_240),
  });
  const redisUrl = parseRedisUrl(env.REDIS_URL);
  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  const apiKeyCacheSeconds = integerSetting(env, "API_KEY_CACHE_SECONDS", 5, 0, 60);
  const sweeper = Object.freeze({
    intervalSeconds: integerSetting(env, "SWEEP_INTERVAL_SECONDS", 60, 0, 86_400),
    batchSize: integerSetting(env, "SWEEP_BATCH_SIZE", 500, 1, 100_000),
    sessionRetentionSeconds: integerSetting(env, "SESSION_RETENTION_SECONDS", 7 * 86_400, 0, 365 * 86_400),
  });
  const webhooks = Object.freeze({
    pollIntervalMs: durationSetting(env, "WEBHOOK_POLL_INTERVAL", "1s", 0, DAY_MS),
    retryScheduleMs: Object.freeze(parseRetrySchedule(env.WEBHOOK_RETRY_SCHEDULE)),
    disableAfterMs: durationSetting(env, "WEBHOOK_DISABLE_AFTER", "24h", 1, 30 * DAY_MS),
    retentionMs: durationSetting(env, "WEBHOOK_RETENTION", "30d", 60_000, 365 * DAY_MS),
    allowedHosts: parseAllowedHosts(env.WEBHOOK_ALLOWED_HOSTS),
    maxEndpointsPerProject: integerSetting(env, "WEBHOOK_MAX_ENDPOINTS", 20, 1, 10_000),
  });
  const metrics = Object.freeze({
    enabled: booleanSetting(env, "METRICS_ENABLED", false),
    token: env.METRICS_TOKEN?.trim() || undefined,
  });
  const consoleAssetsDir = env.CONSOLE_ASSETS_DIR?.trim();
  const consoleSettings = Object.freeze({
    assetsDir: consoleAssetsDir ? path.resolve(consoleAssetsDir) : undefined,
    oidc: parseConsoleOidc(env),
    auditRetentionMs: durationSetting(env, "AUDIT_RETENTION", "365d", 60_000, 10 * 365 * DAY_MS),
  });
  return Object.freeze({
    port,
    host,
    publicUrl,
    database,
    logLevel,
    logFormat,
    organizationIdType,
    bodyLimitBytes,
    rateLimitPerMinute,
    authFailuresPerMinute,
    requestTimeoutSeconds,
    production,
    dataDir,
    encryptionKeys,
    providersDirs,
    sandboxProviders,
    outbound,
    proxy,
    redisUrl,
    trustProxy,
    apiKeyCacheSeconds,
    sweeper,
    metrics,
    webhooks,
    console: consoleSettings,
  });
}

/** CONSOLE_OIDC_*: all or nothing; an issuer without an allow-list would let no one in, or anyone. */
function parseConsoleOidc(env: Env): ConsoleOidcConfig | undefined {
  const issuer = env.CONSOLE_OIDC_ISSUER?.trim();
  const clientId = env.CONSOLE_OIDC_CLIENT_ID?.trim();
  const clientSecret = env.CONSOLE_OIDC_CLIENT_SECRET?.trim();
  const rawAllow = env.CONSOLE_OIDC_ALLOW?.trim();
  const name = env.CONSOLE_OIDC_NAME?.trim() || "Sign in with single sign-on";
  if (!issuer) return undefined;
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`CONSOLE_OIDC_ISSUER must be the identity provider's issuer URL (got "${issuer}")`);
  }
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new ConfigError(
      `CONSOLE_OIDC_ISSUER must be https (plain http only on a loopback address); got "${issuer}"`,
    );
  }
  if (!clientId || !clientSecret) {
    throw new ConfigError(
      "CONSOLE_OIDC_ISSUER is set: set CONSOLE_OIDC_CLIENT_ID and CONSOLE_OIDC_CLIENT_SECRET too",
    );
  }
  if (!rawAllow) {
    throw new ConfigError(
      "CONSOLE_OIDC_ISSUER is set but CONSOLE_OIDC_ALLOW is not: list who may sign in, e.g. admin:@example.com,viewer:sub:1234",
    );
  }
  let allow: AllowRule[];
  try {
    allow = parseAllowList(rawAllow);
  } catch (error) {
    throw new ConfigError(`CONSOLE_OIDC_ALLOW: ${(error as Error).message}`);
  }
  return Object.freeze({
    issuer,
    clientId,
    clientSecret,
    allow: Object.freeze(allow),
    name,
  });
}

function parseEncryptionKeySetting(
  raw: string | undefined,
  production: boolean,
): EncryptionKey[] | undefined {
  const value = raw?.trim();
  if (!value) {
    if (production) {
      throw new ConfigError(
        "ENCRYPTION_KEY is required when NODE_ENV=production (32 random bytes in base64: openssl rand -base64 32)",
      );
    }
    return undefined;
  }
  try {
    return parseEncryptionKeys(value);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** The sandbox's provider files point at PUBLIC_URL, which the catalog accepts only so. */
function sandboxCanServe(publicUrl: string): boolean {
  const url = new URL(publicUrl);
  return url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

function booleanSetting(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

export function parseDatabaseUrl(raw: string | undefined, poolSize = 10): DatabaseConfig {
  const value = raw?.trim();
  if (!value) return { dialect: "sqlite", file: path.resolve(DEFAULT_SQLITE_FILE) };
  const sqlite = /^(?:file|sqlite):(?:\/\/)?(.+)$/.exec(value);
  if (sqlite?.[1]) return { dialect: "sqlite", file: path.resolve(sqlite[1]) };
  if (/^postgres(?:ql)?:\/\//.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new ConfigError(`DATABASE_URL is not a valid PostgreSQL URL (got "${redactUrl(value)}")`);
    }
    return { dialect: "postgres", url: value, poolSize };
  }
  throw new ConfigError(
    `DATABASE_URL must look like file:PATH, sqlite:PATH or postgres://USER@HOST/DB (got "${redactUrl(value)}")`,
  );
}

function parseRedisUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (!/^rediss?:\/\/./.test(value)) {
    throw new ConfigError(`REDIS_URL must look like redis://HOST:PORT (got "${redactUrl(value)}")`);
  }
  return value;
}

function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim();
  if (!value || value === "false") return false;
  if (value === "true") return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(",").map((entry) => entry.trim());
  if (
    entries.some(
      (entry) => !/^[0-9a-fA-F.:]+(?:\/\d{1,3})?$|^(?:loopback|linklocal|uniquelocal)$/.test(entry),
    )
  ) {
    throw new ConfigError(
      `TRUST_PROXY must be true, false, a hop count, or comma-separated addresses/CIDRs (got "${value}")`,
    );
  }
  return entries.join(",");
}

function parsePublicUrl(raw: string | undefined, port: number): string {
  const value = raw?.trim();
  if (!value) return `http://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL (got "${value}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`PUBLIC_URL must use http or https (got "${url.protocol}")`);
  }
  if (url.search || url.hash) throw new ConfigError("PUBLIC_URL must not carry a query or fragment");
  return url.toString().replace(/\/+$/, "");
}

const DAY_MS = 86_400_000;
const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: DAY_MS,
};
/** The Standard Webhooks schedule (about 27.5 hours in all): enough to ride out a day's outage. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h";

/** `250ms`, `5s`, `30m`, `2h`, `7d`, or a bare number of seconds; undefined when malformed. */
export function parseDuration(raw: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) return undefined;
  return Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? "s"] as number);
}

function durationSetting(env: Env, name: string, fallback: string, minMs: number, maxMs: number): number {
  const raw = env[name]?.trim() || fallback;
  const value = parseDuration(raw);
  if (value === undefined) {
    throw new ConfigError(`${name} must be a duration such as 500ms, 30s, 5m, 2h or 1d (got "${raw}")`);
  }
  if (value < minMs || value > maxMs) {
    throw new ConfigError(`${name} must be between ${minMs} ms and ${maxMs} ms (got "${raw}")`);
  }
  return value;
}

/** `127.0.0.1:4698,[::1]:4698,receiver.internal:8080`: each entry a host and an explicit port. */
function parseAllowedHosts(raw: string | undefined): ReadonlySet<string> {
  const entries = (raw ?? "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  const hosts = new Set<string>();
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(`http://${entry}`);
    } catch {}
    // An explicit port is required; URL drops :80 (http's default), so it is put back.
    const port = url?.port || (entry.endsWith(":80") ? "80" : "");
    if (!url || !port || url.pathname !== "/" || url.username || `${url.hostname}:${port}` !== entry) {
      throw new ConfigError(
        `WEBHOOK_ALLOWED_HOSTS must be comma-separated host:port pairs such as 127.0.0.1:4698 (got "${entry}")`,
      );
    }
    hosts.add(entry);
  }
  return hosts;
}

function parseRetrySchedule(raw: string | undefined): number[] {
  const value = raw?.trim() || DEFAULT_WEBHOOK_RETRY_SCHEDULE;
  const steps = value.split(",").map((step) => parseDuration(step));
  if (steps.length > 50 || steps.some((step) => step === undefined || step < 1 || step > 7 * DAY_MS)) {
    throw new ConfigError(
      `WEBHOOK_RETRY_SCHEDULE must be 1 to 50 comma-separated durations of 1ms to 7d, such as ${DEFAULT_WEBHOOK_RETRY_SCHEDULE} (got "${value}")`,
    );
  }
  return steps as number[];
}

function integerSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max} (got ${value})`);
  }
  return value;
}

function enumSetting<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(", ")} (got "${raw}")`);
  }
  return raw as T;
}

function redactUrl(value: string): string {
  return value.replace(/\/\/[^@/]*@/, "//***@");
}
