/**
 * The rules of connect sessions: what a new session holds, how long its token lives, and how
 * a token is recognised. Routes call this; SQL stays in the store.
 */
import type { Kysely } from "kysely";
import { findAccount } from "../accounts/store.js";
import type { OrganizationIdType } from "../config.js";
import type { AuditLog } from "../console/audit.js";
import { insertAuditEvent, insertAuditEventsTogether } from "../console/audit-store.js";
import { issueTimeOrderedToken, TOKEN_PREFIX, timeOrderedTokenKeys } from "../crypto/tokens.js";
import type { Db } from "../db/database.js";
import type { BatchableWork } from "../db/group-commit.js";
import type { AuditEventTable, Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import { freeFormJson } from "../http/input-guards.js";
import { pageOf } from "../http/schema-types.js";
import { runIdempotently } from "../idempotency/service.js";
import type { Principal } from "../tenancy/store.js";
import { addSeconds, type Clock, isoTimestamp } from "../time.js";
import {
  type ConnectSessionCreate,
  EXPIRES_IN,
  type ListConnectSessionsQuery,
  SESSION_LIST_PAGE_SIZE,
} from "./schema.js";
import * as store from "./store.js";
import { type ConnectSessionView, connectSessionView } from "./view.js";

export { type ConnectSessionView, connectSessionView } from "./view.js";

/** `ConnectSessionSummary` on the wire: the console's view, without the token. */
export interface ConnectSessionSummaryView {
  id: number;
  state: store.ConnectSessionState;
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

/** `ConnectSessionTokenAuthLink` on the wire (create's body). */
export interface ConnectSessionWithTokenView extends ConnectSessionView {
  token: string;
  auth_link_url: string;
}

/** Where a create came from, for its audit event. */
export interface CreateOrigin {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

interface AuditedSession {
  row: store.NewConnectSession;
  /** The `connect_session.created` event; its target id is the session's, known once inserted. */
  event: AuditEventTable | undefined;
}

/**
 * New sessions and the audit events of their creation, in one transaction: a recorded create
 * was made and a made create is recorded, with one durable flush for both (an event committed
 * after its session cost a second commit per burst of creates, and their latency twice over).
 */
const insertAuditedSessionsTogether: BatchableWork<AuditedSession, store.ConnectSessionRow> = {
  name: "insert connect sessions and their audit events",
  async executeMany(trx, inputs) {
    const stored = await store.insertConnectSessions(
      trx,
      inputs.map((input) => input.row),
    );
    const events = inputs.flatMap((input, index) =>
      input.event ? [{ ...input.event, target_id: String(stored[index]?.id) }] : [],
    );
    await insertAuditEventsTogether.executeMany(trx, events);
    return stored;
  },
};

export const INVALID_SESSION_TOKEN_MESSAGE =
  "Unauthorized: the connect session token is invalid or has expired";

export class ConnectSessionService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly options: {
      publicUrl: string;
      organizationIdType: OrganizationIdType;
      /** Called once per session created (after its commit; not for replays). */
      onSessionCreated?: () => void;
      /** Refuses a `provider` the project cannot offer, before anything is stored. */
      checkProvider?: (projectId: string, providerKey: string) => Promise<void>;
      /** Records `connect_session.created` with each create (not replays), in its transaction. */
      audit?: AuditLog;
    },
  ) {}

  async createConnectSession(
    principal: Principal,
    input: ConnectSessionCreate,
    idempotencyKey?: string,
    origin: CreateOrigin = {},
  ): Promise<{ session: ConnectSessionWithTokenView; replayed: boolean }> {
    assertNotBlank(input.origin_owner_id, "origin_owner_id");
    assertNotBlank(input.origin_owner_name, "origin_owner_name");
    if (input.provider !== undefined && input.provider !== null && input.provider !== "") {
      await this.options.checkProvider?.(principal.projectId, input.provider);
    }
    const withToken = (row: store.ConnectSessionRow, token: string): ConnectSessionWithTokenView => {
      // Completed in place: a copy (`{ ...view, token }`) cost a tenth of a create's CPU.
      const view = this.toView(row, principal.organizationId) as ConnectSessionWithTokenView;
      view.token = token;
      view.auth_link_url = `${this.options.publicUrl}/connect?token=${encodeURIComponent(token)}`;
      return view;
    };
    if (idempotencyKey === undefined) {
      // The common case: one multi-row INSERT for all the creates of a group commit.
      const { token, row } = this.newSession(principal, input);
      const event = this.createdEvent(principal, origin);
      const stored = await this.db.writes.runBatchable(insertAuditedSessionsTogether, { row, event });
      this.options.onSessionCreated?.();
      return { session: withToken(stored, token), replayed: false };
    }
    // Runs inside the idempotency record's transaction, and again from scratch if retried.
    const create = async (trx: Kysely<Database>): Promise<ConnectSessionWithTokenView> => {
      const { token, row } = this.newSession(principal, input);
      const stored = await store.insertConnectSession(trx, row);
      const event = this.createdEvent(principal, origin);
      if (event) await insertAuditEvent(trx, { ...event, target_id: String(stored.id) });
      return withToken(stored, token);
    };
    const outcome = await runIdempotently(
      this.db,
      this.clock,
      {
        projectId: principal.projectId,
        key: idempotencyKey,
        operation: "create_connect_session",
        body: input,
      },
      create,
    );
    if (!outcome.replayed) this.options.onSessionCreated?.();
    return { session: outcome.body, replayed: outcome.replayed };
  }

  /**
   * Sessions created in the console are recorded (and the CLI records its own); those a backend
   * creates with an API key are not: they are the product's own traffic, one per end user who
   * connects, each listed at `GET /connect_sessions`, and an event apiece doubled the cost of
   * a create. The audit log is for changes to how a project is set up, and who made them.
   */
  private createdEvent(principal: Principal, origin: CreateOrigin): AuditEventTable | undefined {
    if (principal.actor.type === "api_key") return undefined;
    return this.options.audit?.eventFor({
      projectId: principal.projectId,
      actor: principal.actor,
      action: "connect_session.created",
      targetType: "connect_session",
      ...origin,
    });
  }

  /** A new pending session for the principal's project, and the token that only its owner sees. */
  private newSession(principal: Principal, input: ConnectSessionCreate) {
    const now = this.clock();
    const { token, hash } = issueTimeOrderedToken(TOKEN_PREFIX.connectSession, now);
    const createdAt = isoTimestamp(now);
    const row: store.NewConnectSession = {
      project_id: principal.projectId,
      token_hash: hash,
      status: "pending",
      origin_owner_id: input.origin_owner_id,
      origin_owner_name: input.origin_owner_name,
      origin_username: input.origin_username ?? null,
      provider: input.provider ?? null,
      provider_version: input.provider_version ?? null,
      categories: input.categories ? JSON.stringify(input.categories) : null,
      account_id: input.account_id ?? null,
      integration_id: input.integration_id ?? null,
      metadata: input.metadata ? freeFormJson("metadata", input.metadata) : null,
      multiple: input.multiple ? 1 : 0,
      label: input.label ?? null,
      type: input.type ?? "production",
      expires_at: isoTimestamp(addSeconds(now, input.expires_in ?? EXPIRES_IN.default)),
      created_at: createdAt,
      updated_at: createdAt,
      connected_account_id: null,
      opened_at: null,
    };
    return { token, row };
  }

  /** The session behind a token, or 401 alike for unknown, expired and other projects' tokens. */
  async authenticateConnectSession(principal: Principal, token: string): Promise<ConnectSessionView> {
    const row = token.startsWith(TOKEN_PREFIX.connectSession)
      ? await store.findLiveConnectSessionByTokenKeys(
          this.db.kysely,
          principal.projectId,
          timeOrderedTokenKeys(token, TOKEN_PREFIX.connectSession),
          isoTimestamp(this.clock()),
        )
      : undefined;
    if (!row) throw new ApiError(401, INVALID_SESSION_TOKEN_MESSAGE);
    const account = row.connected_account_id
      ? await findAccount(this.db.kysely, principal.projectId, row.connected_account_id)
      : undefined;
    const view = this.toView(row, principal.organizationId);
    if (account) view.account = { id: account.id, provider: account.provider };
    return view;
  }

  /** The project's sessions, newest first (the console's list). */
  async list(projectId: string, query: ListConnectSessionsQuery): Promise<ConnectSessionSummaryView[]> {
    const now = isoTimestamp(this.clock());
    const rows = await store.listConnectSessions(
      this.db.kysely,
      projectId,
      { state: query.state, originOwnerId: query.origin_owner_id, provider: query.provider },
      now,
      pageOf(query, SESSION_LIST_PAGE_SIZE),
    );
    return rows.map((row) => summaryView(row, now));
  }

  async get(projectId: string, sessionId: number): Promise<ConnectSessionSummaryView> {
    const row = await store.findListedConnectSession(this.db.kysely, projectId, sessionId);
    if (!row) throw new ApiError(404, `Connect session ${sessionId} does not exist`);
    return summaryView(row, isoTimestamp(this.clock()));
  }

  private toView(row: store.ConnectSessionRow, organizationId: number): ConnectSessionView {
    return connectSessionView(row, organizationId, this.options.organizationIdType);
  }
}

function summaryView(row: store.ListedConnectSessionRow, now: string): ConnectSessionSummaryView {
  const state = store.sessionState(row, now);
  return {
    id: row.id,
    state,
    provider: row.provider ?? row.connected_provider,
    categories: row.categories ? (JSON.parse(row.categories) as string[]) : null,
    origin_owner_id: row.origin_owner_id,
    origin_owner_name: row.origin_owner_name,
    label: row.label,
    account_id: row.connected_account_id,
    created_at: row.created_at,
    opened_at: row.opened_at,
    // Nothing changes a session after its completion, so its last update is the completion.
    completed_at: state === "completed" ? row.updated_at : null,
    expires_at: row.expires_at,
  };
}

function assertNotBlank(value: string, field: string): void {
  if (value.trim() === "") throw new ApiError(400, `${field} must not be blank`);
}
