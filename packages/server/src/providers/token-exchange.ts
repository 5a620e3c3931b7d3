/**
 * Providers whose stored credentials are a client id and secret that must first be exchanged
 * for an access token (Marketo, OneLogin, Personio: `api.tokenExchange` in the file). Callers
 * run `withExchangedToken` before `verificationRequest` / `authorize`, which then stay
 * synchronous and apply `{{access_token}}` like any other value.
 *
 * Contract:
 * - The token request goes through the outbound client (timeouts, size limit, SSRF guard) and
 *   only to the provider's hosts: its URL is filled and confined like the base URL (non-secret
 *   values only; a templated host must match `allowedHosts`), and must be a target the filled
 *   base URL admits. Nothing is sent when it cannot be built (`ProviderApiError`).
 * - A token is cached in this process per provider and credentials (a hash of the filled URL,
 *   client id and secret: new credentials never reuse an old token) until `marginSeconds`
 *   before it expires; concurrent callers share one exchange (single flight).
 * - The provider refusing the credentials (400, 401, 403) is a `TokenExchangeError` with
 *   `result: "refused"`; any other answer without a token is `result: "failed"`. A provider
 *   that cannot be reached throws the outbound client's `OutboundRequestError` unchanged.
 *   Messages name the provider and never contain a credential.
 */
import { createHash } from "node:crypto";
import type { OutboundClient } from "../outbound/client.js";
import type { Clock } from "../time.js";
import {
  apiBaseUrl,
  type ConnectionValues,
  fillCredential,
  isAllowedTarget,
  ProviderApiError,
  type ProviderApiOptions,
  providerApi,
  readJsonPointer,
} from "./api.js";
import type { ProviderDefinition, TokenExchange } from "./schema.js";

/** Lifetime assumed when the answer does not say and the file declares no `defaultExpiresIn`. */
export const DEFAULT_EXCHANGED_TOKEN_SECONDS = 300;

export class TokenExchangeError extends Error {
  override readonly name = "TokenExchangeError";
  constructor(
    message: string,
    readonly result: "refused" | "failed",
    readonly statusCode: number,
  ) {
    super(message);
  }
}

interface CachedToken {
  readonly token: string;
  readonly renewAt: number;
}

/** Exchanged tokens of this process, with the exchanges under way. */
export class ExchangedTokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    readonly clock: Clock,
    /** Renew this long before the token expires, so that a call never carries a dying token. */
    readonly marginSeconds = 60,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached token for `key`, or the result of `exchange`, shared by concurrent callers. */
  async get(key: string, exchange: () => Promise<{ token: string; expiresIn: number }>): Promise<string> {
    const cached = this.tokens.get(key);
    if (cached && cached.renewAt > this.clock().getTime()) return cached.token;
    const running = this.pending.get(key);
    if (running) return running;
    const started = exchange()
      .then(({ token, expiresIn }) => {
        const lifetime = Math.max(0, expiresIn - this.marginSeconds);
        this.remember(key, { token, renewAt: this.clock().getTime() + lifetime * 1000 });
        return token;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, started);
    return started;
  }

  /** Drops a token the provider no longer accepts (answered 401), so the next call exchanges again. */
  forget(key: string): void {
    this.tokens.delete(key);
  }

  private remember(key: string, token: CachedToken): void {
    this.tokens.delete(key);
    if (this.tokens.size >= this.maxEntries) {
      const oldest = this.tokens.keys().next().value;
      if (oldest !== undefined) this.tokens.delete(oldest);
    }
    this.tokens.set(key, token);
  }
}

export interface TokenExchangeDeps extends ProviderApiOptions {
  readonly outbound: OutboundClient;
  readonly cache: ExchangedTokenCache;
}

