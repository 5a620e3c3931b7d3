/**
 * The rules of linked accounts: what the API shows of them (never credentials), how PATCH
 * merges, and how a completed connection creates or updates one.
 */
import type { Kysely } from "kysely";
import type { SecretBox } from "../crypto/secrets.js";
import { randomId } from "../crypto/tokens.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import { boundedFreeForm } from "../http/input-guards.js";
import type { Page } from "../http/schema-types.js";
import type { ProviderCatalog } from "../providers/catalog.js";
import { type Clock, isoTimestamp } from "../time.js";
import type { WebhookOutbox } from "../webhooks/outbox.js";
import {
  type AccountEventView,
  deleteAccountHistory,
  listAccountHistory,
  recordAccountHistory,
} from "./history.js";
import { type ListAccountsQuery, PAGE_SIZE, type PatchAccount } from "./schema.js";
import * as store from "./store.js";
import type { AuthType, LinkedAccountView, StatusReasonView } from "./view.js";

export type { AuthType, LinkedAccountView, StatusReasonView } from "./view.js";

/** What a successful connection hands over to become (or renew) an account. */
export interface NewConnection {
  provider: string;
  authType: AuthType;
  credentials: Record<string, unknown>;
  credentialsExpiresAt: string | null;
  setupInformation: Record<string, unknown> | null;
}

/** The connect session fields that shape the account. */
export interface ConnectingSession {
  projectId: string;
  originOwnerId: string;
  originOwnerName: string;
  originUsername: string | null;
  accountId: string | null;
  multiple: boolean;
  label: string | null;
  metadata: Record<string, unknown> | null;
  type: string | null;
}

export const credentialsContext = (accountId: string) => `linked_account:${accountId}:credentials`;

