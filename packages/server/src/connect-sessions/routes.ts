/** HTTP routes of the Connect Sessions API; thin: parse, call the service, shape the reply. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { requestOrigin } from "../console/audit.js";
import { principalOf } from "../http/auth.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses } from "../http/schema-types.js";
import { IDEMPOTENT_REPLAY_HEADER } from "../idempotency/service.js";
import {
  ConnectSessionAuthenticate,
  ConnectSessionCreate,
  ConnectSessionIdParams,
  ConnectSessionSummary,
  connectSessionSchemas,
  ListConnectSessionsQuery,
} from "./schema.js";

const ERRORS = errorResponses(400, 401, 403, 404, 408, 409, 413, 414, 415, 422, 429, 500, 503);

export function connectSessionRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { ConnectSession, ConnectSessionTokenAuthLink } = connectSessionSchemas(
    context.config.organizationIdType,
  );
  return async (app) => {
    app.post(
      "/connect_sessions",
      {
        // Audited by the service, in the create's own transaction (not by the audit hook).
        config: { audit: false },
        onRequest: context.adminAuth,
        schema: {
          operationId: "stackone_create_connect_session",
          summary: "Create Connect Session",
          description:
            "Issues a short-lived token and an auth link for one of your customers. Send an `Idempotency-Key` header to make retries safe: the same key and body within 24 hours returns the first response.",
          tags: ["Connect Sessions"],
          security: ADMIN_SECURITY,
          headers: {
            type: "object",
            properties: {
              "idempotency-key": { type: "string", description: "Makes the request safe to retry." },
            },
          },
          body: ConnectSessionCreate,
          response: { 201: ConnectSessionTokenAuthLink, ...ERRORS },
        },
      },
      async (request, reply) => {
        const idempotencyKey = request.headers["idempotency-key"];
        const { session, replayed } = await context.connectSessions.createConnectSession(
          principalOf(request),
          request.body,
          typeof idempotencyKey === "string" ? idempotencyKey : undefined,
          requestOrigin(request),
        );
        if (replayed) reply.header(IDEMPOTENT_REPLAY_HEADER, "true");
        return reply.code(201).send(session);
      },
    );

    app.post(
      "/connect_sessions/authenticate",
      {
        onRequest: context.adminAuth,
        // Reads a session; changes nothing.
        config: { audit: false },
        schema: {
          operationId: "stackone_authenticate_connect_session",
          summary: "Authenticate Connect Session",
          description:
            "Returns the session behind a token. An unknown, expired, or other project's token answers 401.",
          tags: ["Connect Sessions"],
          security: ADMIN_SECURITY,
          body: ConnectSessionAuthenticate,
          response: { 201: ConnectSession, ...ERRORS },
        },
      },
      async (request, reply) => {
        const session = await context.connectSessions.authenticateConnectSession(
          principalOf(request),
          request.body.token,
        );
        return reply.code(201).send(session);
      },
    );

    app.get(
      "/connect_sessions",
      {
        onRequest: context.adminAuth,
        schema: {
          operationId: "connect_hub_list_connect_sessions",
          summary: "List Connect Sessions",
          description:
            "The project's sessions, newest first, with what became of them (Connect Hub only; never their tokens). Filters: `state`, `origin_owner_id`, `provider`. Paginated with `page` and `page_size` (default 25); a page shorter than `page_size` is the last.",
          tags: ["Connect Sessions"],
          security: ADMIN_SECURITY,
          querystring: ListConnectSessionsQuery,
          response: { 200: Type.Array(Type.Ref(ConnectSessionSummary)), ...ERRORS },
        },
      },
      async (request) => context.connectSessions.list(principalOf(request).projectId, request.query),
    );

    app.get(
      "/connect_sessions/:id",
      {
        onRequest: context.adminAuth,
        schema: {
          operationId: "connect_hub_get_connect_session",
          summary: "Get Connect Session",
          description: "One of the project's sessions by id (Connect Hub only; never its token).",
          tags: ["Connect Sessions"],
          security: ADMIN_SECURITY,
          params: ConnectSessionIdParams,
          response: { 200: Type.Ref(ConnectSessionSummary), ...ERRORS },
        },
      },
      async (request) => context.connectSessions.get(principalOf(request).projectId, request.params.id),
    );
  };
}
