/**
 * StackOne's connector metadata (`GET /connectors/meta`, `/connectors/meta/{provider}`), what
 * the official SDK's `connectors.listConnectorsMeta` and `getConnectorMeta` read: every
 * provider in the catalog, `active` when the project has it enabled and ready.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { principalOf } from "../http/auth.js";
import { ApiError } from "../http/errors.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses } from "../http/schema-types.js";
import type { CatalogProvider } from "../providers/catalog.js";

const ConnectorMeta = Type.Object(
  {
    provider: Type.String(),
    provider_name: Type.String(),
    category: Type.String({ description: "The provider's first category." }),
    active: Type.Boolean({ description: "Whether the project has the integration enabled and ready." }),
    models: Type.Object(
      {},
      { additionalProperties: true, description: "Always empty: Connect Hub has no unified models." },
    ),
    resources: Type.Object({
      images: Type.Object({ logo_url: Type.String({ format: "uri" }) }),
    }),
  },
  { description: "StackOne's connector metadata, snake_case on the wire." },
);

const ERRORS = errorResponses(400, 401, 404, 429);
const TAGS = ["Connectors"];

export function connectorRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { catalog, integrations, config } = context;
  const toMeta = (provider: CatalogProvider, active: boolean) => ({
    provider: provider.key,
    provider_name: provider.name,
    category: provider.categories[0] ?? "unknown",
    active,
    models: {},
    resources: { images: { logo_url: `${config.publicUrl}/connect/logos/${provider.key}.svg` } },
  });
  const activeKeys = async (projectId: string) =>
    new Set((await integrations.usableProviders(projectId)).map(({ provider }) => provider.key));

  return async (app) => {
    app.addHook("onRequest", context.adminAuth);

    app.get(
      "/connectors/meta",
      {
        schema: {
          operationId: "stackone_list_connectors_meta",
          summary: "List Connectors Meta Information",
          description: "Every provider of the catalog. `include` is accepted and ignored.",
          tags: TAGS,
          security: ADMIN_SECURITY,
          querystring: Type.Object({ include: Type.Optional(Type.String({ maxLength: 500 })) }),
          response: { 200: Type.Array(ConnectorMeta), ...ERRORS },
        },
      },
      async (request) => {
        const active = await activeKeys(principalOf(request).projectId);
        return catalog.list().map((provider) => toMeta(provider, active.has(provider.key)));
      },
    );

    app.get(
      "/connectors/meta/:provider",
      {
        schema: {
          operationId: "stackone_get_connector_meta",
          summary: "Get Connector Meta Information",
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: Type.Object({ provider: Type.String({ minLength: 1, maxLength: 64 }) }),
          querystring: Type.Object({ include: Type.Optional(Type.String({ maxLength: 500 })) }),
          response: { 200: ConnectorMeta, ...ERRORS },
        },
      },
      async (request) => {
        const provider = catalog.get(request.params.provider);
        if (!provider) throw new ApiError(404, `Provider ${request.params.provider} does not exist`);
        const active = await activeKeys(principalOf(request).projectId);
        return toMeta(provider, active.has(provider.key));
      },
    );
  };
}