export class AccountService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly catalog: ProviderCatalog,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    /** Where account events are recorded, in the transaction of each change. */
    private readonly events?: WebhookOutbox,
  ) {}

  async list(projectId: string, query: ListAccountsQuery): Promise<LinkedAccountView[]> {
    const pageSize = query.page_size ?? PAGE_SIZE.default;
    const page = query.page ?? 1;
    const rows = await store.listAccounts(
      this.db,
      projectId,
      {
        originOwnerIds: joinFilters(query.origin_owner_id, query.origin_owner_ids),
        providers: joinFilters(query.provider, query.providers),
        accountIds: query.account_ids,
        statuses: query.status,
        search: query.search,
      },
      { offset: (page - 1) * pageSize, limit: pageSize },
    );
    return rows.map((row) => this.toView(row));
  }

  async get(projectId: string, accountId: string): Promise<LinkedAccountView> {
    return this.toView(await this.findOrThrow(this.db, projectId, accountId));
  }

  /** The account's changes, newest first; 404 for an account the project does not have. */
  async history(projectId: string, accountId: string, page: Page): Promise<AccountEventView[]> {
    await this.findOrThrow(this.db, projectId, accountId);
    return listAccountHistory(this.db, projectId, accountId, page);
  }

  /**
   * Applies a PATCH. Objects merge (a null value removes a key; `{}`, which StackOne's SDK
   * 4.28.0 sends for every object, changes nothing), and `type` is ignored because that SDK
   * always sends "production" and would otherwise flip test accounts.
   */
  async update(projectId: string, accountId: string, patch: PatchAccount): Promise<LinkedAccountView> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.findOrThrow(trx, projectId, accountId);
      if (patch.provider && patch.provider !== row.provider) {
        throw new ApiError(422, `provider cannot change (the account is connected to ${row.provider})`);
      }
      const changes: Parameters<typeof store.updateAccount>[3] = {};
      if (patch.origin_owner_id) changes.origin_owner_id = patch.origin_owner_id;
      if (patch.origin_owner_name) changes.origin_owner_name = patch.origin_owner_name;
      if (patch.origin_username !== undefined) changes.origin_username = patch.origin_username;
      if (typeof patch.label === "string" || patch.label === null) changes.label = patch.label;
      if (patch.metadata && Object.keys(patch.metadata).length > 0) {
        changes.metadata = boundedFreeForm("metadata", mergeJson(row.metadata, patch.metadata), MERGED);
      }
      if (patch.setup_information && Object.keys(patch.setup_information).length > 0) {
        changes.setup_information = boundedFreeForm(
          "setup_information",
          mergeJson(row.setup_information, patch.setup_information),
          MERGED,
        );
      }
      if (patch.credentials && Object.keys(patch.credentials).length > 0) {
        const current = this.secrets.openJson<Record<string, unknown>>(
          row.credentials_sealed,
          credentialsContext(row.id),
        );
        const merged = JSON.parse(mergeJson(JSON.stringify(current), patch.credentials)) as Record<
          string,
          unknown
        >;
        changes.credentials_sealed = this.secrets.sealJson(merged, credentialsContext(row.id));
        const expiresAt = (patch.credentials as { expires_at?: unknown }).expires_at;
        if (typeof expiresAt === "string") changes.credentials_expires_at = expiresAt;
      }
      const fields = Object.keys(changes)
        .map((column) => (column === "credentials_sealed" ? "credentials" : column))
        .filter((field) => field !== "credentials_expires_at");
      changes.updated_at = this.now();
      await store.updateAccount(trx, projectId, accountId, changes);
      await recordAccountHistory(trx, {
        projectId,
        accountId,
        type: "updated",
        occurredAt: changes.updated_at,
        statusBefore: row.status,
        statusAfter: row.status,
        details: { fields },
      });
      const view = this.toView(await this.findOrThrow(trx, projectId, accountId));
      await this.events?.recordAccountEvent(trx, projectId, "account.updated", view);
      return view;
    });
  }

  async remove(projectId: string, accountId: string): Promise<LinkedAccountView> {
    return this.db.transaction().execute(async (trx) => {
      const view = this.toView(await this.findOrThrow(trx, projectId, accountId));
      await store.deleteAccount(trx, projectId, accountId);
      await deleteAccountHistory(trx, projectId, accountId);
      await this.events?.recordAccountEvent(trx, projectId, "account.deleted", view);
      return view;
    });
  }

  async meta(projectId: string, accountId: string) {
    const row = await this.findOrThrow(this.db, projectId, accountId);
    const provider = this.catalog.get(row.provider);
    return { provider: row.provider, category: provider?.categories[0] ?? "unknown", models: {} };
  }

  /**
   * Creates or renews the account a connect session leads to, inside the caller's transaction:
   * `account_id` renews that account, otherwise the same owner and provider renew the latest
   * account unless the session allows `multiple`. Returns the account id, and whether it is new.
   * Records `account.created` or `account.updated` in the same transaction.
   */
  async linkFromSession(
    trx: Kysely<Database>,
    session: ConnectingSession,
    connection: NewConnection,
  ): Promise<{ accountId: string; created: boolean }> {
    const now = this.now();
    const existing = session.accountId
      ? await this.findOrThrow(trx, session.projectId, session.accountId)
      : session.multiple
        ? undefined
        : await store.findLatestAccountOfOwner(
            trx,
            session.projectId,
            session.originOwnerId,
            connection.provider,
          );
    if (existing && existing.provider !== connection.provider) {
      throw new ApiError(409, `the account to re-authorize is connected to ${existing.provider}`);
    }
    const accountId = existing?.id ?? randomId("acc_");
    const fields = {
      auth_type: connection.authType,
      status: "active" as const,
      status_reasons: null,
      credentials_sealed: this.secrets.sealJson(connection.credentials, credentialsContext(accountId)),
      credentials_expires_at: connection.credentialsExpiresAt,
      setup_information: connection.setupInformation ? JSON.stringify(connection.setupInformation) : null,
      refresh_lease_until: null,
      updated_at: now,
    };
    if (existing) {
      await store.updateAccount(trx, session.projectId, existing.id, {
        ...fields,
        ...(session.label !== null ? { label: session.label } : {}),
        ...(session.metadata !== null ? { metadata: mergeJson(existing.metadata, session.metadata) } : {}),
        ...(session.originUsername !== null ? { origin_username: session.originUsername } : {}),
        origin_owner_name: session.originOwnerName,
      });
    } else {
      await store.insertAccount(trx, {
        id: accountId,
        project_id: session.projectId,
        provider: connection.provider,
        origin_owner_id: session.originOwnerId,
        origin_owner_name: session.originOwnerName,
        origin_username: session.originUsername,
        label: session.label,
        type: session.type,
        metadata: session.metadata ? JSON.stringify(session.metadata) : null,
        created_at: now,
        ...fields,
      });
    }
    await recordAccountHistory(trx, {
      projectId: session.projectId,
      accountId,
      type: existing ? "reauthorized" : "created",
      occurredAt: now,
      statusBefore: existing?.status ?? null,
      statusAfter: "active",
    });
    const view = this.toView(await this.findOrThrow(trx, session.projectId, accountId));
    await this.events?.recordAccountEvent(
      trx,
      session.projectId,
      existing ? "account.updated" : "account.created",
      view,
    );
    return { accountId, created: !existing };
  }

  /**
   * Puts an account into `error` after a failed credentials refresh. The
   * `account.credentials_refresh_failed` event is recorded in the same transaction when the
   * account enters `error` (not again while it stays there: each later call for fresh
   * credentials would otherwise emit one more).
   */
  async markRefreshFailed(
    projectId: string,
    accountId: string,
    reason: { code: string; description: string },
  ): Promise<store.LinkedAccountRow> {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.findOrThrow(trx, projectId, accountId);
      const now = this.now();
      await store.updateAccount(trx, projectId, accountId, {
        status: "error",
        status_reasons: JSON.stringify([{ ...reason, timestamp: now }]),
        updated_at: now,
      });
      const after = await this.findOrThrow(trx, projectId, accountId);
      // Once per failure run (a client asking again and again must not grow the history),
      // and again when the reason changes.
      const previousCode = before.status_reasons
        ? (JSON.parse(before.status_reasons) as StatusReasonView[])[0]?.code
        : undefined;
      if (before.status !== "error" || previousCode !== reason.code) {
        await recordAccountHistory(trx, {
          projectId,
          accountId,
          type: "refresh_failed",
          occurredAt: now,
          statusBefore: before.status,
          statusAfter: "error",
          reason,
        });
      }
      if (before.status !== "error") {
        await this.events?.recordAccountEvent(
          trx,
          projectId,
          "account.credentials_refresh_failed",
          this.toView(after),
        );
      }
      return after;
    });
  }

  /**
   * Records the outcome of an on-demand verification: credentials that no longer work put the
   * account in `error` with a status reason; working ones bring it back to `active`. Each change
   * of status records `account.updated` in the same transaction (a repeat of the same outcome
   * only refreshes the reason).
   */
  async recordVerification(
    projectId: string,
    accountId: string,
    outcome: { working: true } | { working: false; code: string; description: string },
  ): Promise<LinkedAccountView> {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.findOrThrow(trx, projectId, accountId);
      const now = this.now();
      const status = outcome.working ? ("active" as const) : ("error" as const);
      await recordAccountHistory(trx, {
        projectId,
        accountId,
        type: outcome.working ? "verified" : "verification_failed",
        occurredAt: now,
        statusBefore: before.status,
        statusAfter: status,
        reason: outcome.working ? undefined : { code: outcome.code, description: outcome.description },
      });
      if (outcome.working && before.status === "active") return this.toView(before);
      await store.updateAccount(trx, projectId, accountId, {
        status,
        status_reasons: outcome.working
          ? null
          : JSON.stringify([{ code: outcome.code, description: outcome.description, timestamp: now }]),
        updated_at: now,
      });
      const view = this.toView(await this.findOrThrow(trx, projectId, accountId));
      if (before.status !== status) {
        await this.events?.recordAccountEvent(trx, projectId, "account.updated", view);
      }
      return view;
    });
  }

  async findOrThrow(
    db: Kysely<Database>,
    projectId: string,
    accountId: string,
  ): Promise<store.LinkedAccountRow> {
    const row = await store.findAccount(db, projectId, accountId);
    if (!row) throw new ApiError(404, `Account ${accountId} does not exist`);
    return row;
  }

  toView(row: store.LinkedAccountRow): LinkedAccountView {
    return {
      id: row.id,
      provider: row.provider,
      provider_name: this.catalog.get(row.provider)?.name ?? null,
      status: row.status,
      status_reasons: row.status_reasons ? (JSON.parse(row.status_reasons) as StatusReasonView[]) : null,
      origin_owner_id: row.origin_owner_id,
      origin_owner_name: row.origin_owner_name,
      origin_username: row.origin_username,
      setup_information: row.setup_information
        ? (JSON.parse(row.setup_information) as Record<string, unknown>)
        : null,
      label: row.label,
      type: row.type,
      metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : null,
      auth_type: row.auth_type,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  private now(): string {
    return isoTimestamp(this.clock());
  }
}

function joinFilters(single: string | undefined, many: readonly string[] | undefined): string[] | undefined {
  const all = [...(single ? [single] : []), ...(many ?? [])];
  return all.length ? all : undefined;
}

/** Shallow merge of a JSON object column with changes; a null value removes the key. */
const MERGED = " once merged with the account's current value";

function mergeJson(current: string | null, changes: Record<string, unknown>): string {
  const merged: Record<string, unknown> = current ? (JSON.parse(current) as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return JSON.stringify(merged);
}
