/**
 * The Connect Sessions models: camelCase in TypeScript, snake_case on the wire
 * (`contract/stackone-wire.md` section 1), with the mapping both ways.
 *
 * Requests carry only what the caller set: no `expires_in`, `multiple` or `type` defaults
 * are invented (the server applies its own), and `null` is sent as `null`. `metadata` is sent
 * and read back as given, keys included (StackOne's SDK strips them).
 *
 * Responses are checked lightly: the contract's required fields, plus `status` and
 * `expires_at`, which Connect Hub always sends, must be present with the right JSON type;
 * every other field may be absent or `null`. Enums in responses are open (an unknown value is
 * passed through, not rejected), so a newer server does not break an older SDK.
 */
import { toWire, type WireNames, type WireReader, withoutUndefined } from "../core/wire.js";

/** A string enum that also admits values this SDK version does not know yet. */
export type OpenEnum<Known extends string> = Known | (string & Record<never, never>);

/** The categories a connect session may be restricted to (all 14 of the contract). */
export const Categories = {
  Ats: "ats",
  Hris: "hris",
  HrisLegacy: "hris-legacy",
  Crm: "crm",
  Iam: "iam",
  Marketing: "marketing",
  Lms: "lms",
  Stackone: "stackone",
  Documents: "documents",
  Ticketing: "ticketing",
  Screening: "screening",
  Messaging: "messaging",
  Accounting: "accounting",
  Scheduling: "scheduling",
} as const;
export type Categories = (typeof Categories)[keyof typeof Categories];

/** Whether the accounts a session creates are production or test accounts. */
export const Type = { Production: "production", Test: "test" } as const;
export type Type = (typeof Type)[keyof typeof Type];

/** Where a session's flow stands. */
export const ConnectSessionStatus = {
  Pending: "pending",
  Completed: "completed",
  Expired: "expired",
  Cancelled: "cancelled",
} as const;
export type ConnectSessionStatus = (typeof ConnectSessionStatus)[keyof typeof ConnectSessionStatus];

/** The body of `createConnectSession`. */
export interface ConnectSessionCreate {
  /** Your customer's id: the owner of the account to be connected. */
  originOwnerId: string;
  /** Your customer's name. */
  originOwnerName: string;
  /** The name of the user who connects the account. */
  originUsername?: string | null;
  /** Opens the connect page directly at this provider (e.g. `bamboohr`). */
  provider?: string | null;
  /** @deprecated Kept for compatibility; use `integrationId`. */
  providerVersion?: string | null;
  /** Restricts the connect page to these categories. */
  categories?: readonly Categories[] | null;
  /** Re-authorize this existing linked account. */
  accountId?: string | null;
  /** Lifetime of the token in seconds (the server's default is 1800). */
  expiresIn?: number | null;
  /** Free-form JSON copied onto the account; keys are kept as given. */
  metadata?: Record<string, unknown> | null;
  /** Allow another account for the same origin owner and provider (the server's default is false). */
  multiple?: boolean | null;
  /** A label stored on the resulting account. */
  label?: string | null;
  /** `production` (the server's default) or `test`. */
  type?: Type | null;
  /** Restricts the connect page to this integration. */
  integrationId?: string | null;
}

/** The body of `authenticateConnectSession`. */
export interface ConnectSessionAuthenticate {
  /** The connect session token from `createConnectSession`. */
  token: string;
}

/** A connect session, as `authenticateConnectSession` returns it. */
export interface ConnectSession {
  id: number;
  /** Sent as a JSON string or number depending on the server's `ORGANIZATION_ID_TYPE`; always a string here. */
  organizationId: string;
  projectId: string;
  originOwnerId: string;
  originOwnerName: string;
  createdAt: Date;
  status: OpenEnum<ConnectSessionStatus>;
  /** When the token stops working. */
  expiresAt: Date;
  categories?: OpenEnum<Categories>[] | null;
  provider?: string | null;
  providerVersion?: string | null;
  originUsername?: string | null;
  accountId?: string | null;
  integrationId?: string | null;
  label?: string | null;
  multiple?: boolean | null;
  metadata?: Record<string, unknown> | null;
  externalTriggerToken?: string | null;
  type?: OpenEnum<Type> | null;
  /**
   * The linked account the session produced: `null` until the user has connected one (the
   * session is then `completed`). Connect Hub's addition; poll `authenticateConnectSession`
   * to see it, then read the account with `hub.accounts.getAccount({ id: account.id })`.
   */
  account?: ConnectSessionAccount | null;
}

/** The account a completed connect session produced. */
export interface ConnectSessionAccount {
  id: string;
  provider: string;
}

/** A new connect session with its token and hosted link, as `createConnectSession` returns it. */
export interface ConnectSessionTokenAuthLink extends ConnectSession {
  /** The session token for the connect page; returned only here. */
  token: string;
  /** The hosted connect page for this session. */
  authLinkUrl: string;
}

const CREATE_WIRE_NAMES: WireNames<ConnectSessionCreate> = {
  originOwnerId: "origin_owner_id",
  originOwnerName: "origin_owner_name",
  originUsername: "origin_username",
  provider: "provider",
  providerVersion: "provider_version",
  categories: "categories",
  accountId: "account_id",
  expiresIn: "expires_in",
  metadata: "metadata",
  multiple: "multiple",
  label: "label",
  type: "type",
  integrationId: "integration_id",
};

/** The wire body of a create: the fields the caller set, renamed; nothing else. */
export function connectSessionCreateToWire(request: ConnectSessionCreate): Record<string, unknown> {
  return toWire(request, CREATE_WIRE_NAMES);
}

export function connectSessionAuthenticateToWire(
  request: ConnectSessionAuthenticate,
): Record<string, unknown> {
  return { token: request.token };
}

export function readConnectSession(reader: WireReader): ConnectSession {
  return withoutUndefined<ConnectSession>({
    id: reader.integer("id"),
    organizationId: reader.stringOrNumber("organization_id"),
    projectId: reader.string("project_id"),
    originOwnerId: reader.string("origin_owner_id"),
    originOwnerName: reader.string("origin_owner_name"),
    createdAt: reader.date("created_at"),
    status: reader.string("status"),
    expiresAt: reader.date("expires_at"),
    categories: reader.optionalStringArray("categories"),
    provider: reader.optionalString("provider"),
    providerVersion: reader.optionalString("provider_version"),
    originUsername: reader.optionalString("origin_username"),
    accountId: reader.optionalString("account_id"),
    integrationId: reader.optionalString("integration_id"),
    label: reader.optionalString("label"),
    multiple: reader.optionalBoolean("multiple"),
    metadata: reader.optionalObject("metadata"),
    externalTriggerToken: reader.optionalString("external_trigger_token"),
    type: reader.optionalString("type"),
    account: reader.optionalNested("account", readConnectSessionAccount),
  });
}

function readConnectSessionAccount(reader: WireReader): ConnectSessionAccount {
  return { id: reader.string("id"), provider: reader.string("provider") };
}

export function readConnectSessionTokenAuthLink(reader: WireReader): ConnectSessionTokenAuthLink {
  return {
    ...readConnectSession(reader),
    token: reader.string("token"),
    authLinkUrl: reader.string("auth_link_url"),
  };
}
