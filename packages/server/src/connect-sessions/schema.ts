/**
 * Wire schemas of the Connect Sessions API, exactly as StackOne's SDKs send and parse them
 * (`contract/stackone-wire.md` section 1). The same schemas validate requests, shape responses
 * and generate the OpenAPI document.
 */
import { type Static, Type } from "@sinclair/typebox";
import type { OrganizationIdType } from "../config.js";
import { Nullable, PageQuery, StringEnum, Timestamp } from "../http/schema-types.js";

export const CATEGORIES = [
  "ats",
  "hris",
  "hris-legacy",
  "crm",
  "iam",
  "marketing",
  "lms",
  "stackone",
  "documents",
  "ticketing",
  "screening",
  "messaging",
  "accounting",
  "scheduling",
] as const;
export type Category = (typeof CATEGORIES)[number];

export const CONNECT_SESSION_STATUSES = ["pending", "completed", "expired", "cancelled"] as const;
export const SESSION_TYPES = ["production", "test"] as const;

/** Bounds of `expires_in`, in seconds: at least one second, at most 30 days. */
export const EXPIRES_IN = { default: 1800, min: 1, max: 30 * 24 * 3600 } as const;

const ShortText = (description: string) => Type.String({ minLength: 1, maxLength: 255, description });
const OptionalText = (description: string) =>
  Type.Optional(Nullable(Type.String({ maxLength: 255, description })));

const CategoryList = Type.Array(StringEnum(CATEGORIES), {
  maxItems: CATEGORIES.length,
  description: "Restricts the connect page to these categories.",
});

export const ConnectSessionCreate = Type.Object(
  {
    origin_owner_id: ShortText("Your customer's id: the owner of the account to be connected."),
    origin_owner_name: ShortText("Your customer's name."),
    origin_username: OptionalText("The name of the user who connects the account."),
    provider: OptionalText("Opens the connect page directly at this provider (e.g. `bamboohr`)."),
    provider_version: OptionalText("Deprecated: kept for compatibility and stored as given."),
    categories: Type.Optional(Nullable(CategoryList)),
    account_id: OptionalText("Re-authorize this existing linked account."),
    expires_in: Type.Optional(
      Nullable(
        Type.Integer({
          minimum: EXPIRES_IN.min,
          maximum: EXPIRES_IN.max,
          default: EXPIRES_IN.default,
          description: `Lifetime of the token in seconds, ${EXPIRES_IN.min} to ${EXPIRES_IN.max} (30 days); default ${EXPIRES_IN.default}.`,
        }),
      ),
    ),
    metadata: Type.Optional(
      Nullable(
        Type.Object(
          {},
          { additionalProperties: true, description: "Free-form JSON copied onto the account." },
        ),
      ),
    ),
    multiple: Type.Optional(
      Nullable(
        Type.Boolean({
          default: false,
          description: "Allow another account for the same origin owner and provider.",
        }),
      ),
    ),
    label: OptionalText("A label stored on the resulting account."),
    type: Type.Optional(Nullable(StringEnum(SESSION_TYPES, { description: 'Default "production".' }))),
    integration_id: OptionalText("Restricts the connect page to this integration."),
  },
  { $id: "ConnectSessionCreate", additionalProperties: true },
);
export type ConnectSessionCreate = Static<typeof ConnectSessionCreate>;

export const ConnectSessionAuthenticate = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512, description: "The connect session token." }) },
  { $id: "ConnectSessionAuthenticate", additionalProperties: true },
);
export type ConnectSessionAuthenticate = Static<typeof ConnectSessionAuthenticate>;

function sessionProperties(organizationIdType: OrganizationIdType) {
  return {
    id: Type.Integer(),
    organization_id:
      organizationIdType === "number"
        ? Type.Integer({ description: "A JSON number (ORGANIZATION_ID_TYPE=number)." })
        : Type.String({ description: "A JSON string (set ORGANIZATION_ID_TYPE=number for a number)." }),
    project_id: Type.String(),
    categories: Nullable(Type.Array(Type.String())),
    provider: Nullable(Type.String()),
    provider_version: Nullable(Type.String()),
    origin_owner_id: Type.String(),
    origin_owner_name: Type.String(),
    origin_username: Nullable(Type.String()),
    account_id: Nullable(Type.String()),
    integration_id: Nullable(Type.String()),
    label: Nullable(Type.String()),
    multiple: Type.Boolean(),
    metadata: Nullable(Type.Object({}, { additionalProperties: true })),
    external_trigger_token: Nullable(Type.String()),
    type: Nullable(Type.String()),
    status: StringEnum(CONNECT_SESSION_STATUSES, { description: "Where the session's flow stands." }),
    account: Nullable(
      Type.Object(
        { id: Type.String(), provider: Type.String() },
        {
          description:
            "The linked account the session produced, once completed: poll authenticate to see it.",
        },
      ),
    ),
    created_at: Timestamp,
    expires_at: Timestamp,
  };
}

export function connectSessionSchemas(organizationIdType: OrganizationIdType) {
  const properties = sessionProperties(organizationIdType);
  const ConnectSession = Type.Object(properties, {
    $id: "ConnectSession",
    description: "A connect session, as `authenticate` returns it.",
  });
  const ConnectSessionTokenAuthLink = Type.Object(
    {
      ...properties,
      token: Type.String({ description: "The session token for the connect page; shown only here." }),
      auth_link_url: Type.String({ description: "The hosted connect page for this session." }),
    },
    { $id: "ConnectSessionTokenAuthLink", description: "A new connect session with its token and link." },
  );
  return { ConnectSession, ConnectSessionTokenAuthLink };
}

/** The states the console's list shows (derived from status, expiry and the first opening). */
export const CONNECT_SESSION_STATES = ["pending", "opened", "completed", "expired"] as const;
export const SESSION_LIST_PAGE_SIZE = 25;

export const ConnectSessionSummary = Type.Object(
  {
    id: Type.Integer(),
    state: StringEnum(CONNECT_SESSION_STATES, {
      description:
        "pending: not opened yet; opened: its link was used by the connect page or the embedded hub; completed: it linked an account; expired: its expiry passed without a connection.",
    }),
    provider: Nullable(
      Type.String({
        description: "The provider the session was for, or else the provider of the account it linked.",
      }),
    ),
    categories: Nullable(Type.Array(Type.String())),
    origin_owner_id: Type.String(),
    origin_owner_name: Type.String(),
    label: Nullable(Type.String()),
    account_id: Nullable(Type.String({ description: "The linked account it produced, once completed." })),
    created_at: Timestamp,
    opened_at: Nullable(Timestamp),
    completed_at: Nullable(Timestamp),
    expires_at: Timestamp,
  },
  {
    $id: "ConnectSessionSummary",
    description: "A connect session as the console lists it (never its token).",
  },
);

export const ListConnectSessionsQuery = Type.Object({
  state: Type.Optional(StringEnum(CONNECT_SESSION_STATES)),
  origin_owner_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  ...PageQuery(SESSION_LIST_PAGE_SIZE).properties,
});
export type ListConnectSessionsQuery = Static<typeof ListConnectSessionsQuery>;

export const ConnectSessionIdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** Response schemas referenced by `$ref`: registered once, at the root of the app. */
export const CONNECT_SESSION_SHARED_SCHEMAS = [ConnectSessionSummary];
