/**
 * Wire schemas of the Accounts API (`contract/stackone-wire.md` section 3): a bare array on
 * list, 200 on every operation (DELETE answers with the deleted account).
 */
import { type Static, Type } from "@sinclair/typebox";
import { Nullable, PageQuery, StringEnum, Timestamp } from "../http/schema-types.js";
import { ACCOUNT_EVENT_TYPES } from "./history.js";

export const ACCOUNT_STATUSES = ["active", "inactive", "suspended", "archived", "expired", "error"] as const;
export const PAGE_SIZE = { default: 25, max: 100 } as const;

const FreeObject = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const StatusReason = Type.Object({
  code: Nullable(Type.String()),
  description: Nullable(Type.String()),
  timestamp: Timestamp,
});

export const LinkedAccount = Type.Object(
  {
    id: Type.String(),
    provider: Type.String(),
    provider_name: Nullable(Type.String()),
    status: StringEnum(ACCOUNT_STATUSES),
    status_reasons: Nullable(Type.Array(StatusReason)),
    origin_owner_id: Type.String(),
    origin_owner_name: Type.String(),
    origin_username: Nullable(Type.String()),
    setup_information: Nullable(
      FreeObject(
        "Non-secret values of the connection: those given when connecting (e.g. a subdomain) and the connection metadata the provider returned (e.g. Salesforce's instance_url, QuickBooks' realm_id).",
      ),
    ),
    label: Nullable(Type.String()),
    type: Nullable(Type.String()),
    metadata: Nullable(FreeObject("Copied from the connect session; merged by PATCH.")),
    auth_type: StringEnum(["oauth2", "api_key", "basic"] as const),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: "LinkedAccount", description: "A linked account. Credentials are never part of it." },
);

const StringList = (description: string) =>
  Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100, description });

/** Longest `search` accepted: a substring, not a document. */
export const SEARCH_MAX_LENGTH = 100;

export const ListAccountsQuery = Type.Object({
  search: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: SEARCH_MAX_LENGTH,
      description:
        "Connect Hub only: accounts whose origin owner id, origin owner name or label contains this text (ASCII letters match in either case).",
    }),
  ),
  origin_owner_id: Type.Optional(Type.String({ maxLength: 255 })),
  origin_owner_ids: Type.Optional(
    StringList("Repeat the key for several: origin_owner_ids=a&origin_owner_ids=b"),
  ),
  provider: Type.Optional(Type.String({ maxLength: 64, description: "Deprecated: use providers." })),
  providers: Type.Optional(StringList("Repeat the key for several.")),
  account_ids: Type.Optional(StringList("Repeat the key for several.")),
  status: Type.Optional(Type.Array(StringEnum(ACCOUNT_STATUSES), { maxItems: 6 })),
  page: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: "1-based page number." }),
  ),
  page_size: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: PAGE_SIZE.max,
      default: PAGE_SIZE.default,
      description: "At most 100.",
    }),
  ),
});
export type ListAccountsQuery = Static<typeof ListAccountsQuery>;

export const AccountIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) });

export const PatchAccount = Type.Object(
  {
    provider: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    origin_owner_id: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
    origin_owner_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255 }))),
    origin_username: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
    credentials: Type.Optional(Nullable(FreeObject("Credential values to replace; {} changes nothing."))),
    setup_information: Type.Optional(Nullable(FreeObject("Setup values to merge; {} changes nothing."))),
    secrets: Type.Optional(Nullable(FreeObject("Accepted for compatibility and ignored."))),
    authentication_config_key: Type.Optional(Nullable(Type.String())),
    environment: Type.Optional(Nullable(Type.String())),
    label: Type.Optional(
      Type.Unsafe<string | Record<string, unknown> | null>({
        type: ["string", "object", "null"],
        maxLength: 255,
        description: "A string sets the label; an object (what StackOne's SDK 4.28.0 sends) changes nothing.",
      }),
    ),
    metadata: Type.Optional(
      Nullable(FreeObject("Keys to merge; a null value removes the key; {} changes nothing.")),
    ),
    type: Type.Optional(
      Nullable(Type.String({ description: "Ignored: an account's type is set when it is connected." })),
    ),
    integration_id: Type.Optional(Nullable(Type.String())),
  },
  { $id: "PatchAccount", additionalProperties: true },
);
export type PatchAccount = Static<typeof PatchAccount>;

export const AccountMeta = Type.Object(
  { provider: Type.String(), category: Type.String(), models: FreeObject("Reserved; always {}.") },
  { $id: "AccountMeta" },
);

export const AccountCredentials = Type.Object(
  {
    id: Type.String(),
    provider: Type.String(),
    auth_type: StringEnum(["oauth2", "api_key", "basic"] as const),
    credentials: FreeObject(
      "oauth2: access_token, token_type, scope, expires_at; api_key and basic: the values of the provider's fields.",
    ),
    expires_at: Nullable(Timestamp),
    setup_information: Nullable(FreeObject("Non-secret setup values.")),
  },
  {
    $id: "AccountCredentials",
    description: "Credentials ready to use: an expired OAuth2 token is refreshed first.",
  },
);

export const AccountVerification = Type.Object(
  {
    account: Type.Ref(LinkedAccount),
    verification: Type.Object({
      result: StringEnum(["verified", "refused", "failed", "unreachable", "invalid"] as const, {
        description:
          "verified: the provider accepted the credentials (the account is `active`); refused: it answered 401/403; failed: another status; invalid: the request could not be built from the account's values (all three put the account in `error`); unreachable: no answer, nothing changed.",
      }),
      status_code: Nullable(Type.Integer({ description: "The provider's HTTP status, when it answered." })),
      message: Type.String(),
      checked_at: Timestamp,
    }),
  },
  { $id: "AccountVerification", description: "The account after a verification, and its outcome." },
);

export const HISTORY_PAGE_SIZE = 25;
export const AccountHistoryQuery = PageQuery(HISTORY_PAGE_SIZE);

export const AccountEvent = Type.Object(
  {
    id: Type.Integer(),
    type: StringEnum(ACCOUNT_EVENT_TYPES, {
      description:
        "created / reauthorized: through a connect session; refreshed: its OAuth2 token was renewed; refresh_failed: renewing it failed; verified / verification_failed: POST /accounts/{id}/verify; updated: PATCH /accounts/{id}.",
    }),
    occurred_at: Timestamp,
    status_before: Nullable(StringEnum(ACCOUNT_STATUSES, { description: "null for `created`." })),
    status_after: StringEnum(ACCOUNT_STATUSES),
    reason: Nullable(
      Type.Object(
        { code: Nullable(Type.String()), description: Nullable(Type.String()) },
        { description: "Why the status is what it is after the event (failures)." },
      ),
    ),
    details: Nullable(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description:
            "For `updated`: `fields`, the names of the fields changed (never their values). For `refreshed` of an active account: `refreshes` and `first_refreshed_at`; refreshes in a row are one event whose `occurred_at` is the latest.",
        },
      ),
    ),
  },
  { $id: "AccountEvent", description: "One change of a linked account." },
);

/** Response schemas referenced by `$ref`: registered once, at the root of the app. */
export const ACCOUNT_SHARED_SCHEMAS = [
  LinkedAccount,
  AccountMeta,
  AccountCredentials,
  AccountVerification,
  AccountEvent,
];
