/**
 * The proxy's rules: a call made as one linked account, to its provider's declared API only.
 *
 * Contract:
 * - The account must be the caller's project's, exist and be `active`; its provider must be in
 *   the catalog with an `api` declaration. Anything else is refused before any connection.
 * - The target URL is built by `resolveProviderUrl` (host confinement, no dot segments) and
 *   the credentials applied by `authorize`, so a `url` or `path` that leads elsewhere can
 *   never carry the account's credentials there.
 * - An OAuth2 token that has expired is refreshed before the call (CredentialService); one
 *   the provider answers 401 is refreshed once (same single flight and lease) and the call is
 *   repeated once, when its body can be sent again.
 * - Each call is logged (provider, method, host, path with query names only, status, latency;
 *   never a credential) and counted in the metrics per provider.
 */

import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { AccountCredentialsView, CredentialService } from "../accounts/credentials.js";
import type { AccountService } from "../accounts/service.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import type { AppMetrics } from "../ops/metrics.js";
import {
  discardBody,
  type OutboundClient,
  OutboundRequestError,
  type OutboundStream,
} from "../outbound/client.js";
import {
  authorize,
  type ConnectionValues,
  ProviderApiError,
  providerApi,
  resolveProviderUrl,
} from "../providers/api.js";
import type { CatalogProvider, ProviderCatalog } from "../providers/catalog.js";
import type { ProviderApi } from "../providers/schema.js";
import { ExchangedTokenCache, TokenExchangeError, withExchangedToken } from "../providers/token-exchange.js";
import { type Clock, systemClock } from "../time.js";
import { credentialHeaderOf } from "./headers.js";

/** What is sent: nothing, bytes in memory (sent again on a retry), or a stream (sent once). */
export type ProxyBody =
  | { readonly kind: "none" }
  | { readonly kind: "bytes"; readonly data: Buffer | string }
  | { readonly kind: "stream"; readonly stream: Readable };

export interface ProxyCall {
  readonly projectId: string;
  readonly accountId: string;
  readonly method: string;
  readonly target: { readonly path?: string; readonly url?: string };
  /**
   * The caller's headers, already filtered (see headers.ts), given the provider's credential
   * header: they are chosen per provider.
   */
  readonly headers: (credentialHeader: string | undefined) => Record<string, string>;
  readonly body: ProxyBody;
  readonly signal?: AbortSignal;
  readonly log: FastifyBaseLogger;
}

export interface ProxiedAnswer extends OutboundStream {
  readonly provider: CatalogProvider;
  /** The called URL without its query (safe to show: a query credential is not in it). */
  readonly shownUrl: string;
}

export interface ProxyServiceOptions {
  /** Accept plain-http loopback provider URLs (tests and local simulators). */
  readonly allowLoopbackUrls: boolean;
  readonly timeoutMs: number;
  /** The app's clock, for the expiry of exchanged tokens. */
  readonly clock?: Clock;
}

