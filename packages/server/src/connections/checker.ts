/**
 * Checks a connection with the provider itself: the provider's verification request, made
 * with the credentials just entered (or stored), and the connection metadata a grant brings
 * (token response fields, callback parameters, post-grant requests). Every call is built by
 * `providers/api.ts` (host confinement) and sent through the outbound client (timeouts, size
 * limit, SSRF guard). Messages are written for the end user and never contain credentials.
 */
import { type OutboundClient, OutboundRequestError } from "../outbound/client.js";
import {
  type ConnectionValues,
  metadataRequest,
  ProviderApiError,
  type ProviderRequest,
  readJsonPointer,
  verificationRequest,
} from "../providers/api.js";
import type { CatalogProvider } from "../providers/catalog.js";
import type { ConnectionMetadataItem } from "../providers/schema.js";
import {
  ExchangedTokenCache,
  type TokenExchangeDeps,
  TokenExchangeError,
  withExchangedToken,
} from "../providers/token-exchange.js";
import { type Clock, systemClock } from "../time.js";

export const VERIFICATION_RESULTS = ["verified", "refused", "failed", "unreachable", "invalid"] as const;

/**
 * - `verified`: the provider answered 2xx.
 * - `refused`: 401 or 403, the credentials do not work.
 * - `failed`: another status.
 * - `unreachable`: no answer (network, timeout, too large, blocked address).
 * - `invalid`: the request could not be built from the account's values; nothing was sent.
 */
export type VerificationResult = (typeof VERIFICATION_RESULTS)[number];

export interface Verification {
  result: VerificationResult;
  /** The provider's HTTP status, when it answered. */
  statusCode: number | null;
  /** For the end user (connect page) or the operator (API). */
  message: string;
}

/** A connection that cannot be completed; `message` is for the end user. */
export class ConnectionCheckError extends Error {
  override readonly name = "ConnectionCheckError";
  constructor(
    message: string,
    readonly result: VerificationResult | "missing_metadata",
    readonly statusCode: number | null = null,
  ) {
    super(message);
  }
}

/** What a grant brings besides the tokens. */
export interface GrantDetails {
  tokenResponse: Readonly<Record<string, unknown>>;
  callbackParams: Readonly<Record<string, unknown>>;
}

export class ConnectionChecker {
  /** Tokens exchanged for client credentials, kept per credentials until shortly before expiry. */
  private readonly exchangedTokens: ExchangedTokenCache;

  constructor(
    private readonly outbound: OutboundClient,
    private readonly options: { allowLoopbackUrls: boolean; clock?: Clock },
  ) {
    this.exchangedTokens = new ExchangedTokenCache(options.clock ?? systemClock);
  }

  /** Runs the provider's verification request; undefined when the provider declares none. */
  async verify(provider: CatalogProvider, values: ConnectionValues): Promise<Verification | undefined> {
    if (!provider.api?.verify) return undefined;
    let status: number;
    try {
      // Client-credential providers (Marketo, OneLogin, Personio) first get their access token.
      const exchanged = await withExchangedToken(provider, values, this.exchangeDeps(provider));
      const request = verificationRequest(provider, exchanged, this.apiOptions(provider));
      if (!request) return undefined;
      status = (await this.send(request)).status;
    } catch (error) {
      if (error instanceof ProviderApiError) {
        return { result: "invalid", statusCode: null, message: `${provider.name}: ${error.message}.` };
      }
      if (error instanceof TokenExchangeError) {
        const message =
          error.result === "refused" ? refusalMessage(provider, error.statusCode) : `${error.message}.`;
        return { result: error.result, statusCode: error.statusCode, message };
      }
      if (error instanceof OutboundRequestError) {
        return {
          result: "unreachable",
          statusCode: null,
          message: `${provider.name} could not be reached to check the credentials (${unreachableReason(error)}); try again in a moment.`,
        };
      }
      throw error;
    }
    if (status >= 200 && status < 300) {
      return {
        result: "verified",
        statusCode: status,
        message: `${provider.name} accepted the credentials.`,
      };
    }
    if (status === 401 || status === 403) {
      return { result: "refused", statusCode: status, message: refusalMessage(provider, status) };
    }
    return {
      result: "failed",
      statusCode: status,
      message: `${provider.name} answered HTTP ${status} when the credentials were checked, so they could not be confirmed; try again later.`,
    };
  }

  /** Like `verify`, but a check that did not pass throws for the end user (nothing is saved). */
  async verifyOrThrow(provider: CatalogProvider, values: ConnectionValues): Promise<void> {
    const verification = await this.verify(provider, values);
    if (verification && verification.result !== "verified") {
      throw new ConnectionCheckError(
        `${verification.message} Nothing was saved.`,
        verification.result,
        verification.statusCode,
      );
    }
  }

