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
  }
}

/** The API key a request presents, with its hash (what lookups and rate limits key on). */
export interface PresentedApiKey {
  key: string;
  hash: string;
}

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

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error("route is missing the adminAuth hook or its project");
  return request.principal;
}
