/**
 * The Accounts models: camelCase in TypeScript, snake_case on the wire
 * (`contract/stackone-wire.md` section 3), with the mapping both ways. Model names are
 * StackOne's (`LinkedAccount`, `LinkedAccountMeta`, `StatusReason`, `PatchAccountExternalDto`).
 *
 * Requests carry only what the caller set. Free-form objects (`metadata`, `setupInformation`,
 * `credentials`) are sent and read back as given, keys included: they are the provider's and
 * your values, not fields of the API, so their keys are never renamed.
 *
 * Responses are checked as lightly as connect sessions: required fields with the right JSON
 * type, dates with `Z` or an offset, and open enums, so values this SDK version does not know
 * yet (a new status, category or auth type) are passed through.
 */
import { toWire, type WireNames, WireReader, withoutUndefined } from "../core/wire.js";
import type { Categories, OpenEnum, Type } from "./connect-sessions.js";

/** Where a linked account stands. */
export const AccountStatus = {
  Active: "active",
  Inactive: "inactive",
  Suspended: "suspended",
  Archived: "archived",
  Expired: "expired",
  Error: "error",
} as const;
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus];

/** How a linked account authenticates to its provider. */
export const AuthType = { OAuth2: "oauth2", ApiKey: "api_key", Basic: "basic" } as const;
export type AuthType = (typeof AuthType)[keyof typeof AuthType];

/** Why an account has its status (for example why it is in `error`). */
export interface StatusReason {
  code?: string | null;
  description?: string | null;
  timestamp: Date;
}

/** A linked account. Its credentials are never part of it: see `getAccountCredentials`. */
export interface LinkedAccount {
  id: string;
  /** The provider's key, e.g. `"bamboohr"`. */
  provider: string;
  status: OpenEnum<AccountStatus>;
  originOwnerId: string;
  originOwnerName: string;
  createdAt: Date;
  updatedAt: Date;
  /** The provider's display name, e.g. `"BambooHR"`. */
  providerName?: string | null;
  statusReasons?: StatusReason[] | null;
  originUsername?: string | null;
  /** Non-secret values given when connecting (e.g. a subdomain); keys as given. */
  setupInformation?: Record<string, unknown> | null;
  label?: string | null;
  type?: OpenEnum<Type> | null;
  /** Copied from the connect session, merged by `updateAccount`; keys as given. Connect Hub's addition. */
  metadata?: Record<string, unknown> | null;
  /** Connect Hub's addition. */
  authType?: OpenEnum<AuthType> | null;
}

/** What `getAccountMetaInfo` returns. */
export interface LinkedAccountMeta {
  provider: string;
  /** The provider's first category; `"unknown"` for a provider no longer in the catalog. */
  category: OpenEnum<Categories>;
  /** Reserved: always `{}` on Connect Hub. */
  models: Record<string, unknown>;
}

/** Credentials ready to call the provider with (Connect Hub only). */
export interface AccountCredentials {
  /** The account's id. */
  id: string;
  provider: string;
  authType: OpenEnum<AuthType>;
  /**
   * The provider's values, keys as the provider names them: for `oauth2` `access_token`,
   * `token_type`, `scope`, `expires_at` (never the refresh token); for `api_key` and `basic`
   * the fields of the provider's form (e.g. `api_key`).
   */
  credentials: Record<string, unknown>;
  /** When the access token expires; `null` for credentials that do not expire. */
  expiresAt: Date | null;
  setupInformation?: Record<string, unknown> | null;
}

/**
 * The filters and page of `listLinkedAccounts`. Only what is set is sent; `null` means "not
 * set", and an empty array filters nothing. Filters combine with AND; the values of one array
 * filter with OR.
 */
export interface ListLinkedAccountsRequest {
  originOwnerId?: string | null;
  originOwnerIds?: readonly string[];
  /** @deprecated StackOne's; use `providers`. */
  provider?: string | null;
  providers?: readonly string[];
  accountIds?: readonly string[];
  status?: readonly AccountStatus[];
  /** 1-based page number (the server's default is 1). */
  page?: number | null;
  /** 1 to 100 accounts per page (the server's default is 25). */
  pageSize?: number | null;
}

/** The account a call addresses. */
export interface AccountIdRequest {
  id: string;
}

/**
 * The body of `updateAccount`. Objects merge into the account's: a key set to `null` is
 * removed, `{}` changes nothing. Only the fields you set are sent.
 */
export interface PatchAccountExternalDto {
  originOwnerId?: string | null;
  originOwnerName?: string | null;
  /** `null` clears it. */
  originUsername?: string | null;
  /** `null` clears it. */
  label?: string | null;
  /** Keys to merge into the account's metadata; a `null` value removes the key. */
  metadata?: Record<string, unknown> | null;
  /** Keys to merge into the account's setup information; a `null` value removes the key. */
  setupInformation?: Record<string, unknown> | null;
  /** Credential values to replace (e.g. a rotated `api_key`); never echoed back. */
  credentials?: Record<string, unknown> | null;
  /** Must be the account's provider if set: a change is refused with 422. */
  provider?: string | null;
  /** @deprecated Ignored by Connect Hub: an account's type is set when it is connected. */
  type?: OpenEnum<Type> | null;
  /** @deprecated StackOne's; accepted and ignored by Connect Hub. */
  secrets?: Record<string, unknown> | null;
  /** @deprecated StackOne's; accepted and ignored by Connect Hub. */
  authenticationConfigKey?: string | null;
  /** @deprecated StackOne's; accepted and ignored by Connect Hub. */
  environment?: string | null;
  /** @deprecated StackOne's; accepted and ignored by Connect Hub. */
  integrationId?: string | null;
}

