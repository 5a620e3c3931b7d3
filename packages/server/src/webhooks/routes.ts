/** Admin routes for webhook endpoints and their deliveries (API key auth). */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { changedFields, fromAnswer, fromParam } from "../console/audit.js";
import { principalOf } from "../http/auth.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses, pageOf } from "../http/schema-types.js";
import {
  ATTEMPTS_PAGE_SIZE,
  AttemptsQuery,
  DELIVERIES_PAGE_SIZE,
  DeliveriesQuery,
  DeliveryIdParams,
  EndpointIdParams,
  EndpointsQuery,
  RotateSecret,
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliverySummary,
  WebhookEndpoint,
  WebhookEndpointChanges,
  WebhookEndpointCreate,
  WebhookEndpointWithSecret,
} from "./schema.js";

const ERRORS = errorResponses(400, 401, 404, 408, 413, 414, 415, 429, 500, 503);
const PAGINATED = "Paginated with `page` and `page_size`; a page shorter than `page_size` is the last.";
const VERIFY_HINT =
  "Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`): verify them with the SDK's `verifyWebhook` or the `standardwebhooks` package and this secret.";

export function webhookRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { webhooks } = context;
  const auth = { tags: ["Webhooks"], security: ADMIN_SECURITY };
  return async (app) => {
    app.addHook("onRequest", context.adminAuth);

    app.post(
      "/webhooks/endpoints",
      {
        config: {
          audit: {
            action: "webhook_endpoint.created",
            targetType: "webhook_endpoint",
            targetId: fromAnswer(),
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_create_webhook_endpoint",
          summary: "Register a webhook endpoint",
          description: `Answers 201 with the endpoint and its signing secret, shown only here. The URL must be http(s) on a public host (or a \`host:port\` listed in WEBHOOK_ALLOWED_HOSTS). A project has at most WEBHOOK_MAX_ENDPOINTS endpoints (default 20; 409 past it), and registering a URL the project already has answers 409. ${VERIFY_HINT}`,
          body: WebhookEndpointCreate,
          response: { 201: Type.Ref(WebhookEndpointWithSecret), ...errorResponses(409), ...ERRORS },
        },
      },
      async (request, reply) => {
        reply.code(201);
        return webhooks.create(principalOf(request).projectId, request.body);
      },
    );

    app.get(
      "/webhooks/endpoints",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_list_webhook_endpoints",
          summary: "List the project's webhook endpoints",
          description: `Oldest first. ${PAGINATED}`,
          querystring: EndpointsQuery,
          response: { 200: Type.Array(Type.Ref(WebhookEndpoint)), ...ERRORS },
        },
      },
      async (request) => webhooks.list(principalOf(request).projectId, pageOf(request.query)),
    );

    app.get(
      "/webhooks/endpoints/:id",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_get_webhook_endpoint",
          summary: "Get a webhook endpoint",
          params: EndpointIdParams,
          response: { 200: Type.Ref(WebhookEndpoint), ...ERRORS },
        },
      },
      async (request) => webhooks.get(principalOf(request).projectId, request.params.id),
    );

    app.patch(
      "/webhooks/endpoints/:id",
      {
        config: {
          audit: {
            action: "webhook_endpoint.updated",
            targetType: "webhook_endpoint",
            targetId: fromParam("id"),
            details: changedFields,
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_update_webhook_endpoint",
          summary: "Change a webhook endpoint",
          description:
            "`enabled: true` re-enables an endpoint that was disabled for failing: its failure record is cleared and its pending deliveries are sent again.",
          params: EndpointIdParams,
          body: WebhookEndpointChanges,
          response: { 200: Type.Ref(WebhookEndpoint), ...errorResponses(409), ...ERRORS },
        },
      },
      async (request) => webhooks.update(principalOf(request).projectId, request.params.id, request.body),
    );

    app.delete(
      "/webhooks/endpoints/:id",
      {
        config: {
          audit: {
            action: "webhook_endpoint.deleted",
            targetType: "webhook_endpoint",
            targetId: fromParam("id"),
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_delete_webhook_endpoint",
          summary: "Delete a webhook endpoint",
          description: "Its pending deliveries are dropped. Answers 200 with the deleted endpoint.",
          params: EndpointIdParams,
          response: { 200: Type.Ref(WebhookEndpoint), ...ERRORS },
        },
      },
      async (request) => webhooks.remove(principalOf(request).projectId, request.params.id),
    );

    app.post(
      "/webhooks/endpoints/:id/rotate-secret",
      {
        config: {
          audit: {
            action: "webhook_endpoint.secret_rotated",
            targetType: "webhook_endpoint",
            targetId: fromParam("id"),
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_rotate_webhook_secret",
          summary: "Rotate an endpoint's signing secret",
          description:
            "Answers with the new secret, shown only here. During `overlap_seconds` (default 24 hours) every delivery carries two signatures, one per secret, so receivers can switch without dropping one.",
          params: EndpointIdParams,
          body: RotateSecret,
          response: { 200: Type.Ref(WebhookEndpointWithSecret), ...ERRORS },
        },
        // The body is optional: no body means the default overlap.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request) =>
        webhooks.rotateSecret(
          principalOf(request).projectId,
          request.params.id,
          request.body?.overlap_seconds,
        ),
    );

    app.get(
      "/webhooks/endpoints/:id/attempts",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_list_webhook_attempts",
          summary: "List an endpoint's recent delivery attempts",
          description: `Newest first: status code (null when no answer came), latency and error of each. ${PAGINATED} (\`limit\` is the former name of \`page_size\`.)`,
          params: EndpointIdParams,
          querystring: AttemptsQuery,
          response: { 200: Type.Array(Type.Ref(WebhookAttempt)), ...ERRORS },
        },
      },
      async (request) =>
        webhooks.attempts(
          principalOf(request).projectId,
          request.params.id,
          pageOf(
            { ...request.query, page_size: request.query.limit ?? request.query.page_size },
            ATTEMPTS_PAGE_SIZE,
          ),
        ),
    );

    app.post(
      "/webhooks/deliveries/:id/replay",
      {
        config: {
          audit: {
            action: "webhook_delivery.replayed",
            targetType: "webhook_delivery",
            targetId: fromParam("id"),
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_replay_webhook_delivery",
          summary: "Send a delivery again",
          description:
            "Sends the same event (same `webhook-id`, so receivers can deduplicate) to the same endpoint now, with a fresh retry schedule. 409 when the endpoint is disabled.",
          params: DeliveryIdParams,
          response: { 202: Type.Ref(WebhookDelivery), ...errorResponses(409), ...ERRORS },
        },
      },
      async (request, reply) => {
        reply.code(202);
        return webhooks.replay(principalOf(request).projectId, request.params.id);
      },
    );

    app.get(
      "/webhooks/deliveries",
      {
        schema: {
          ...auth,
          operationId: "connect_hub_list_webhook_deliveries",
          summary: "List the project's webhook deliveries",
          description: `Newest first, across the project's endpoints: the event's id and type, the endpoint, the status, attempts, and the last attempt's status code, latency and error. Filters \`endpoint_id\` and \`status\`. ${PAGINATED} (default ${DELIVERIES_PAGE_SIZE}.) Finished deliveries are kept for WEBHOOK_RETENTION.`,
          querystring: DeliveriesQuery,
          response: { 200: Type.Array(Type.Ref(WebhookDeliverySummary)), ...ERRORS },
        },
      },
      async (request) =>
        webhooks.deliveries(
          principalOf(request).projectId,
          request.query,
          pageOf(request.query, DELIVERIES_PAGE_SIZE),
        ),
    );

    app.post(
      "/webhooks/endpoints/:id/test",
      {
        config: {
          audit: {
            action: "webhook_endpoint.test_sent",
            targetType: "webhook_endpoint",
            targetId: fromParam("id"),
          },
        },
        schema: {
          ...auth,
          operationId: "connect_hub_test_webhook_endpoint",
          summary: "Send a test event to an endpoint",
          description:
            "Queues a `webhook.test` event (see `webhooks`) for this endpoint only, whatever its `events`, signed like every other; answers 202 with the delivery, whose outcome GET /webhooks/deliveries shows. 409 when the endpoint is disabled. No request body.",
          params: EndpointIdParams,
          response: { 202: Type.Ref(WebhookDelivery), ...errorResponses(409), ...ERRORS },
        },
      },
      async (request, reply) => {
        reply.code(202);
        return webhooks.sendTest(principalOf(request).projectId, request.params.id);
      },
    );
  };
}
