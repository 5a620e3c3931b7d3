/**
 * A connect session as the API (and the webhook events) show it: a module of its own, below
 * both the session rules and the outbox.
 */
import type { OrganizationIdType } from "../config.js";
import type { ConnectSessionRow } from "./store.js";

/** `ConnectSession` on the wire (authenticate's body). */
export interface ConnectSessionView {
  id: number;
  organization_id: string | number;
  project_id: string;
  categories: string[] | null;
  provider: string | null;
  provider_version: string | null;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  account_id: string | null;
  integration_id: string | null;
  label: string | null;
  multiple: boolean;
  metadata: Record<string, unknown> | null;
  external_trigger_token: string | null;
  type: string | null;
  status: ConnectSessionRow["status"];
  account: { id: string; provider: string } | null;
  created_at: string;
  expires_at: string;
}

/** A session on the wire (without its account, which callers that know it fill in). */
export function connectSessionView(
  row: ConnectSessionRow,
  organizationId: number,
  organizationIdType: OrganizationIdType,
): ConnectSessionView {
  return {
    id: row.id,
    organization_id: organizationIdType === "number" ? organizationId : String(organizationId),
    project_id: row.project_id,
    categories: row.categories ? (JSON.parse(row.categories) as string[]) : null,
    provider: row.provider,
    provider_version: row.provider_version,
    origin_owner_id: row.origin_owner_id,
    origin_owner_name: row.origin_owner_name,
    origin_username: row.origin_username,
    account_id: row.account_id,
    integration_id: row.integration_id,
    label: row.label,
    multiple: row.multiple === 1,
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : null,
    external_trigger_token: null,
    type: row.type,
    status: row.status,
    account: null,
    created_at: row.created_at,
    expires_at: row.expires_at,
  };
}
