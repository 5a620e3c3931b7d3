/** `GET /console/oidc/start` and `/console/oidc/callback`: OpenID Connect sign-in (see oidc.ts). */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";
import { ApiError } from "../http/errors.js";
import type { RouteContext } from "../http/route-context.js";
import { errorResponses } from "../http/schema-types.js";
import { requestOrigin } from "./audit.js";
import { OIDC_STATE_COOKIE, oidcStateCookie, readCookie, sessionCookie } from "./cookies.js";
import type { ConsoleOidc } from "./oidc.js";
import { refusalPage } from "./pages.js";
import { originOf } from "./routes.js";

const TAGS = ["Console"];

export function consoleOidcRoutes(
  context: RouteContext,
  signIn: ConsoleOidc | undefined,
): FastifyPluginAsyncTypebox {
  const https = new URL(context.config.publicUrl).protocol === "https:";
  const notConfigured = () =>
    new ApiError(404, "OpenID Connect sign-in is not configured on this server (CONSOLE_OIDC_ISSUER)");

  return async (app) => {
    app.get(
      "/console/oidc/start",
      {
        schema: {
          tags: TAGS,
          operationId: "connect_hub_console_oidc_start",
          summary: "Start an OpenID Connect sign-in",
          description:
            "302 to the identity provider (PKCE S256, state and nonce bound to this browser by a cookie).",
          response: { 302: { type: "null" }, ...errorResponses(404, 429, 502) },
        },
      },
      async (_request, reply) => {
        if (!signIn) throw notConfigured();
        let started: { url: string; cookieValue: string };
        try {
          started = await signIn.start();
        } catch (error) {
          reply.log.warn({ err: error }, "console OIDC discovery failed");
          throw new ApiError(502, "The identity provider could not be reached; try again shortly");
        }
        return reply
          .code(302)
          .header("set-cookie", oidcStateCookie(started.cookieValue, https))
          .header("location", started.url)
          .send();
      },
    );

    app.get(
      "/console/oidc/callback",
      {
        schema: {
          tags: TAGS,
          operationId: "connect_hub_console_oidc_callback",
          summary: "Where the identity provider sends the operator back",
          description:
            "Checks the state cookie, the code (PKCE), the ID token and CONSOLE_OIDC_ALLOW; opens a session and answers 303 to /console/. A refused identity gets a page saying why, and no session.",
          querystring: Type.Object({}, { additionalProperties: Type.String({ maxLength: 4096 }) }),
          response: { 303: { type: "null" }, ...errorResponses(400, 401, 404, 429) },
        },
      },
      async (request, reply) => {
        if (!signIn) throw notConfigured();
        const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "";
        let outcome: Awaited<ReturnType<ConsoleOidc["finish"]>>;
        try {
          outcome = await signIn.finish(query, readCookie(request.headers.cookie, OIDC_STATE_COOKIE));
        } catch (error) {
          request.log.info({ reason: (error as Error).message }, "console OIDC sign-in refused");
          outcome = {
            allowed: false,
            reason: "the identity provider did not confirm the sign-in; start again",
          };
        }
        if (!outcome.allowed) {
          // An HTML page, outside the JSON schemas' reply typing.
          return (reply as FastifyReply)
            .code(401)
            .header("set-cookie", oidcStateCookie("", https))
            .type("text/html; charset=utf-8")
            .send(refusalPage("Sign-in refused", `Sign-in refused: ${outcome.reason}.`));
        }
        const opened = await context.consoleSessions.openSession(
          { role: outcome.role, projectId: null },
          { subject: outcome.subject, email: outcome.email, method: "oidc" },
          originOf(request),
        );
        await context.audit.record({
          projectId: null,
          actor: { type: "console", id: opened.id, display: outcome.email ?? outcome.subject },
          action: "console.signed_in",
          targetType: "console_session",
          targetId: opened.id,
          details: { method: "oidc", role: opened.role },
          ...requestOrigin(request),
        });
        return reply
          .code(303)
          .header("set-cookie", [oidcStateCookie("", https), sessionCookie(opened.token, https)])
          .header("location", "/console/")
          .send();
      },
    );
  };
}
