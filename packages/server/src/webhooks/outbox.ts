/**
 * The outbox: an event is written in the same transaction as the change it describes (with
 * one delivery row per enabled endpoint of the project subscribed to its type), so a change
 * that commits always has its events, and a rolled-back change never does. The dispatcher
 * sends them later, from any process.
 *
 * Payloads are the API's own views (accounts, sessions) plus the origin owner; credentials
 * are never part of a view.
 */
import type { Kysely } from "kysely";
import type { LinkedAccountView } from "../accounts/view.js";
import type { OrganizationIdType } from "../config.js";
import type { ConnectSessionRow } from "../connect-sessions/store.js";
import { type ConnectSessionView, connectSessionView } from "../connect-sessions/view.js";
import { randomId } from "../crypto/tokens.js";
import type { Database } from "../db/schema.js";
import { findProjectSettings } from "../tenancy/store.js";
import { type Clock, isoTimestamp } from "../time.js";
import { ALL_EVENTS, type SentEventType, type WebhookEventType } from "./schema.js";
import * as store from "./store.js";

export interface OriginOwner {
  id: string;
  name: string;
  username: string | null;
}

export type AccountEventType = Extract<WebhookEventType, `account.${string}`>;
export type SessionEventType = Extract<WebhookEventType, `connect_session.${string}`>;

export class WebhookOutbox {
  constructor(
    private readonly clock: Clock,
    private readonly organizationIdType: OrganizationIdType,
  ) {}

  async recordAccountEvent(
    trx: Kysely<Database>,
    projectId: string,
    type: AccountEventType,
    account: LinkedAccountView,
  ): Promise<void> {
    await this.record(trx, projectId, type, {
      account,
      origin_owner: {
        id: account.origin_owner_id,
        name: account.origin_owner_name,
        username: account.origin_username,
      },
    });
  }

  /** `account` is the linked account the session produced (for `connect_session.completed`). */
  async recordSessionEvent(
    trx: Kysely<Database>,
    type: SessionEventType,
    session: ConnectSessionRow,
    account: { id: string; provider: string } | null = null,
  ): Promise<void> {
    const project = await findProjectSettings(trx, session.project_id);
    const view: ConnectSessionView = {
      ...connectSessionView(session, Number(project?.organization_id ?? 0), this.organizationIdType),
      account,
    };
    await this.record(trx, session.project_id, type, {
      connect_session: view,
      origin_owner: {
        id: session.origin_owner_id,
        name: session.origin_owner_name,
        username: session.origin_username,
      },
    });
  }

  /**
   * Writes one event for the project's enabled endpoints subscribed to `type`; nothing when
   * none is. Returns the event id, if one was written.
   */
  async record(
    trx: Kysely<Database>,
    projectId: string,
    type: WebhookEventType,
    data: Record<string, unknown>,
  ): Promise<string | undefined> {
    const endpoints = (await store.listEnabledEndpoints(trx, projectId)).filter((endpoint) =>
      subscribes(endpoint.event_types, type),
    );
    if (!endpoints.length) return undefined;
    return writeEvent(
      trx,
      isoTimestamp(this.clock()),
      projectId,
      type,
      data,
      endpoints.map((endpoint) => endpoint.id),
    );
  }
}

/**
 * Writes one event and a pending delivery of it to each of `endpointIds` (of the project),
 * due now. Returns the event id. Call inside the transaction of what the event describes.
 */
export async function writeEvent(
  trx: Kysely<Database>,
  now: string,
  projectId: string,
  type: SentEventType,
  data: Record<string, unknown>,
  endpointIds: readonly string[],
): Promise<string> {
  const id = randomId("msg_", 18);
  await store.insertEvent(trx, {
    id,
    project_id: projectId,
    type,
    payload: JSON.stringify({ type, timestamp: now, data }),
    created_at: now,
  });
  await store.insertDeliveries(
    trx,
    endpointIds.map((endpointId) => ({
      project_id: projectId,
      event_id: id,
      endpoint_id: endpointId,
      status: "pending" as const,
      attempts: 0,
      next_attempt_at: now,
      locked_until: null,
      created_at: now,
      updated_at: now,
    })),
  );
  return id;
}

export function subscribes(eventTypesJson: string, type: WebhookEventType): boolean {
  const types = JSON.parse(eventTypesJson) as string[];
  return types.includes(ALL_EVENTS) || types.includes(type);
}
