/** Admin routes for the provider catalog, the project's integrations and its settings. */

import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { changedFields, fromParam } from "../console/audit.js";
import { principalOf } from "../http/auth.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses, PageQuery, pageOf, slicePage } from "../http/schema-types.js";
import {
  Integration,
  IntegrationChanges,
  ProjectChanges,
  ProjectSettings,
  ProviderParams,
  ProviderSummary,
} from "./schema.js";

const ERRORS = errorResponses(400, 401, 404, 408, 413, 414, 415, 429, 500, 503);

export function integrationRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { integrations, projects, catalog } = context;
  const auth = { tags: ["Integrations"], security: ADMIN_SECURITY };
  return async (app) => {
    app.addHook("onRequest", context.adminAuth);

    app.get(
      "/providers",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_list_providers",
          summary: "List the provider catalog",
          description: "Paginated with `page` and `page_size`; a page shorter than `page_size` is the last.",
          querystring: PageQuery(),
          response: { 200: Type.Array(Type.Ref(ProviderSummary)), ...ERRORS },
        },
      },
      async (request) =>
        slicePage(catalog.list(), pageOf(request.query)).map((provider) => ({
          key: provider.key,
          name: provider.name,
          categories: [...provider.categories],
          description: provider.description,
          auth_type: provider.auth.type,
          website: provider.website,
          verification: provider.api?.verify !== undefined,
          sandbox: provider.sandbox === true,
        })),
    );

    app.get(
      "/integrations",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_list_integrations",
          summary: "List the project's integrations",
          description: "Paginated with `page` and `page_size`; a page shorter than `page_size` is the last.",
          querystring: PageQuery(),
          response: { 200: Type.Array(Type.Ref(Integration)), ...ERRORS },
        },
      },
      async (request) =>
        slicePage(await integrations.list(principalOf(request).projectId), pageOf(request.query)),
    );

    app.get(
      "/integrations/:provider",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_get_integration",
          summary: "Get an integration",
          params: ProviderParams,
          response: { 200: Type.Ref(Integration), ...ERRORS },
        },
      },
      async (request) => integrations.get(principalOf(request).projectId, request.params.provider),
    );

    app.put(
      "/integrations/:provider",
      {
        config: {
          audit: {
            action: "integration.updated",
            targetType: "integration",
            targetId: fromParam("provider"),
            details: changedFields,
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_configure_integration",
          summary: "Enable or configure an integration",
          description:
            "Creates or changes the project's integration with a catalog provider. OAuth2 providers need `client_id` and `client_secret` from your app at the provider; the secret is encrypted at rest and never returned. `verify_credentials: false` saves entered credentials without checking them with the provider.",
          params: ProviderParams,
          body: IntegrationChanges,
          response: { 200: Type.Ref(Integration), ...ERRORS },
        },
      },
      async (request) =>
        integrations.configure(principalOf(request).projectId, request.params.provider, request.body),
    );

    app.delete(
      "/integrations/:provider",
      {
        config: {
          audit: {
            action: "integration.deleted",
            targetType: "integration",
            targetId: fromParam("provider"),
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_delete_integration",
          summary: "Remove an integration",
          description:
            "Linked accounts stay; the provider is no longer offered and its OAuth tokens no longer refresh.",
          params: ProviderParams,
          response: { 200: Type.Ref(Integration), ...ERRORS },
        },
      },
      async (request) => integrations.remove(principalOf(request).projectId, request.params.provider),
    );

    app.get(
      "/project",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_get_project",
          summary: "Get the project's settings",
          response: { 200: Type.Ref(ProjectSettings), ...ERRORS },
        },
      },
      async (request) => projects.settings(principalOf(request).projectId),
    );

    app.patch(
      "/project",
      {
        config: {
          audit: {
            action: "project.updated",
            targetType: "project",
            targetId: (request) => request.principal?.projectId,
            details: changedFields,
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_update_project",
          summary: "Change the project's settings",
          body: ProjectChanges,
          response: { 200: Type.Ref(ProjectSettings), ...ERRORS },
        },
      },
      async (request) => projects.updateSettings(principalOf(request).projectId, request.body),
    );
  };
}
