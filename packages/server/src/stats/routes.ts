/** The console's overview route (admin API): one project's funnel, accounts and deliveries. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { principalOf } from "../http/auth.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses } from "../http/schema-types.js";
import { StatsOverview, StatsOverviewQuery } from "./schema.js";

const ERRORS = errorResponses(400, 401, 408, 414, 429, 500, 503);

export function statsRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook("onRequest", context.adminAuth);

    app.get(
      "/stats/overview",
      {
        schema: {
          operationId: "connect_hub_get_stats_overview",
          summary: "Project overview",
          description:
            "The abandonment funnel of connect sessions (created, opened, completed, expired without a connection) and webhook delivery outcomes per day or week, the project's accounts by provider and how many are in `error`. Session counts belong to the UTC day each session was created and outlive the sessions themselves.",
          tags: ["Stats"],
          security: ADMIN_SECURITY,
          querystring: StatsOverviewQuery,
          response: { 200: Type.Ref(StatsOverview), ...ERRORS },
        },
      },
      async (request) => context.stats.overview(principalOf(request).projectId, request.query),
    );
  };
}
