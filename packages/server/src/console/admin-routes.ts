/**
 * Admin API routes the console needs and API clients can use as well: the API keys of the
 * caller's project (`/api_keys`), the projects the caller may see (`/projects`) and the audit
 * log (`/audit_events`). Changes are recorded in the audit log by their route declarations.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { adminCallerOf } from "../http/admin-auth.js";
import { principalOf } from "../http/auth.js";
import { ApiError } from "../http/errors.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses, PageQuery, pageOf } from "../http/schema-types.js";
import type { IssuedApiKey } from "../tenancy/service.js";
import type { Project } from "../tenancy/store.js";
import { fromAnswer, fromParam } from "./audit.js";
import { ApiKeyCreated, ApiKeySummary, AuditEvent, AuditQuery, IdParams, ProjectSummary } from "./schema.js";

const ERRORS = errorResponses(400, 401, 403, 404, 429);
const KEY_CACHE_NOTE =
  "Other server processes may accept a revoked key for up to API_KEY_CACHE_SECONDS (default 5).";

const shownKey = (issued: IssuedApiKey) => ({
  id: issued.id,
  key: issued.key,
  start: issued.start,
  last_four: issued.lastFour,
  created_at: issued.createdAt,
});

const projectView = (project: Project) => ({
  id: project.id,
  name: project.name,
  organization_id: String(project.organizationId),
  organization_name: project.organizationName,
});

export function consoleAdminRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { projects, audit } = context;
  const keys = { tags: ["API Keys"], security: ADMIN_SECURITY };
  return async (app) => {
    app.addHook("onRequest", context.adminAuth);

    app.get(
      "/api_keys",
      {
        schema: {
          ...keys,
          operationId: "connect_hub_list_api_keys",
          summary: "List the project's API keys",
          description: "Oldest first, revoked ones included; never the keys themselves.",
          querystring: PageQuery(),
          response: { 200: Type.Array(ApiKeySummary), ...ERRORS },
        },
      },
      async (request) => {
        return projects.listProjectApiKeys(principalOf(request).projectId, pageOf(request.query));
      },
    );

    app.post(
      "/api_keys",
      {
        config: { audit: { action: "api_key.created", targetType: "api_key", targetId: fromAnswer() } },
        schema: {
          ...keys,
          operationId: "connect_hub_create_api_key",
          summary: "Create an API key",
          description: "The key is in this answer only; it is stored as a hash.",
          response: { 201: ApiKeyCreated, ...ERRORS },
        },
      },
      async (request, reply) => {
        reply.code(201);
        return shownKey(await projects.createProjectApiKey(principalOf(request).projectId));
      },
    );

    app.post(
      "/api_keys/:id/rotate",
      {
        config: {
          audit: {
            action: "api_key.rotated",
            targetType: "api_key",
            targetId: fromParam("id"),
            details: (_request, answer) => ({ new_key_id: (answer as { id?: string } | undefined)?.id }),
          },
        },
        schema: {
          ...keys,
          operationId: "connect_hub_rotate_api_key",
          summary: "Replace an API key with a new one",
          description: `Answers 201 with the new key (shown only here); the old key is revoked at the same moment. ${KEY_CACHE_NOTE}`,
          params: IdParams,
          response: { 201: ApiKeyCreated, ...ERRORS },
        },
      },
      async (request, reply) => {
        const rotated = await projects.rotateProjectApiKey(principalOf(request).projectId, request.params.id);
        if (!rotated) throw new ApiError(404, "API key does not exist or was already revoked");
        reply.code(201);
        return shownKey(rotated);
      },
    );

    app.delete(
      "/api_keys/:id",
      {
        config: { audit: { action: "api_key.revoked", targetType: "api_key", targetId: fromParam("id") } },
        schema: {
          ...keys,
          operationId: "connect_hub_revoke_api_key",
          summary: "Revoke an API key",
          description: `Answers 204; the key then gets 401. A key cannot revoke itself (400), so a client cannot lock itself out by mistake. ${KEY_CACHE_NOTE}`,
          params: IdParams,
          response: { 204: { type: "null" }, ...ERRORS },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.apiKeyId === request.params.id) {
          throw new ApiError(
            400,
            "id: an API key cannot revoke itself; revoke it with another key or the console",
          );
        }
        if (!(await projects.revokeProjectApiKey(principal.projectId, request.params.id))) {
          throw new ApiError(404, "API key does not exist or was already revoked");
        }
        return reply.code(204).send();
      },
    );

    app.get(
      "/projects",
      {
        config: { adminScope: "any" },
        schema: {
          tags: ["Console"],
          security: ADMIN_SECURITY,
          operationId: "connect_hub_list_projects",
          summary: "List the projects the caller may see",
          description:
            "An API key or a project's console session sees its own project; an all-projects console session sees every project.",
          querystring: PageQuery(),
          response: { 200: Type.Array(ProjectSummary), ...ERRORS },
        },
      },
      async (request) => {
        const caller = adminCallerOf(request);
        const page = pageOf(request.query);
        if (caller.scope !== "all") {
          const own = page.offset === 0 ? await projects.findProject(caller.scope.projectId) : undefined;
          return own ? [projectView(own)] : [];
        }
        return (await projects.listProjects(page)).map(projectView);
      },
    );

    app.get(
      "/audit_events",
      {
        schema: {
          tags: ["Audit Log"],
          security: ADMIN_SECURITY,
          operationId: "connect_hub_list_audit_events",
          summary: "List the audit log",
          description:
            "Every successful change made through the admin API (API key or console) and every console sign-in, sign-out and session revocation, newest first. Viewers may read it. All-projects console sessions also see the events about every project (their sign-ins).",
          querystring: AuditQuery,
          response: { 200: Type.Array(AuditEvent), ...ERRORS },
        },
      },
      async (request) => {
        const caller = adminCallerOf(request);
        return audit.list(
          { projectId: principalOf(request).projectId, includeUnscoped: caller.scope === "all" },
          {
            action: request.query.action,
            actorType: request.query.actor_type,
            targetId: request.query.target_id,
          },
          pageOf(request.query),
        );
      },
    );
  };
}
