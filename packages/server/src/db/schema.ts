/**
 * Table types as Kysely sees them. Timestamps are ISO-8601 UTC strings (`...Z`), which sort
 * and compare correctly as text on every dialect; JSON columns hold serialised text.
 */
import type { Generated } from "kysely";

export interface OrganizationTable {
  id: Generated<number>;
  name: string;
  created_at: string;
}

export interface ProjectTable {
  id: string;
  organization_id: number;
  name: string;
  /** JSON array of exact origins allowed to embed the connect page and receive its messages. */
  allowed_origins: Generated<string>;
  /** JSON of the connect page's theme (ThemeSettings); null: the default. */
  theme: Generated<string | null>;
  created_at: string;
}

export interface ApiKeyTable {
  id: string;
  project_id: string;
  key_hash: string;
  /** The first characters of the key (its type prefix and four more), for recognising it. */
  start: string;
  last_four: string;
  created_at: string;
  revoked_at: string | null;
}

export type ConnectSessionStatus = "pending" | "completed" | "expired" | "cancelled";

export interface ConnectSessionTable {
  id: Generated<number>;
  project_id: string;
  token_hash: string;
  status: ConnectSessionStatus;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  provider: string | null;
  provider_version: string | null;
  /** JSON array of category strings, or null. */
  categories: string | null;
  account_id: string | null;
  integration_id: string | null;
  /** JSON object, or null. */
  metadata: string | null;
  multiple: number;
  label: string | null;
  type: string | null;
  expires_at: string;
  created_at: string;
  updated_at: string;
  /** The linked account the session produced, once completed. */
  connected_account_id: string | null;
  /** When the hosted page or the embedded hub first used the session's token; null until then. */
  opened_at: string | null;
}

export interface IdempotencyKeyTable {
  project_id: string;
  idempotency_key: string;
  operation: string;
  request_hash: string;
  response_status: number;
  response_body: string;
  created_at: string;
  expires_at: string;
}

export interface IntegrationTable {
  id: string;
  project_id: string;
  provider: string;
  enabled: number;
  client_id: string | null;
  client_secret_sealed: string | null;
  /** JSON array overriding the provider's default scopes, or null. */
  scopes: string | null;
  /** 1: credentials are checked with the provider's verification request when entered. */
  verify_credentials: Generated<number>;
  created_at: string;
  updated_at: string;
}

export type LinkedAccountStatus = "active" | "inactive" | "suspended" | "archived" | "expired" | "error";

