/** HTTP routes of the Connect Sessions API; thin: parse, call the service, shape the reply. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { requestOrigin } from "../console/audit.js";
import { principalOf } from "../http/auth.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses } from "../http/schema-types.js";
import { ConnectSessionAuthenticate, ConnectSessionCreate, connectSessionSchemas } from "./schema.js";

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
        if (replayed) reply.header("idempotent-replayed", "true");
        return reply.code(201).send(session);
      },
    );

    app.post(
      "/connect_sessions/authenticate",
      {
        onRequest: context.adminAuth,
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
  };
}
