/**
 * Wire schemas of the webhook admin API, and of the events themselves: the same schemas feed
 * the OpenAPI document's `webhooks` section, so the documented payloads are the sent ones.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { LinkedAccount } from "../accounts/schema.js";
import type { OrganizationIdType } from "../config.js";
import { connectSessionSchemas } from "../connect-sessions/schema.js";
import { MAX_PAGE_SIZE, Nullable, PageQuery, StringEnum, Timestamp } from "../http/schema-types.js";

export const WEBHOOK_EVENT_TYPES = [
  "account.created",
  "account.updated",
  "account.deleted",
  "account.credentials_refresh_failed",
  "connect_session.completed",
  "connect_session.expired",
  "webhook_endpoint.disabled",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/**
 * Sent only by POST /webhooks/endpoints/{id}/test, to that endpoint whatever its `events`:
 * not something to subscribe to, so it is not in WEBHOOK_EVENT_TYPES.
 */
export const TEST_EVENT_TYPE = "webhook.test";
/** Every type an endpoint may receive, as the OpenAPI `webhooks` section documents them. */
export const SENT_EVENT_TYPES = [...WEBHOOK_EVENT_TYPES, TEST_EVENT_TYPE] as const;
export type SentEventType = (typeof SENT_EVENT_TYPES)[number];
/** Subscribes an endpoint to every event type, including ones added later. */
export const ALL_EVENTS = "*";

const EventTypeList = Type.Array(StringEnum([ALL_EVENTS, ...WEBHOOK_EVENT_TYPES] as const), {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length + 1,
  uniqueItems: true,
  description: `Event types to receive; "${ALL_EVENTS}" for all (the default).`,
});

export const WebhookEndpoint = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    description: Nullable(Type.String()),
    events: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    disabled_reason: Nullable(
      Type.String({ description: "`failing` when every attempt failed for WEBHOOK_DISABLE_AFTER." }),
    ),
    consecutive_failures: Type.Integer(),
    failing_since: Nullable(Timestamp),
    previous_secret_expires_at: Nullable(
      Type.String({
        format: "date-time",
        description: "Until then, the secret before the last rotation also signs every delivery.",
      }),
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: "WebhookEndpoint", description: "A webhook endpoint. Its signing secret is shown only once." },
);

export const WebhookEndpointWithSecret = Type.Object(
  {
    ...WebhookEndpoint.properties,
    secret: Type.String({
      description: "The signing secret (`whsec_...`), shown only at creation and rotation: store it now.",
    }),
  },
  { $id: "WebhookEndpointWithSecret" },
);

const Url = Type.String({ minLength: 1, maxLength: 2000, description: "An http(s) URL on a public host." });

export const WebhookEndpointCreate = Type.Object(
  {
    url: Url,
    events: Type.Optional(EventTypeList),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  },
  { $id: "WebhookEndpointCreate", additionalProperties: false },
);
export type WebhookEndpointCreate = Static<typeof WebhookEndpointCreate>;

export const WebhookEndpointChanges = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(EventTypeList),
    enabled: Type.Optional(
      Type.Boolean({ description: "true re-enables a disabled endpoint; its pending deliveries resume." }),
    ),
    description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  },
  { $id: "WebhookEndpointChanges", additionalProperties: false },
);
export type WebhookEndpointChanges = Static<typeof WebhookEndpointChanges>;

export const DEFAULT_ROTATION_OVERLAP_SECONDS = 86_400;

export const RotateSecret = Type.Object(
  {
    overlap_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 7 * 86_400,
        default: DEFAULT_ROTATION_OVERLAP_SECONDS,
        description: "How long the old secret keeps signing beside the new one (default 24 hours).",
      }),
    ),
  },
  { $id: "RotateSecret", additionalProperties: false },
);

export const WebhookAttempt = Type.Object(
  {
    id: Type.Integer(),
    delivery_id: Type.Integer(),
    event_id: Type.String({ description: "The `webhook-id` header sent." }),
    event_type: Type.String(),
    attempted_at: Timestamp,
    status_code: Nullable(Type.Integer({ description: "null when no answer came." })),
    latency_ms: Type.Integer(),
    succeeded: Type.Boolean(),
    error: Nullable(Type.String()),
  },
  { $id: "WebhookAttempt" },
);

export const WebhookDelivery = Type.Object(
  {
    id: Type.Integer(),
    endpoint_id: Type.String(),
    event_id: Type.String(),
    status: StringEnum(["pending", "succeeded", "failed"] as const, {
      description: "`failed`: every attempt of the retry schedule failed.",
    }),
    attempts: Type.Integer(),
    next_attempt_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: "WebhookDelivery" },
);

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export const DELIVERIES_PAGE_SIZE = 25;

export const WebhookDeliverySummary = Type.Object(
  {
    id: Type.Integer(),
    event_id: Type.String({ description: "The `webhook-id` header sent." }),
    event_type: Type.String(),
    endpoint_id: Type.String(),
    status: StringEnum(DELIVERY_STATUSES, {
      description: "`failed`: every attempt of the retry schedule failed.",
    }),
    attempts: Type.Integer({ description: "Attempts since the delivery was created or last replayed." }),
    last_status_code: Nullable(
      Type.Integer({ description: "The endpoint's status at the last attempt; null when no answer came." }),
    ),
    last_latency_ms: Nullable(Type.Integer()),
    last_error: Nullable(Type.String()),
    last_attempt_at: Nullable(Timestamp),
    next_attempt_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: "WebhookDeliverySummary", description: "A delivery with the outcome of its last attempt." },
);

