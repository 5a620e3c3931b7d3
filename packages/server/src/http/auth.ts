/**
 * API key authentication for the admin API: HTTP Basic with the key as the username and an
 * empty password (what StackOne's SDKs send), or `Authorization: Bearer <key>`.
 */
import type { FastifyRequest } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import type { Principal } from "../tenancy/store.js";
import type { AuthFailureLimiter } from "./auth-failures.js";
import { ApiError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The API key a request presents, with its hash (what lookups and rate limits key on). */
export interface PresentedApiKey {
  key: string;
  hash: string;
}

export type ApiKeyAuthenticator = (presented: PresentedApiKey) => Promise<Principal | undefined>;

const presentedKeys = new WeakMap<FastifyRequest, PresentedApiKey | null>();

/**
 * The request's API key, parsed and hashed once per request however many hooks ask (the rate
 * limiter and the authentication both do).
 */
export function presentedApiKey(request: FastifyRequest): PresentedApiKey | undefined {
  let presented = presentedKeys.get(request);
  if (presented === undefined) {
    const key = apiKeyFromHeader(request.headers.authorization);
    presented = key ? { key, hash: hashToken(key) } : null;
    presentedKeys.set(request, presented);
  }
  return presented ?? undefined;
}

export function apiKeyFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(" ", 2);
  if (!scheme || !value) return undefined;
  if (/^bearer$/i.test(scheme)) return value.trim() || undefined;
  if (!/^basic$/i.test(scheme)) return undefined;
  const decoded = Buffer.from(value.trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const username = colon === -1 ? decoded : decoded.slice(0, colon);
  return username || undefined;
}

/**
 * An onRequest hook: sets `request.principal` or answers 401; 429 while the client address
 * has failed too often (see auth-failures.ts), before any key is looked at.
 */
export function requireApiKey(authenticate: ApiKeyAuthenticator, failures?: AuthFailureLimiter) {
  return async function apiKeyAuth(request: FastifyRequest): Promise<void> {
    const wait = failures?.retryAfterSeconds(request.ip);
    if (wait !== undefined) {
      throw new ApiError(
        429,
        `Too many failed authentications from this address: retry after ${wait} seconds with a valid API key`,
        { retryAfterSeconds: wait },
      );
    }
    const presented = presentedApiKey(request);
    if (!presented) {
      throw new ApiError(
        401,
        "Unauthorized: send your API key as the username of HTTP Basic authentication",
        {
          headers: { "www-authenticate": 'Basic realm="connect-hub"' },
        },
      );
    }
    const principal = await authenticate(presented);
    if (!principal) {
      await failures?.recordFailure(request.ip);
      throw new ApiError(401, "Unauthorized: the API key is invalid or has been revoked");
    }
    request.principal = principal;
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error("route is missing the API key hook");
  return request.principal;
}
