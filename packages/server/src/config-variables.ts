/**
 * Every environment variable the server reads, with its default and meaning: the list that
 * `connect-hub serve --help` prints and the README's configuration table shows. Tests hold it
 * to `loadConfig`: it names exactly the variables `loadConfig` reads, and each `default` given
 * here is the value `loadConfig` uses when the variable is unset.
 */

export interface EnvironmentVariable {
  readonly name: string;
  /** The value used when unset, exactly as it could be written; absent when it is computed. */
  readonly default?: string;
  /** What happens when unset, when that is not a plain value. */
  readonly whenUnset?: string;
  readonly description: string;
}

export const ENVIRONMENT_VARIABLES: readonly EnvironmentVariable[] = [
  { name: "PORT", default: "4000", description: "the HTTP port" },
  { name: "HOST", default: "0.0.0.0", description: "the address to listen on" },
  {
    name: "PUBLIC_URL",
    whenUnset: "http://localhost:$PORT",
    description: "the URL users reach the server at; auth_link_url is $PUBLIC_URL/connect?token=...",
  },
  {
    name: "DATABASE_URL",
    default: "file:./data/connect-hub.sqlite",
    description:
      "file:PATH or sqlite:PATH for a SQLite file; postgres://USER:PASSWORD@HOST:PORT/DB for PostgreSQL",
  },
  {
    name: "DATABASE_POOL_SIZE",
    default: "10",
    description: "PostgreSQL connections per process (1 to 1,000)",
  },
  {
    name: "SQLITE_BUSY_TIMEOUT",
    default: "5s",
    description:
      "how long a SQLite write waits while another process (a backup, the sqlite3 shell) holds the lock, before answering 503",
  },
  {
    name: "REDIS_URL",
    whenUnset: "counted in memory",
    description: "redis://HOST:PORT[/DB]: share rate-limit counters between processes",
  },
  {
    name: "TRUST_PROXY",
    default: "false",
    description:
      "who may set the client address through X-Forwarded-For: true, a hop count, or addresses/CIDRs",
  },
  {
    name: "LOG_LEVEL",
    default: "info",
    description: "fatal, error, warn, info (one line per request), debug, trace or silent",
  },
  {
    name: "LOG_FORMAT",
    whenUnset: "pretty on a terminal, json otherwise",
    description: "pretty (readable lines) or json (one JSON object per line)",
  },
  {
    name: "ORGANIZATION_ID_TYPE",
    default: "string",
    description: "number sends organization_id as a JSON number (StackOne TS SDK <= 4.33.1)",
  },
  {
    name: "BODY_LIMIT_BYTES",
    default: "65536",
    description: "the largest request body accepted (1,024 to 10,485,760); larger answers 413",
  },
  {
    name: "RATE_LIMIT_PER_MINUTE",
    default: "600",
    description: "requests a minute per API key (per client address without a key); more answer 429",
  },
  {
    name: "AUTH_FAILURES_PER_MINUTE",
    default: "30",
    description: "failed API key authentications a minute per client address, whatever keys it tries",
  },
  {
    name: "REQUEST_TIMEOUT_SECONDS",
    default: "30",
    description: "time for a request to arrive in full; slower answers 408",
  },
  { name: "NODE_ENV", description: "production refuses to start without ENCRYPTION_KEY" },
  {
    name: "ENCRYPTION_KEY",
    whenUnset: "a development key generated in $DATA_DIR/encryption.key",
    description: "32 random bytes in base64 (openssl rand -base64 32); for rotation new:KEY,old:KEY",
  },
  { name: "DATA_DIR", default: "./data", description: "where the development encryption key is kept" },
  { name: "PROVIDERS_DIR", description: "folders (comma-separated) of your own provider files" },
  { name: "OUTBOUND_TIMEOUT_MS", default: "10000", description: "timeout of calls to providers" },
  {
    name: "OUTBOUND_MAX_RESPONSE_BYTES",
    default: "1048576",
    description: "largest response read from a provider",
  },
  {
    name: "OUTBOUND_ALLOW_PRIVATE_NETWORKS",
    default: "false",
    description: "true lets calls reach private and loopback addresses; for development and tests only",
  },
  {
    name: "SANDBOX_PROVIDERS",
    whenUnset: "true (false in production)",
    description: "offer the sandbox providers this server serves under /sandbox/",
  },
  {
    name: "PROXY_MAX_RESPONSE_BYTES",
    default: "10485760",
    description: "largest provider answer /unified/proxy relays (1,024 to 104,857,600)",
  },
  {
    name: "PROXY_MAX_REQUEST_BYTES",
    default: "104857600",
    description: "largest request body /proxy/{path} streams to a provider",
  },
  {
    name: "WEBHOOK_POLL_INTERVAL",
    default: "1s",
    description: "how often each process looks for due webhook deliveries; 0 turns delivery off",
  },
  {
    name: "WEBHOOK_RETRY_SCHEDULE",
    default: "5s,5m,30m,2h,5h,10h,10h",
    description: "waits before each retry (+-20% jitter); a delivery is given up after the last",
  },
  {
    name: "WEBHOOK_DISABLE_AFTER",
    default: "24h",
    description: "an endpoint whose every attempt has failed for this long is disabled",
  },
  {
    name: "WEBHOOK_RETENTION",
    default: "30d",
    description: "finished deliveries, their attempts and events are deleted this long after",
  },
  {
    name: "WEBHOOK_ALLOWED_HOSTS",
    whenUnset: "none",
    description: "comma-separated host:port receivers that may be private or loopback, for webhooks only",
  },
  {
    name: "WEBHOOK_MAX_ENDPOINTS",
    default: "20",
    description: "webhook endpoints a project may register (1 to 10,000)",
  },
  {
    name: "API_KEY_CACHE_SECONDS",
    default: "5",
    description: "how long a process remembers a valid API key (0 to 60)",
  },
  {
    name: "SWEEP_INTERVAL_SECONDS",
    default: "60",
    description: "how often expired sessions and idempotency records are swept (0: never)",
  },
  { name: "SWEEP_BATCH_SIZE", default: "500", description: "rows per sweep statement" },
  {
    name: "SESSION_RETENTION_SECONDS",
    default: "604800",
    description: "how long an expired session is kept (status expired) before it is deleted",
  },
  { name: "METRICS_ENABLED", default: "false", description: "true serves Prometheus metrics at /metrics" },
  {
    name: "METRICS_TOKEN",
    description: "when set, /metrics requires Authorization: Bearer $METRICS_TOKEN",
  },
  {
    name: "CONSOLE_ASSETS_DIR",
    whenUnset: "the built @connect-hub/console package (packages/console/dist)",
    description: "the folder of the operator console's built files, served at /console/",
  },
  {
    name: "CONSOLE_OIDC_ISSUER",
    whenUnset: "no OpenID Connect sign-in (CLI links only)",
    description: "your OpenID Connect provider's issuer URL, for console sign-in",
  },
  { name: "CONSOLE_OIDC_CLIENT_ID", description: "the console's client id at the issuer" },
  { name: "CONSOLE_OIDC_CLIENT_SECRET", description: "the console's client secret at the issuer" },
  {
    name: "CONSOLE_OIDC_ALLOW",
    description:
      "who may sign in and as what, e.g. admin:@example.com,viewer:alice@partner.example,admin:sub:1234 (required with an issuer)",
  },
  {
    name: "CONSOLE_OIDC_NAME",
    default: "Sign in with single sign-on",
    description: "the label of the console's OpenID Connect sign-in button",
  },
  {
    name: "AUDIT_RETENTION",
    default: "365d",
    description: "audit events and account history are deleted this long after they happened",
  },
];

/** The variables as help text: one per line, name, default, meaning. */
export function environmentHelp(): string {
  const width = Math.max(...ENVIRONMENT_VARIABLES.map((variable) => variable.name.length));
  const lines = ENVIRONMENT_VARIABLES.map((variable) => {
    const unset = variable.default !== undefined ? `default ${variable.default}` : variable.whenUnset;
    return `  ${variable.name.padEnd(width)}  ${variable.description}${unset ? ` (${unset})` : ""}`;
  });
  return `Environment variables (read once at start; a bad value stops the command):\n${lines.join("\n")}\n`;
}
