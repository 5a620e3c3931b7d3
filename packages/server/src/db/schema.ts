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

export interface Database {
  organizations: OrganizationTable;
  projects: ProjectTable;
  api_keys: ApiKeyTable;
  connect_sessions: ConnectSessionTable;
  idempotency_keys: IdempotencyKeyTable;
}
