/**
 * What the API (and the webhook events) show of a linked account: a module of its own, below
 * both the account rules and the outbox, so neither imports the other for it.
 */
import type { LinkedAccountTable } from "../db/schema.js";
import type { LinkedAccountRow } from "./store.js";

export type AuthType = LinkedAccountTable["auth_type"];

export interface StatusReasonView {
  code: string | null;
  description: string | null;
  timestamp: string;
}

export interface LinkedAccountView {
  id: string;
  provider: string;
  provider_name: string | null;
  status: LinkedAccountRow["status"];
  status_reasons: StatusReasonView[] | null;
  origin_owner_id: string;
  origin_owner_name: string;
  origin_username: string | null;
  setup_information: Record<string, unknown> | null;
  label: string | null;
  type: string | null;
  metadata: Record<string, unknown> | null;
  auth_type: AuthType;
  created_at: string;
  updated_at: string;
}