export interface LinkedAccountTable {
  id: string;
  project_id: string;
  provider: string;
  auth_type: "oauth2" | "api_key" | "basic";
  status: LinkedAccountStatus;
  /** JSON array of {code, description, timestamp}, or null. */
  status_reasons: string | null;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  label: string | null;
  type: string | null;
  metadata: string | null;
  /** JSON object of the non-secret values given at connection (e.g. a subdomain). */
  setup_information: string | null;
  /** Sealed JSON of the credentials (SecretBox, bound to the account id). */
  credentials_sealed: string;
  credentials_expires_at: string | null;
  /** While set in the future, one process is refreshing this account's OAuth token. */
  refresh_lease_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface OAuthStateTable {
  state_hash: string;
  project_id: string;
  session_id: number;
  provider: string;
  browser_binding_hash: string;
  code_verifier_sealed: string | null;
  redirect_uri: string;
  setup_values: string | null;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
}

export interface WebhookEndpointTable {
  id: string;
  project_id: string;
  url: string;
  description: string | null;
  /** JSON array of event types, or `["*"]` for every type. */
  event_types: string;
  enabled: number;
  /** Why the endpoint was disabled (`failing` when the dispatcher did it), or null. */
  disabled_reason: string | null;
  /** Sealed (SecretBox) `whsec_...` secret that signs every delivery. */
  secret_sealed: string;
  /** The secret before the last rotation: it also signs until `previous_secret_expires_at`. */
  previous_secret_sealed: string | null;
  previous_secret_expires_at: string | null;
  consecutive_failures: number;
  /** When the current run of failed attempts began; null after any success. */
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

/** The outbox: one row per event, written in the transaction of the change it describes. */
export interface WebhookEventTable {
  /** `msg_...`: the `webhook-id` header, stable across retries and replays. */
  id: string;
  project_id: string;
  type: string;
  /** The exact JSON body sent (and signed) on every attempt. */
  payload: string;
  created_at: string;
}

export type WebhookDeliveryStatus = "pending" | "succeeded" | "failed";

/** One row per event and subscribed endpoint. */
export interface WebhookDeliveryTable {
  id: Generated<number>;
  project_id: string;
  event_id: string;
  endpoint_id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  /** While in the future, one dispatcher owns the delivery (it claimed it and is sending). */
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookAttemptTable {
  id: Generated<number>;
  project_id: string;
  endpoint_id: string;
  delivery_id: number;
  event_id: string;
  event_type: string;
  attempted_at: string;
  /** The endpoint's HTTP status, or null when no answer came (timeout, refused, blocked). */
  status_code: number | null;
  latency_ms: number;
  succeeded: number;
  error: string | null;
}

export interface Database {
  organizations: OrganizationTable;
  projects: ProjectTable;
  api_keys: ApiKeyTable;
  connect_sessions: ConnectSessionTable;
  idempotency_keys: IdempotencyKeyTable;
  integrations: IntegrationTable;
  linked_accounts: LinkedAccountTable;
  oauth_states: OAuthStateTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_events: WebhookEventTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  connection_attempts: ConnectionAttemptTable;
  console_sign_in_links: ConsoleSignInLinkTable;
  console_sessions: ConsoleSessionTable;
  audit_events: AuditEventTable;
  project_daily_stats: ProjectDailyStatsTable;
  account_events: AccountEventTable;
}

/**
 * Counters per project and UTC day (`YYYY-MM-DD`), written in the transaction of each change
 * they count, never swept: the console's charts outlive the rows they were counted from.
 * Session counters belong to the day the session was created (a funnel of that day's
 * sessions); delivery counters to the day the delivery finished.
 */
export interface ProjectDailyStatsTable {
  project_id: string;
  day: string;
  sessions_created: number;
  sessions_opened: number;
  sessions_completed: number;
  sessions_expired_unconnected: number;
  webhook_deliveries_succeeded: number;
  webhook_deliveries_failed: number;
}

/** One row per change of a linked account, written in the change's transaction. */
export interface AccountEventTable {
  id: Generated<number>;
  project_id: string;
  account_id: string;
  type: string;
  occurred_at: string;
  status_before: LinkedAccountStatus | null;
  status_after: LinkedAccountStatus;
  reason_code: string | null;
  reason_description: string | null;
  /** Small JSON object (names of changed fields, ...), never a secret; or null. */
  details: string | null;
}

/** An OAuth2 popup flow of StackOne's embeddable component (see embed/attempts-store.ts). */
export interface ConnectionAttemptTable {
  id: string;
  project_id: string;
  session_id: number;
  status: "pending" | "authenticated" | "error" | "cancelled";
  state_hash: string | null;
  redirect_uri: string | null;
  account_id: string | null;
  error_code: string | null;
  error_description: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
}

export type ConsoleRole = "admin" | "viewer";

/** A single-use console sign-in link (`connect-hub console link`); only its hash is kept. */
export interface ConsoleSignInLinkTable {
  id: string;
  token_hash: string;
  /** Null: the session it opens sees every project. */
  project_id: string | null;
  role: ConsoleRole;
  created_by: string;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
}

/** An operator's console cookie session; the cookie's token and the CSRF token as hashes only. */
export interface ConsoleSessionTable {
  id: string;
  token_hash: string;
  csrf_hash: string;
  role: ConsoleRole;
  project_id: string | null;
  operator_subject: string;
  operator_email: string | null;
  method: "link" | "oidc";
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_seen_at: string;
}

/** One change made through the admin API, or a console sign-in, sign-out or revocation. */
export interface AuditEventTable {
  id: string;
  project_id: string | null;
  occurred_at: string;
  actor_type: "api_key" | "console" | "cli";
  actor_id: string;
  actor_display: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  /** Small JSON object; never a secret. */
  details: string;
}
