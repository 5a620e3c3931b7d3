/**
 * The console's cookies. The session cookie is `__Host-connect_hub_console` on https (Secure,
 * Path=/, no Domain: the browser refuses it otherwise) and `connect_hub_console` on plain
 * http; HttpOnly, SameSite=Strict, 12 hours. The OIDC state cookie is SameSite=Lax (it must
 * come back on the identity provider's top-level redirect), scoped to the callback's path.
 */
import { parse as parseCookies, serialize as serializeCookie } from "cookie";
import { CONSOLE_SESSION_TTL_SECONDS } from "./service.js";

export const OIDC_STATE_COOKIE = "connect_hub_console_oidc";
export const OIDC_STATE_TTL_SECONDS = 10 * 60;

export const sessionCookieName = (https: boolean) =>
  https ? "__Host-connect_hub_console" : "connect_hub_console";

export function sessionCookie(token: string, https: boolean): string {
  return serializeCookie(sessionCookieName(https), token, {
    httpOnly: true,
    secure: https,
    sameSite: "strict",
    path: "/",
    maxAge: CONSOLE_SESSION_TTL_SECONDS,
  });
}

export function clearedSessionCookie(https: boolean): string {
  return serializeCookie(sessionCookieName(https), "", {
    httpOnly: true,
    secure: https,
    sameSite: "strict",
    path: "/",
    maxAge: 0,
  });
}

export function oidcStateCookie(value: string, https: boolean): string {
  return serializeCookie(OIDC_STATE_COOKIE, value, {
    httpOnly: true,
    secure: https,
    sameSite: "lax",
    path: "/console/oidc",
    maxAge: value ? OIDC_STATE_TTL_SECONDS : 0,
  });
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  return parseCookies(header)[name] || undefined;
}
