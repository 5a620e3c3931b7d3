/**
 * The `Authorization` header: HTTP Basic with the API key as the username and an empty
 * password, byte for byte what StackOne's SDKs send. Encoded with `btoa` over UTF-8 bytes, so
 * it runs unchanged in Node, browsers, Deno and Bun.
 */
import type { ConnectHubOptions } from "./options.js";

/** The header value, or `undefined` when no credentials are configured (no header is sent). */
export async function authorizationHeader(
  security: ConnectHubOptions["security"],
): Promise<string | undefined> {
  const credentials = typeof security === "function" ? await security() : security;
  if (credentials?.username === undefined && credentials?.password === undefined) return undefined;
  return `Basic ${base64(`${credentials.username ?? ""}:${credentials.password ?? ""}`)}`;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
