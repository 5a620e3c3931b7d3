/**
 * The cookie that binds an OAuth state to the browser that started the flow: HttpOnly,
 * SameSite=Lax (it must come back on the provider's top-level redirect), scoped to the
 * callback's path and as short-lived as the state.
 */
import { serialize as serializeCookie } from "cookie";
import { OAUTH_STATE_TTL_SECONDS } from "./service.js";

export const BINDING_COOKIE = "connect_hub_oauth";
export const BINDING_PATTERN = /^chb_[A-Za-z0-9_-]{43}$/;

export function bindingCookie(binding: string, secure: boolean): string {
  return serializeCookie(BINDING_COOKIE, binding, {
    httpOnly: true,
    secure,
    sameSite: "lax",
    path: "/connect/oauth",
    maxAge: OAUTH_STATE_TTL_SECONDS,
  });
}
