/**
 * How the admin API reads an API key: HTTP Basic with the key as the username and an empty
 * password (what StackOne's SDKs send), or `Authorization: Bearer <key>`. The hook that
 * authenticates admin routes (API key or console cookie) is admin-auth.ts.
 */
import type { FastifyRequest } from "fastify";
import { hashToken } from "../crypto/tokens.js";
import type { Principal } from "../tenancy/store.js";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
    /** presentedApiKey's answer for this request: undefined until asked, null for none. */
    presentedKey?: PresentedApiKey | null;
  }
}

/** The API key a request presents, with its hash (what lookups and rate limits key on). */
export interface PresentedApiKey {
  key: string;
  hash: string;
}

/**
 * Authorization headers whose key authenticated lately, each with its key and hash. A client
 * sends the same header with every request, and decoding and hashing it again cost about a
 * twentieth of an authenticate. Only headers that authenticated are kept
 * (rememberAuthenticatedKey), so wrong keys never fill it; it starts over when full. It holds
 * only what this process had in memory anyway, never on disk, and decides nothing: every
 * request's key is still looked up (and refused once revoked).
 */
const authenticatedHeaders = new Map<string, PresentedApiKey>();
const AUTHENTICATED_HEADERS_LIMIT = 1024;

/**
 * The request's API key, parsed and hashed once per request however many hooks ask (the rate
 * limiter and the authentication both do).
 */
export function presentedApiKey(request: FastifyRequest): PresentedApiKey | undefined {
  let presented = request.presentedKey;
  if (presented === undefined) {
    const header = request.headers.authorization;
    presented = header === undefined ? null : (authenticatedHeaders.get(header) ?? parsedApiKey(header));
    request.presentedKey = presented;
  }
  return presented ?? undefined;
}

function parsedApiKey(header: string): PresentedApiKey | null {
  const key = apiKeyFromHeader(header);
  return key ? { key, hash: hashToken(key) } : null;
}

/** After the request's key authenticated: its header is parsed at once next time. */
export function rememberAuthenticatedKey(request: FastifyRequest): void {
  const header = request.headers.authorization;
  const presented = request.presentedKey;
  if (header === undefined || !presented || authenticatedHeaders.has(header)) return;
  if (authenticatedHeaders.size >= AUTHENTICATED_HEADERS_LIMIT) authenticatedHeaders.clear();
  authenticatedHeaders.set(header, presented);
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

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error("route is missing the adminAuth hook or its project");
  return request.principal;
}