export const DeliveriesQuery = Type.Object({
  endpoint_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(StringEnum(DELIVERY_STATUSES)),
  ...PageQuery(DELIVERIES_PAGE_SIZE).properties,
});
export type DeliveriesQuery = Static<typeof DeliveriesQuery>;

export const EndpointIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export const DeliveryIdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export const ATTEMPTS_PAGE_SIZE = 50;
export const AttemptsQuery = Type.Object({
  ...PageQuery(ATTEMPTS_PAGE_SIZE).properties,
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, description: "Deprecated: use page_size." }),
  ),
});
export const EndpointsQuery = PageQuery();

/** Response schemas referenced by `$ref`: registered once, at the root of the app. */
export const WEBHOOK_SHARED_SCHEMAS = [
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliverySummary,
];

const OriginOwner = Type.Object(
  { id: Type.String(), name: Type.String(), username: Nullable(Type.String()) },
  { description: "Your customer the account or session belongs to." },
);

function inline(schema: TSchema): TSchema {
  const { $id: _id, ...rest } = structuredClone(schema) as TSchema & { $id?: string };
  return rest as TSchema;
}

function envelope(type: SentEventType, data: TSchema) {
  return Type.Object({
    type: Type.Literal(type),
    timestamp: Timestamp,
    data,
  });
}

const EVENT_DESCRIPTIONS: Record<SentEventType, string> = {
  "account.created": "A connect session linked a new account.",
  "account.updated":
    "An account changed: re-authorized through a connect session, or changed with PATCH /accounts/{id}.",
  "account.deleted": "An account was deleted (DELETE /accounts/{id}); `data.account` is how it was.",
  "account.credentials_refresh_failed":
    "Refreshing the account's OAuth2 token failed and the account went into `error`; its `status_reasons` say why. Sent when the account enters `error`, not again on every later failure.",
  "connect_session.completed":
    "A connect session ended with a linked account (`data.connect_session.account`).",
  "connect_session.expired": "A connect session expired without connecting an account.",
  "webhook_endpoint.disabled":
    "Another endpoint of the project was disabled because every attempt to it failed for WEBHOOK_DISABLE_AFTER.",
  "webhook.test":
    "A test event, sent to one endpoint only when asked with POST /webhooks/endpoints/{id}/test (whatever the endpoint's `events`), signed like every other: answer 2xx to show the endpoint works.",
};

/** The event payloads, by type. */
export function webhookEventSchemas(organizationIdType: OrganizationIdType): Record<SentEventType, TSchema> {
  const account = Type.Object({ account: inline(LinkedAccount), origin_owner: OriginOwner });
  const session = Type.Object({
    connect_session: inline(connectSessionSchemas(organizationIdType).ConnectSession),
    origin_owner: OriginOwner,
  });
  const endpoint = Type.Object({ endpoint: inline(WebhookEndpoint), reason: Type.String() });
  return {
    "account.created": envelope("account.created", account),
    "account.updated": envelope("account.updated", account),
    "account.deleted": envelope("account.deleted", account),
    "account.credentials_refresh_failed": envelope("account.credentials_refresh_failed", account),
    "connect_session.completed": envelope("connect_session.completed", session),
    "connect_session.expired": envelope("connect_session.expired", session),
    "webhook_endpoint.disabled": envelope("webhook_endpoint.disabled", endpoint),
    "webhook.test": envelope(
      "webhook.test",
      Type.Object({ endpoint: inline(WebhookEndpoint), message: Type.String() }),
    ),
  };
}

const SIGNATURE_HEADERS = [
  ["webhook-id", "The event's id (`msg_...`): the same on every retry; deduplicate on it."],
  ["webhook-timestamp", "Unix seconds when this attempt was signed; reject ones far from now (5 minutes)."],
  [
    "webhook-signature",
    'Space-separated `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`, one per signing secret.',
  ],
] as const;

/** The OpenAPI 3.1 `webhooks` object: one entry per event type. */
export function openApiWebhooks(organizationIdType: OrganizationIdType): Record<string, unknown> {
  const schemas = webhookEventSchemas(organizationIdType);
  return Object.fromEntries(
    SENT_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: type,
          description: `${EVENT_DESCRIPTIONS[type]} Signed per Standard Webhooks; verify with the SDK's verifyWebhook or the standardwebhooks package. Answer 2xx within the timeout; anything else is retried.`,
          tags: ["Webhooks"],
          parameters: SIGNATURE_HEADERS.map(([name, description]) => ({
            name,
            in: "header",
            required: true,
            description,
            schema: { type: "string" },
          })),
          requestBody: { required: true, content: { "application/json": { schema: schemas[type] } } },
          responses: { "200": { description: "Any 2xx acknowledges the event." } },
        },
      },
    ]),
  );
}