  /**
   * The connection metadata of a grant, in declaration order (a request's URL may use values
   * found before it). A required item that is missing throws; an optional one is left out.
   */
  async collectMetadata(
    provider: CatalogProvider,
    grant: GrantDetails,
    values: ConnectionValues,
  ): Promise<Record<string, string>> {
    const found: Record<string, string> = {};
    for (const item of provider.connectionMetadata ?? []) {
      let value: string | undefined;
      if (item.from === "token_response") value = scalar(ownValue(grant.tokenResponse, item.field));
      else if (item.from === "callback") value = scalar(ownValue(grant.callbackParams, item.param));
      else {
        value = await this.fetchMetadata(provider, item, {
          credentials: values.credentials,
          setupInformation: { ...(values.setupInformation ?? {}), ...found },
        });
      }
      if (value !== undefined) found[item.key] = value;
      else if (item.required !== false) {
        throw new ConnectionCheckError(
          `${provider.name} did not provide ${item.key} (${whereFrom(item)}), which the connection needs. Nothing was connected; try again.`,
          "missing_metadata",
        );
      }
    }
    return found;
  }

  /** Token-response metadata of a refresh: the values it carries replace the stored ones. */
  static refreshedMetadata(
    provider: CatalogProvider,
    tokenResponse: Readonly<Record<string, unknown>>,
  ): Record<string, string> {
    const updates: Record<string, string> = {};
    for (const item of provider.connectionMetadata ?? []) {
      if (item.from !== "token_response") continue;
      const value = scalar(ownValue(tokenResponse, item.field));
      if (value !== undefined) updates[item.key] = value;
    }
    return updates;
  }

  private async fetchMetadata(
    provider: CatalogProvider,
    item: Extract<ConnectionMetadataItem, { from: "request" }>,
    values: ConnectionValues,
  ): Promise<string | undefined> {
    const required = item.required !== false;
    let request: ProviderRequest;
    try {
      request = metadataRequest(provider, item, values, this.apiOptions(provider));
    } catch (error) {
      if (error instanceof ProviderApiError && !required) return undefined;
      if (error instanceof ProviderApiError) {
        throw new ConnectionCheckError(`${provider.name}: ${error.message}.`, "invalid");
      }
      throw error;
    }
    try {
      const response = await this.send(request);
      if (response.status < 200 || response.status >= 300) {
        if (!required) return undefined;
        throw new ConnectionCheckError(
          `${provider.name} answered HTTP ${response.status} when asked for ${item.key}. Nothing was connected; try again.`,
          response.status === 401 || response.status === 403 ? "refused" : "failed",
          response.status,
        );
      }
      return scalar(readJsonPointer(response.json(), item.pointer));
    } catch (error) {
      if (error instanceof OutboundRequestError) {
        if (!required) return undefined;
        throw new ConnectionCheckError(
          `${provider.name} could not be reached for ${item.key} (${unreachableReason(error)}). Nothing was connected; try again in a moment.`,
          "unreachable",
        );
      }
      throw error;
    }
  }

  private send(request: ProviderRequest) {
    return this.outbound.request(request.url.href, {
      method: request.method,
      headers: { accept: "application/json", ...request.headers },
    });
  }

  private exchangeDeps(provider: CatalogProvider): TokenExchangeDeps {
    return { outbound: this.outbound, cache: this.exchangedTokens, ...this.apiOptions(provider) };
  }

  /** Sandbox providers live on this server, which may well be loopback. */
  private apiOptions(provider: CatalogProvider) {
    return { allowLoopbackUrls: this.options.allowLoopbackUrls || provider.sandbox === true };
  }
}

function refusalMessage(provider: CatalogProvider, status: number): string {
  const what =
    provider.auth.type === "oauth2"
      ? "Check that the access you granted includes reading your account, then try again."
      : `Check the ${listOf(provider.auth.fields.map((field) => field.label))}, and that the credentials are active and allowed to use the API.`;
  return `${provider.name} refused these credentials (HTTP ${status}). ${what}`;
}

function listOf(labels: readonly string[]): string {
  if (labels.length <= 1) return labels[0] ?? "credentials";
  return `${labels.slice(0, -1).join(", ")} and ${labels.at(-1)}`;
}

function unreachableReason(error: OutboundRequestError): string {
  switch (error.reason) {
    case "timeout":
      return "it did not answer in time";
    case "too_large":
      return "its answer was too large";
    case "blocked_address":
      return "its address is not allowed";
    default:
      return "no connection";
  }
}

function whereFrom(item: ConnectionMetadataItem): string {
  if (item.from === "token_response") return `the ${item.field} field of the token response`;
  if (item.from === "callback") return `the ${item.param} parameter of the callback`;
  return `the answer of ${new URL(item.url.replace(/\{\{[^}]*\}\}/g, "x")).host}`;
}

function ownValue(source: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(source, key) ? source[key] : undefined;
}

const MAX_METADATA_LENGTH = 2048;

/** Metadata values are kept as non-empty strings (numbers and booleans as text), 2 KiB at most. */
function scalar(value: unknown): string | undefined {
  if (typeof value === "string") {
    return value.trim() === "" || value.length > MAX_METADATA_LENGTH ? undefined : value;
  }
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean")
    return String(value);
  return undefined;
}
