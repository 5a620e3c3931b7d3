/**
 * The console's session routes: its public configuration, sign-in with a CLI link, the
 * caller's session, sign-out, and the admin API's list and revocation of console sessions.
 * (OIDC sign-in: oidc-routes.ts; the console's files: assets.ts.)
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { adminCallerOf } from "../http/admin-auth.js";
import { ApiError } from "../http/errors.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses, PageQuery, pageOf } from "../http/schema-types.js";
import { requestOrigin } from "./audit.js";
import { clearedSessionCookie, sessionCookie } from "./cookies.js";
import { refusalPage } from "./pages.js";
import { ConsoleConfig, ConsoleSessionSummary, ConsoleSessionView, IdParams, SignInQuery } from "./schema.js";
import type { OpenedSession } from "./service.js";

const ERRORS = errorResponses(400, 401, 403, 404, 429);
const TAGS = ["Console"];
export const LINK_REFUSED =
  "this sign-in link was used or has expired; ask for a new one with `connect-hub console link`";

export function consoleRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { config, consoleSessions, audit } = context;
  const https = new URL(config.publicUrl).protocol === "https:";
  const auth = { tags: TAGS, security: ADMIN_SECURITY };

  return async (app) => {
    app.get(
      "/console/config",
      {
        schema: {
          tags: TAGS,
          operationId: "connect_hub_console_config",
          summary: "What the console's sign-in page offers",
          response: { 200: ConsoleConfig },
        },
      },
      async () => ({
        oidc: config.console.oidc ? { enabled: true, name: config.console.oidc.name } : { enabled: false },
      }),
    );

    app.get(
      "/console/sign-in",
      {
        schema: {
          tags: TAGS,
          operationId: "connect_hub_console_sign_in",
          summary: "Open a console session with a sign-in link",
          description:
            "Consumes the single-use link from `connect-hub console link`, sets the session cookie and answers 303 to `/console/`. A used, expired or unknown link answers 401 (an HTML page for browsers).",
          querystring: SignInQuery,
          response: {
            303: { type: "null", description: "To /console/, with the session cookie." },
            ...ERRORS,
          },
        },
      },
      async (request, reply) => {
        const opened = await consoleSessions.signInWithLink(request.query.token, originOf(request));
        if (!opened) {
          if (wantsHtml(request)) {
            // An HTML page, outside the JSON schemas' reply typing.
            return (reply as FastifyReply)
              .code(401)
              .type("text/html; charset=utf-8")
              .send(refusalPage("Sign-in link refused", LINK_REFUSED));
          }
          throw new ApiError(401, `Unauthorized: ${LINK_REFUSED}`);
        }
        await recordSignIn(request, opened, `cli link ${opened.linkId}`, "link");
        return startSession(reply, opened);
      },
    );

    app.get(
      "/console/session",
      {
        onRequest: context.adminAuth,
        config: { adminScope: "any" },
        schema: {
          ...auth,
          operationId: "connect_hub_console_session",
          summary: "The caller's console session",
          description: "With the CSRF token the page sends as `x-csrf-token`. 401 without a console session.",
          response: { 200: ConsoleSessionView, ...ERRORS },
        },
      },
      async (request) => {
        const session = consoleSessionOf(request);
        return {
          id: session.id,
          operator: {
            ...(session.operatorEmail ? { email: session.operatorEmail } : {}),
            subject: session.operatorSubject,
            method: session.method,
          },
          role: session.role,
          project: session.project ? { id: session.project.id, name: session.project.name } : null,
          csrf_token: session.csrfToken,
          expires_at: session.expiresAt,
        };
      },
    );

    app.post(
      "/console/sign-out",
      {
        onRequest: context.adminAuth,
        // The route records the sign-out itself (its session is gone once it is done).
        config: { adminScope: "any", viewerMayUse: true, audit: false },
        schema: {
          ...auth,
          operationId: "connect_hub_console_sign_out",
          summary: "Sign out: revoke the caller's console session",
          response: { 204: { type: "null" }, ...ERRORS },
        },
      },
      async (request, reply) => {
        const session = consoleSessionOf(request);
        if (await consoleSessions.revoke("all", session.id)) {
          await audit.record({
            projectId: session.project?.id ?? null,
            actor: adminCallerOf(request).actor,
            action: "console.signed_out",
            targetType: "console_session",
            targetId: session.id,
            ...requestOrigin(request),
          });
        }
        return reply.code(204).header("set-cookie", clearedSessionCookie(https)).send();
      },
    );

    app.get(
      "/console/sessions",
      {
        onRequest: context.adminAuth,
        config: { adminScope: "any" },
        schema: {
          ...auth,
          operationId: "connect_hub_list_console_sessions",
          summary: "List active console sessions",
          description:
            "Newest first, never their tokens. An API key or a project's session sees the sessions bound to its project; an all-projects session sees every session.",
          querystring: PageQuery(50),
          response: { 200: Type.Array(ConsoleSessionSummary), ...ERRORS },
        },
      },
      async (request) => {
        const caller = adminCallerOf(request);
        const rows = await consoleSessions.list(caller.scope, pageOf(request.query, 50));
        return rows.map((row) => ({
          id: row.id,
          operator: {
            ...(row.operatorEmail ? { email: row.operatorEmail } : {}),
            subject: row.operatorSubject,
            method: row.method,
          },
          role: row.role,
          project_id: row.projectId,
          ip: row.ip,
          user_agent: row.userAgent,
          created_at: row.createdAt,
          expires_at: row.expiresAt,
          last_seen_at: row.lastSeenAt,
          current: row.id === caller.consoleSession?.id,
        }));
      },
    );

    app.delete(
      "/console/sessions/:id",
      {
        onRequest: context.adminAuth,
        // The route records the revocation itself, with the revoked session's project.
        config: { adminScope: "any", audit: false },
        schema: {
          ...auth,
          operationId: "connect_hub_revoke_console_session",
          summary: "Revoke a console session",
          description: "Its next request gets 401. 404 for a session the caller cannot see.",
          params: IdParams,
          response: { 204: { type: "null" }, ...ERRORS },
        },
      },
      async (request, reply) => {
        const caller = adminCallerOf(request);
        if (!(await consoleSessions.revoke(caller.scope, request.params.id))) {
          throw new ApiError(404, "Console session does not exist or was already revoked");
        }
        await audit.record({
          projectId: caller.scope === "all" ? (request.principal?.projectId ?? null) : caller.scope.projectId,
          actor: caller.actor,
          action: "console_session.revoked",
          targetType: "console_session",
          targetId: request.params.id,
          ...requestOrigin(request),
        });
        return reply.code(204).send();
      },
    );
  };

  async function recordSignIn(
    request: FastifyRequest,
    opened: OpenedSession,
    display: string,
    method: "link" | "oidc",
  ): Promise<void> {
    await audit.record({
      projectId: opened.projectId,
      actor: { type: "console", id: opened.id, display },
      action: "console.signed_in",
      targetType: "console_session",
      targetId: opened.id,
      details: { method, role: opened.role },
      ...requestOrigin(request),
    });
  }

  function startSession(reply: FastifyReply, opened: OpenedSession) {
    return reply
      .code(303)
      .header("set-cookie", sessionCookie(opened.token, https))
      .header("location", "/console/")
      .send();
  }
}

export function originOf(request: FastifyRequest) {
  const userAgent = request.headers["user-agent"];
  return { ip: request.ip, userAgent: typeof userAgent === "string" ? userAgent : undefined };
}

export function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === "string" && accept.includes("text/html");
}

function consoleSessionOf(request: FastifyRequest) {
  const session = adminCallerOf(request).consoleSession;
  if (!session) throw new ApiError(401, "Unauthorized: this route needs a console session, not an API key");
  return session;
}
