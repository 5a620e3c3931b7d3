/**
 * Which headers cross the proxy. The server applies the account's credentials itself, so a
 * caller's `Authorization`, cookies and the provider's own credential header never reach the
 * provider; hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are never
 * relayed in either direction; and a provider's cookies, CORS grants and transport policies
 * are not passed back as if they were this server's.
 */
import type { IncomingHttpHeaders } from "node:http";
import { ApiError } from "../http/errors.js";
import type { ProviderApi } from "../providers/schema.js";

/** Hop-by-hop headers, with the older `keep-alive` and `proxy-connection`. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
]);

/** Set by the server on every proxied call, whatever the caller sends. */
const SET_BY_SERVER = new Set(["host", "content-length", "authorization", "cookie", "cookie2"]);

/** Meant for this server (its API, its load balancer), not for the provider. */
const FOR_THIS_SERVER = new Set([
  "x-account-id",
  "idempotency-key",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-real-ip",
  "via",
  "expect",
]);

/** Not passed back from a provider's answer. */
const NOT_RELAYED_BACK = new Set([
  "set-cookie",
  "set-cookie2",
  "strict-transport-security",
  "alt-svc",
  "content-security-policy",
  "content-security-policy-report-only",
  "x-frame-options",
  "date",
]);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The header the provider's credential travels in, lowercase; undefined for a query parameter. */
export function credentialHeaderOf(api: ProviderApi): string | undefined {
  if (api.auth.style === "header") return api.auth.name.toLowerCase();
  return api.auth.style === "query" ? undefined : "authorization";
}

/**
 * The `headers` of a `/unified/proxy` body, checked: each problem is a 400 naming the header,
 * since these were written on purpose and silently dropping them would hide the mistake.
 */
export function checkedCallerHeaders(
  headers: Readonly<Record<string, unknown>> | null | undefined,
  credentialHeader: string | undefined,
): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) throw new ApiError(400, `headers: "${name}" is not a valid header name`);
    if (raw === null || raw === undefined) continue;
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
      throw new ApiError(400, `headers.${name} must be a string`);
    }
    const value = String(raw);
    if (/[\r\n\0]/.test(value)) throw new ApiError(400, `headers.${name} may not contain line breaks`);
    if (HOP_BY_HOP.has(lower)) {
      throw new ApiError(400, `headers.${name} is a hop-by-hop header, which a proxy does not forward`);
    }
    if (SET_BY_SERVER.has(lower) || lower === credentialHeader) {
      throw new ApiError(
        400,
        `headers.${name} is set by the server: it applies the account's credentials itself`,
      );
    }
    if (FOR_THIS_SERVER.has(lower)) throw new ApiError(400, `headers.${name} is not forwarded to providers`);
    checked[lower] = value;
  }
  return checked;
}

/**
 * The headers of a `/proxy/{path}` request that go on to the provider: everything but this
 * hop's own headers (and those its `Connection` names), this server's, and credentials.
 * `Content-Length` is kept, so a provider that needs a length gets the caller's.
 */
export function forwardedRequestHeaders(
  headers: IncomingHttpHeaders,
  credentialHeader: string | undefined,
): Record<string, string> {
  const named = connectionTokens(headers.connection);
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || named.has(name) || FOR_THIS_SERVER.has(name) || name === credentialHeader)
      continue;
    if (SET_BY_SERVER.has(name) && name !== "content-length") continue;
    forwarded[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return forwarded;
}

/** The provider's answer headers that are passed back to the caller. */
export function relayedResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const relayed: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || named.has(lower) || NOT_RELAYED_BACK.has(lower))
      continue;
    if (lower.startsWith("access-control-")) continue;
    relayed[lower] = value;
  }
  return relayed;
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return new Set(
    joined
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
}
