/**
 * CORS for StackOne's embeddable component, on the `/hub/*` routes only. The component calls
 * from the embedding page's origin with `x-hub-session-token`, `x-hub-version` and a JSON
 * content type, never with cookies, so every call is preflighted and no credentials are allowed.
 *
 * - A preflight carries no token: it is granted to an origin that some project allows.
 * - A call with a live session is granted only to that session's project's exact origins; any
 *   other origin gets 403 without CORS headers (the browser then shows nothing of it).
 * - A call whose token is unknown or expired gets its 401 readable by an origin that some
 *   project allows, so the component can show its "expired" state.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../http/errors.js";
import type { EmbedService } from "./service.js";

export const HUB_TOKEN_HEADER = "x-hub-session-token";
const ALLOWED_HEADERS = `content-type, ${HUB_TOKEN_HEADER}, x-hub-version`;
const ALLOWED_METHODS = "GET, POST, PATCH, DELETE";
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function hubToken(request: FastifyRequest): string | undefined {
  const value = request.headers[HUB_TOKEN_HEADER];
  return typeof value === "string" ? value.trim() : undefined;
}

function grant(reply: FastifyReply, origin: string): void {
  reply.header("access-control-allow-origin", origin).header("vary", "Origin");
}

export function hubCors(embed: EmbedService) {
  return {
    /** `OPTIONS /hub/*`: answers 204, with the grant only for an origin some project allows. */
    async preflight(request: FastifyRequest, reply: FastifyReply) {
      const origin = request.headers.origin;
      reply.header("vary", "Origin");
      if (origin && (await embed.originAllowedSomewhere(origin))) {
        grant(reply, origin);
        reply
          .header("access-control-allow-headers", ALLOWED_HEADERS)
          .header("access-control-allow-methods", ALLOWED_METHODS)
          .header("access-control-max-age", String(PREFLIGHT_MAX_AGE_SECONDS));
      }
      return reply.code(204).send();
    },

    /** onRequest of every other `/hub/*` route. */
    async check(request: FastifyRequest, reply: FastifyReply) {
      const origin = request.headers.origin;
      if (!origin) return;
      const session = await embed.liveSession(hubToken(request));
      if (session) {
        if (!(await embed.originAllowedForSession(session, origin))) {
          throw new ApiError(403, `Origin ${origin} is not allowed for this project`);
        }
        grant(reply, origin);
        return;
      }
      reply.header("vary", "Origin");
      if (await embed.originAllowedSomewhere(origin)) grant(reply, origin);
    },
  };
}
