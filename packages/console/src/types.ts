/** The shapes the console reads, as the server route schemas define them (packages/server/src/<resource>/schema.ts). */

export type Role = "admin" | "viewer";

export interface ConsoleSession {
  id: string;
  operator: { email?: string | null; subject: string; method: "link" | "oidc" };
  role: Role;
  project: { id: string; name: string } | null;
  csrf_token: string;
  expires_at: string;
}

export interface ProjectSummary {
  id: string;
  name: string;
  organization_id: string;
  organization_name?: string;
}

export interface StatusReason {
  code: string | null;
  description: string | null;
  timestamp: string;
}

export const ACCOUNT_STATUSES = ["active", "inactive", "suspended", "archived", "expired", "error"] as const;

export interface LinkedAccount {
  id: string;
  provider: string;
  provider_name: string | null;
  status: (typeof ACCOUNT_STATUSES)[number];
  status_reasons: StatusReason[] | null;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  setup_information: Record<string, unknown> | null;
  label: string | null;
  auth_type: "oauth2" | "api_key" | "basic";
  created_at: string;
  updated_at: string;
}

export interface AccountHistoryEvent {
  id: number;
  type: string;
  occurred_at: string;
  status_before: string | null;
  status_after: string;
  reason: { code: string | null; description: string | null } | null;
  details: Record<string, unknown> | null;
}

export interface AccountVerification {
  account: LinkedAccount;
  verification: { result: string; status_code: number | null; message: string; checked_at: string };
}

export const CONNECT_SESSION_STATES = ["pending", "opened", "completed", "expired"] as const;

export interface ConnectSessionSummary {
  id: number | string;
  state: (typeof CONNECT_SESSION_STATES)[number];
  provider: string | null;
  categories: string[] | null;
  origin_owner_id: string;
  origin_owner_name: string;
  label: string | null;
  account_id: string | null;
  created_at: string;
  opened_at: string | null;
  completed_at: string | null;
  expires_at: string;
}

export interface CreatedConnectSession {
  id: number;
  auth_link_url: string;
  expires_at: string;
}

export interface OverviewBucket {
  start: string;
  sessions_created: number;
  sessions_opened: number;
  sessions_completed: number;
  sessions_expired_unconnected: number;
  webhook_deliveries_succeeded: number;
  webhook_deliveries_failed: number;
}

export interface Overview {
  interval: "day" | "week";
  buckets: OverviewBucket[];
  accounts_by_provider: { provider: string; active: number; error: number; total: number }[];
  accounts_in_error: number;
}

export interface ProviderSummary {
  key: string;
  name: string;
  categories: string[];
  description: string;
  auth_type: "oauth2" | "api_key" | "basic";
  website: string;
  verification: boolean;
  sandbox: boolean;
}

export interface Integration {
  id: string;
  provider: string;
  provider_name: string;
  auth_type: "oauth2" | "api_key" | "basic";
  enabled: boolean;
  ready: boolean;
  client_id: string | null;
  client_secret_set: boolean;
  verify_credentials: boolean;
}

export interface ThemeSettings {
  mode?: "auto" | "light" | "dark";
  accent?: string;
  background?: string;
  text?: string;
  radius?: number;
}

export interface ProjectSettings {
  id: string;
  name: string;
  organization_id: string;
  allowed_origins: string[];
  theme: ThemeSettings;
}

export interface ApiKey {
  id: string;
  start?: string;
  last_four: string;
  created_at: string;
  revoked_at: string | null;
}

export interface CreatedApiKey {
  id: string;
  key: string;
  last_four: string;
  created_at: string;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  created_at: string;
}

export interface WebhookDeliveryRow {
  id: number;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AuditEvent {
  id: string;
  project_id: string | null;
  occurred_at: string;
  /** Who made the change: an API key (`chk_…wXyZ`), an operator (e-mail or `cli link <id>`) or the CLI. */
  actor: { type: "api_key" | "console" | "cli"; id: string; display: string };
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id?: string | null;
  details?: Record<string, unknown> | null;
}

export interface ConsoleSessionRow {
  id: string;
  operator: { email?: string; subject: string; method: "link" | "oidc" };
  role: Role;
  project_id: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  /** Whether this is the caller's own session. */
  current: boolean;
}