export class ProxyService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly accounts: AccountService,
    private readonly credentials: CredentialService,
    private readonly catalog: ProviderCatalog,
    private readonly outbound: OutboundClient,
    private readonly metrics: AppMetrics,
    private readonly options: ProxyServiceOptions,
  ) {
    this.exchangedTokens = new ExchangedTokenCache(options.clock ?? systemClock);
  }

  /** Access tokens exchanged for client credentials, until shortly before they expire. */
  private readonly exchangedTokens: ExchangedTokenCache;

  /** The account's provider and its API, or the error that names why it cannot be proxied. */
  async target(projectId: string, accountId: string) {
    const row = await this.accounts.findOrThrow(this.db, projectId, accountId);
    if (row.status !== "active") {
      const reasons = row.status_reasons
        ? (JSON.parse(row.status_reasons) as Array<{ description?: string | null }>)
        : [];
      const why = reasons[0]?.description ? ` (${reasons[0].description})` : "";
      throw new ApiError(
        409,
        `Account ${accountId} is ${row.status}${why}: only active accounts can be used; reconnect it`,
      );
    }
    const provider = this.catalog.get(row.provider);
    if (!provider) {
      throw new ApiError(422, `Account ${accountId}'s provider ${row.provider} is not in the catalog`);
    }
    let api: ProviderApi;
    try {
      api = providerApi(provider);
    } catch (error) {
      if (error instanceof ProviderApiError) {
        throw new ApiError(422, `${error.message}, so calls cannot be proxied to it`);
      }
      throw error;
    }
    return { row, provider, api, credentialHeader: credentialHeaderOf(api) };
  }

  /** Makes the call (see the module contract) and hands over the provider's answer, unread. */
  async call(call: ProxyCall): Promise<ProxiedAnswer> {
    const { row, provider, credentialHeader } = await this.target(call.projectId, call.accountId);
    const headers = call.headers(credentialHeader);
    let view = await this.credentials.freshFor(row);
    let answer = await this.send(call, provider, view, headers);
    if (answer.status !== 401 || provider.auth.type !== "oauth2") return answer;

    const rejected = String(view.credentials.access_token ?? "");
    const renewed = await this.credentials.refreshRejected(call.projectId, call.accountId, rejected);
    if (!renewed || renewed.credentials.access_token === rejected || call.body.kind === "stream") {
      return answer;
    }
    discardBody(answer.body);
    view = renewed;
    answer = await this.send(call, provider, view, headers);
    return answer;
  }

  private async send(
    call: ProxyCall,
    provider: CatalogProvider,
    view: AccountCredentialsView,
    callerHeaders: Record<string, string>,
  ): Promise<ProxiedAnswer> {
    const allowLoopbackUrls = this.options.allowLoopbackUrls || provider.sandbox === true;
    let values: ConnectionValues = {
      credentials: view.credentials,
      setupInformation: view.setup_information,
    };
    let url: URL;
    let credentialHeaders: Record<string, string>;
    try {
      // Client-credential providers (Marketo, OneLogin, Personio) first get their access token.
      values = await withExchangedToken(provider, values, {
        outbound: this.outbound,
        cache: this.exchangedTokens,
        allowLoopbackUrls,
      });
      // The sandbox providers are served by this server itself, on PUBLIC_URL (often loopback).
      url = resolveProviderUrl(provider, values, call.target, { allowLoopbackUrls });
      credentialHeaders = authorize(provider, values, url);
    } catch (error) {
      if (error instanceof OutboundRequestError) throw this.gatewayError(error, provider);
      throw providerApiFailure(error, provider);
    }
    const headers = mergeHeaders(providerApi(provider), callerHeaders, credentialHeaders);
    const shownUrl = `${url.origin}${url.pathname}`;
    const startedAt = performance.now();
    const logged = {
      provider: provider.key,
      account_id: call.accountId,
      method: call.method,
      host: url.host,
      path: pathWithQueryNames(url),
    };
    try {
      const answer = await this.outbound.open(url, {
        method: call.method,
        headers,
        body:
          call.body.kind === "none"
            ? undefined
            : call.body.kind === "bytes"
              ? call.body.data
              : call.body.stream,
        ...(call.signal ? { signal: call.signal } : {}),
      });
      const seconds = (performance.now() - startedAt) / 1000;
      this.metrics.proxyCall(provider.key, String(answer.status), seconds);
      call.log.info({ proxy: { ...logged, status: answer.status, latency_ms: ms(seconds) } }, "proxied call");
      return { ...answer, provider, shownUrl };
    } catch (error) {
      const seconds = (performance.now() - startedAt) / 1000;
      if (!(error instanceof OutboundRequestError)) throw error;
      this.metrics.proxyCall(provider.key, error.reason, seconds);
      call.log.warn(
        { proxy: { ...logged, failure: error.reason, latency_ms: ms(seconds) } },
        "proxied call failed",
      );
      throw this.gatewayError(error, provider);
    }
  }

  /** A failed call to the provider as this server's answer (502 or 504). */
  gatewayError(error: OutboundRequestError, provider: CatalogProvider): ApiError {
    switch (error.reason) {
      case "timeout":
        return new ApiError(504, `${provider.name} did not answer within ${this.options.timeoutMs} ms`);
      case "too_large":
        return new ApiError(502, `${provider.name}'s answer is too large: ${error.message}`);
      default:
        return new ApiError(502, `Could not call ${provider.name}: ${error.message}`);
    }
  }
}

/**
 * The provider's plain headers (an `Accept`, an API version), which a caller may override;
 * then the caller's; then what the server applies, which always wins: the credentials and
 * every declared header filled from the account's values (UKG Pro's key, Xero's tenant).
 */
function mergeHeaders(
  api: ProviderApi,
  caller: Record<string, string>,
  applied: Record<string, string>,
): Record<string, string> {
  const plainNames = new Set(
    Object.entries(api.headers ?? {})
      .filter(([, declared]) => typeof declared === "string" && !declared.includes("{{"))
      .map(([name]) => name.toLowerCase()),
  );
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries(applied)) {
    if (plainNames.has(name.toLowerCase())) merged[name.toLowerCase()] = value;
  }
  Object.assign(merged, caller);
  for (const [name, value] of Object.entries(applied)) {
    if (!plainNames.has(name.toLowerCase())) merged[name.toLowerCase()] = value;
  }
  return merged;
}

function providerApiFailure(error: unknown, provider: CatalogProvider): unknown {
  if (error instanceof TokenExchangeError) {
    return new ApiError(
      502,
      error.result === "refused"
        ? `${provider.name} refused the account's client credentials when asked for an access token`
        : `${provider.name} gave no access token for the account's client credentials`,
    );
  }
  if (!(error instanceof ProviderApiError)) return error;
  switch (error.problem) {
    case "invalid_path":
    case "host_not_allowed":
      return new ApiError(400, `${error.message}: the proxy only calls ${provider.name}'s declared API`);
    case "no_api":
      return new ApiError(422, `${error.message}, so calls cannot be proxied to it`);
    default:
      return new ApiError(422, `Cannot call ${provider.name} for this account: ${error.message}`);
  }
}

/** `/v1/employees?fields&page`: the query's names without their values (which may be secrets). */
function pathWithQueryNames(url: URL): string {
  const names = [...new Set(url.searchParams.keys())];
  return names.length ? `${url.pathname}?${names.join("&")}` : url.pathname;
}

function ms(seconds: number): number {
  return Math.round(seconds * 10_000) / 10;
}