/** The token request built from the file and the account's values; nothing is sent. */
export interface TokenExchangeRequest {
  readonly cacheKey: string;
  readonly url: URL;
  readonly method: TokenExchange["method"];
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** Builds the token request (see the module contract); throws `ProviderApiError`. */
export function tokenExchangeRequest(
  provider: ProviderDefinition,
  values: ConnectionValues,
  options: ProviderApiOptions = {},
): TokenExchangeRequest | undefined {
  const exchange = providerApi(provider).tokenExchange;
  if (!exchange) return undefined;
  const base = apiBaseUrl(provider, values, options);
  const url = apiBaseUrl(
    { ...provider, api: { ...providerApi(provider), baseUrl: exchange.url } },
    values,
    options,
  );
  url.hash = "";
  if (!isAllowedTarget(provider, base, url, options)) {
    throw new ProviderApiError(`${url.host} is not one of ${provider.name}'s hosts`, "host_not_allowed");
  }
  const clientId = fillCredential(provider, values, exchange.clientId);
  const clientSecret = fillCredential(provider, values, exchange.clientSecret);
  const params: Record<string, string> = { ...(exchange.params ?? {}) };
  const headers: Record<string, string> = { accept: "application/json" };
  if (exchange.clientAuth === "basic") {
    const pair = `${clientId}:${clientSecret}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
  } else {
    params.client_id = clientId;
    params.client_secret = clientSecret;
  }
  const cacheKey = createHash("sha256")
    .update([provider.key, url.href, clientId, clientSecret].join("\0"))
    .digest("base64url");
  const inQuery = exchange.method === "GET" || exchange.clientAuth === "query";
  if (inQuery) {
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return { cacheKey, url, method: exchange.method, headers };
  }
  if (exchange.bodyFormat === "json") {
    headers["content-type"] = "application/json";
    return { cacheKey, url, method: exchange.method, headers, body: JSON.stringify(params) };
  }
  headers["content-type"] = "application/x-www-form-urlencoded";
  return { cacheKey, url, method: exchange.method, headers, body: new URLSearchParams(params).toString() };
}

/**
 * `values` with `access_token` set to a token exchanged for the account's client
 * credentials; `values` unchanged for a provider without `api.tokenExchange`.
 */
export async function withExchangedToken(
  provider: ProviderDefinition,
  values: ConnectionValues,
  deps: TokenExchangeDeps,
): Promise<ConnectionValues> {
  const exchange = provider.api?.tokenExchange;
  const request = tokenExchangeRequest(provider, values, deps);
  if (!exchange || !request) return values;
  const token = await deps.cache.get(request.cacheKey, () =>
    exchangeToken(provider, exchange, request, deps),
  );
  return { ...values, credentials: { ...values.credentials, access_token: token } };
}

/** Forgets the cached token of these credentials (the provider answered 401 with it). */
export function forgetExchangedToken(
  provider: ProviderDefinition,
  values: ConnectionValues,
  deps: TokenExchangeDeps,
): void {
  const request = provider.api?.tokenExchange ? tokenExchangeRequest(provider, values, deps) : undefined;
  if (request) deps.cache.forget(request.cacheKey);
}

async function exchangeToken(
  provider: ProviderDefinition,
  exchange: TokenExchange,
  request: TokenExchangeRequest,
  deps: TokenExchangeDeps,
): Promise<{ token: string; expiresIn: number }> {
  const answer = await deps.outbound.request(request.url.href, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
    throw new TokenExchangeError(
      `${provider.name} refused the client ID and secret (HTTP ${answer.status}) when asked for an access token`,
      "refused",
      answer.status,
    );
  }
  const document = answer.status >= 200 && answer.status < 300 ? answer.json() : undefined;
  const token = readJsonPointer(document, exchange.tokenPointer);
  if (typeof token !== "string" || token === "" || /[\r\n\0]/.test(token)) {
    throw new TokenExchangeError(
      `${provider.name} answered HTTP ${answer.status} without an access token when asked for one`,
      "failed",
      answer.status,
    );
  }
  const declared =
    exchange.expiresInPointer === undefined
      ? undefined
      : readJsonPointer(document, exchange.expiresInPointer);
  const expiresIn =
    typeof declared === "number" && Number.isFinite(declared) && declared > 0
      ? declared
      : (exchange.defaultExpiresIn ?? DEFAULT_EXCHANGED_TOKEN_SECONDS);
  return { token, expiresIn };
}