/** The account to update and the changes. */
export interface UpdateAccountRequest extends AccountIdRequest {
  patchAccountExternalDto: PatchAccountExternalDto;
}

const LIST_WIRE_NAMES: WireNames<ListLinkedAccountsRequest> = {
  originOwnerId: "origin_owner_id",
  originOwnerIds: "origin_owner_ids",
  provider: "provider",
  providers: "providers",
  accountIds: "account_ids",
  status: "status",
  page: "page",
  pageSize: "page_size",
};

const PATCH_WIRE_NAMES: WireNames<PatchAccountExternalDto> = {
  originOwnerId: "origin_owner_id",
  originOwnerName: "origin_owner_name",
  originUsername: "origin_username",
  label: "label",
  metadata: "metadata",
  setupInformation: "setup_information",
  credentials: "credentials",
  provider: "provider",
  type: "type",
  secrets: "secrets",
  authenticationConfigKey: "authentication_config_key",
  environment: "environment",
  integrationId: "integration_id",
};

/** The query of a list: the filters the caller set, by wire name. */
export function listLinkedAccountsToQuery(request: ListLinkedAccountsRequest): Record<string, unknown> {
  return toWire(request, LIST_WIRE_NAMES);
}

/** The wire body of a PATCH: the fields the caller set, renamed; nothing else. */
export function patchAccountToWire(patch: PatchAccountExternalDto): Record<string, unknown> {
  return toWire(patch, PATCH_WIRE_NAMES);
}

export function readLinkedAccount(reader: WireReader): LinkedAccount {
  return withoutUndefined<LinkedAccount>({
    id: reader.string("id"),
    provider: reader.string("provider"),
    status: reader.string("status"),
    originOwnerId: reader.string("origin_owner_id"),
    originOwnerName: reader.string("origin_owner_name"),
    createdAt: reader.date("created_at"),
    updatedAt: reader.date("updated_at"),
    providerName: reader.optionalString("provider_name"),
    statusReasons: reader.optionalList("status_reasons", readStatusReason),
    originUsername: reader.optionalString("origin_username"),
    setupInformation: reader.optionalObject("setup_information"),
    label: reader.optionalString("label"),
    type: reader.optionalString("type"),
    metadata: reader.optionalObject("metadata"),
    authType: reader.optionalString("auth_type"),
  });
}

export function readLinkedAccounts(reader: WireReader): LinkedAccount[] {
  return reader.list(readLinkedAccount);
}

function readStatusReason(reader: WireReader): StatusReason {
  return withoutUndefined<StatusReason>({
    code: reader.optionalString("code"),
    description: reader.optionalString("description"),
    timestamp: reader.date("timestamp"),
  });
}

export function readLinkedAccountMeta(reader: WireReader): LinkedAccountMeta {
  return {
    provider: reader.string("provider"),
    category: reader.string("category"),
    models: reader.object("models"),
  };
}

/** The outcome of `accounts.verify`: see `AccountVerification.verification.result`. */
export type VerificationResult = "verified" | "refused" | "failed" | "unreachable" | "invalid";

/** An account after its credentials were checked again with the provider. */
export interface AccountVerification {
  /** `active` when the provider accepted the credentials; `error` after a refusal. */
  linkedAccount: LinkedAccount;
  verification: {
    /**
     * verified: accepted; refused: 401/403; failed: another status; invalid: the request could
     * not be built from the account's values (these three put the account in `error`);
     * unreachable: no answer, the account is unchanged.
     */
    result: VerificationResult | (string & {});
    statusCode: number | null;
    message: string;
    checkedAt: Date;
  };
}

export function readAccountVerification(reader: WireReader): AccountVerification {
  const verification = new WireReader(reader.object("verification"), "verification", reader.issues);
  const statusCode = reader.object("verification").status_code;
  return {
    linkedAccount: readLinkedAccount(new WireReader(reader.object("account"), "account", reader.issues)),
    verification: {
      result: verification.string("result"),
      statusCode: typeof statusCode === "number" ? statusCode : null,
      message: verification.string("message"),
      checkedAt: verification.date("checked_at"),
    },
  };
}

export function readAccountCredentials(reader: WireReader): AccountCredentials {
  return withoutUndefined<AccountCredentials>({
    id: reader.string("id"),
    provider: reader.string("provider"),
    authType: reader.string("auth_type"),
    credentials: reader.object("credentials"),
    expiresAt: reader.optionalDate("expires_at") ?? null,
    setupInformation: reader.optionalObject("setup_information"),
  });
}
