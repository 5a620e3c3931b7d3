/**
 * Fresh credentials for a linked account. An OAuth2 access token that has expired (or will
 * within a minute) is refreshed first, once even under concurrent calls: within a process
 * concurrent callers share one refresh, and across processes a lease taken in one atomic
 * UPDATE lets one process refresh while the others wait for its result.
 */
import type { Kysely } from "kysely";
import { ConnectionChecker } from "../connections/checker.js";
import type { SecretBox } from "../crypto/secrets.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import type { IntegrationService } from "../integrations/service.js";
import { type OAuthTokenClient, OAuthTokenError, type TokenSet } from "../oauth/token-client.js";
import { OutboundRequestError } from "../outbound/client.js";
import type { ProviderCatalog } from "../providers/catalog.js";
import { addSeconds, type Clock, isoTimestamp } from "../time.js";
import { recordAccountHistory } from "./history.js";
import { type AccountService, credentialsContext } from "./service.js";
import * as store from "./store.js";

const REFRESH_MARGIN_SECONDS = 60;
const LEASE_SECONDS = 30;
const WAIT_STEP_MS = 100;
/** Takeovers tried before answering 503 (each after a lease lapsed unreleased). */
const MAX_LEASE_ROUNDS = 3;

export interface AccountCredentialsView {
  id: string;
  provider: string;
  auth_type: store.LinkedAccountRow["auth_type"];
  credentials: Record<string, unknown>;
  expires_at: string | null;
  setup_information: Record<string, unknown> | null;
}

type StoredOAuthCredentials = TokenSet;

export class CredentialService {
  private readonly inFlight = new Map<string, Promise<store.LinkedAccountRow>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly accounts: AccountService,
    private readonly integrations: IntegrationService,
    private readonly catalog: ProviderCatalog,
    private readonly secrets: SecretBox,
    private readonly tokens: OAuthTokenClient,
    private readonly clock: Clock,
  ) {}

  async fresh(projectId: string, accountId: string): Promise<AccountCredentialsView> {
    let row = await this.accounts.findOrThrow(this.db, projectId, accountId);
    if (this.needsRefresh(row)) row = await this.refreshOnce(row);
    return this.toView(row);
  }

  /** `fresh` for an account already read (the proxy checks its status before using it). */
  async freshFor(row: store.LinkedAccountRow): Promise<AccountCredentialsView> {
    return this.toView(this.needsRefresh(row) ? await this.refreshOnce(row) : row);
  }

  /**
   * After a provider answered 401 to `rejectedAccessToken`: the account's credentials after one
   * refresh (shared, like `fresh`'s, by concurrent callers and processes), or the newer token
   * another call has already put in its place. Undefined when there is nothing to refresh with
   * (not OAuth2, or no refresh token): the 401 stands.
   */
  async refreshRejected(
    projectId: string,
    accountId: string,
    rejectedAccessToken: string,
  ): Promise<AccountCredentialsView | undefined> {
    const row = await this.accounts.findOrThrow(this.db, projectId, accountId);
    if (row.auth_type !== "oauth2") return undefined;
    const stored = this.secrets.openJson<StoredOAuthCredentials>(
      row.credentials_sealed,
      credentialsContext(row.id),
    );
    if (stored.access_token !== rejectedAccessToken) return this.toView(row);
    if (!stored.refresh_token) return undefined;
    // Refreshed unless, once under the lease, another caller has already replaced the token.
    const stillRejected = (current: store.LinkedAccountRow) =>
      this.secrets.openJson<StoredOAuthCredentials>(
        current.credentials_sealed,
        credentialsContext(current.id),
      ).access_token === rejectedAccessToken;
    return this.toView(await this.refreshOnce(row, stillRejected));
  }

  private needsRefresh(row: store.LinkedAccountRow): boolean {
    if (row.auth_type !== "oauth2" || !row.credentials_expires_at) return false;
    return row.credentials_expires_at <= isoTimestamp(addSeconds(this.clock(), REFRESH_MARGIN_SECONDS));
  }

  /**
   * `stillNeeded` is asked again under the lease (an expired token by default; the proxy asks
   * whether the token a provider refused is still the stored one).
   */
  private refreshOnce(
    row: store.LinkedAccountRow,
    stillNeeded: (current: store.LinkedAccountRow) => boolean = (current) => this.needsRefresh(current),
  ): Promise<store.LinkedAccountRow> {
    const key = `${row.project_id}:${row.id}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.refreshWithLease(row, stillNeeded).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /**
   * Refreshes under the cross-process lease. Without it, waits for the holder's result; a lease
   * that lapses unreleased (its holder died mid-refresh) is taken over, so a dead process never
   * leaves an account unrefreshable for longer than the lease.
   */
  private async refreshWithLease(
    row: store.LinkedAccountRow,
    stillNeeded: (current: store.LinkedAccountRow) => boolean,
  ): Promise<store.LinkedAccountRow> {
    let current = row;
    for (let round = 0; round < MAX_LEASE_ROUNDS; round++) {
      const now = this.clock();
      const leased = await store.acquireRefreshLease(
        this.db,
        current.project_id,
        current.id,
        isoTimestamp(now),
        isoTimestamp(addSeconds(now, LEASE_SECONDS)),
      );
      if (leased) {
        try {
          // Read again under the lease: a holder that finished meanwhile may have refreshed.
          const leasedRow = await this.accounts.findOrThrow(this.db, current.project_id, current.id);
          return stillNeeded(leasedRow) ? await this.refresh(leasedRow) : leasedRow;
        } finally {
          await store.updateAccount(this.db, current.project_id, current.id, { refresh_lease_until: null });
        }
      }
      const settled = await this.waitForOtherRefresh(current);
      if (settled) return settled;
      // The holder's lease lapsed without a result: take it over.
      current = await this.accounts.findOrThrow(this.db, current.project_id, current.id);
    }
    throw refreshTakesTooLong();
  }

  /** The row once the holder released its lease; undefined once the lease lapsed unreleased. */
  private async waitForOtherRefresh(
    row: store.LinkedAccountRow,
  ): Promise<store.LinkedAccountRow | undefined> {
    for (let waited = 0; waited < LEASE_SECONDS * 1000; waited += WAIT_STEP_MS) {
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
      const current = await this.accounts.findOrThrow(this.db, row.project_id, row.id);
      if (current.refresh_lease_until === null) {
        if (current.status === "error") throw refreshFailed(current);
        return current;
      }
      // Same comparison as acquireRefreshLease: a lease before now can be taken.
      if (current.refresh_lease_until < isoTimestamp(this.clock())) return undefined;
    }
    throw refreshTakesTooLong();
  }

  private async refresh(row: store.LinkedAccountRow): Promise<store.LinkedAccountRow> {
    const stored = this.secrets.openJson<StoredOAuthCredentials>(
      row.credentials_sealed,
      credentialsContext(row.id),
    );
    const provider = this.catalog.get(row.provider);
    const client = await this.integrations.oauthClient(row.project_id, row.provider);
    if (!stored.refresh_token || !provider || provider.auth.type !== "oauth2" || !client) {
      return this.markFailed(
        row,
        "refresh_unavailable",
        "The access token expired and cannot be refreshed: reconnect the account",
      );
    }
    const setup = (row.setup_information ? JSON.parse(row.setup_information) : {}) as Record<string, string>;
    let tokens: TokenSet;
    let tokenResponse: Readonly<Record<string, unknown>>;
    try {
      ({ tokens, response: tokenResponse } = await this.tokens.refreshForGrant(
        {
          tokenUrl: this.catalog.resolveOAuthUrls(provider, setup).tokenUrl,
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          authMethod: provider.auth.tokenAuthMethod ?? "client_secret_basic",
        },
        stored.refresh_token,
      ));
    } catch (error) {
      if (error instanceof OAuthTokenError) {
        return this.markFailed(row, "refresh_failed", `The provider refused the refresh: ${error.message}`, [
          { status: error.status, url: error.url, raw: error.raw },
        ]);
      }
      if (error instanceof OutboundRequestError) {
        throw new ApiError(502, `Could not refresh the credentials: ${error.message}`);
      }
      throw error;
    }
    const renewed: StoredOAuthCredentials = {
      ...stored,
      ...tokens,
      refresh_token: tokens.refresh_token ?? stored.refresh_token,
    };
    // Connection metadata stays; a refresh answer may carry newer token-response values.
    const metadataUpdates = ConnectionChecker.refreshedMetadata(provider, tokenResponse);
    const now = isoTimestamp(this.clock());
    await this.db.transaction().execute(async (trx) => {
      await store.updateAccount(trx, row.project_id, row.id, {
        credentials_sealed: this.secrets.sealJson(renewed, credentialsContext(row.id)),
        credentials_expires_at: renewed.expires_at ?? null,
        ...(Object.keys(metadataUpdates).length
          ? { setup_information: JSON.stringify({ ...setup, ...metadataUpdates }) }
          : {}),
        status: "active",
        status_reasons: null,
        updated_at: now,
      });
      await recordAccountHistory(trx, {
        projectId: row.project_id,
        accountId: row.id,
        type: "refreshed",
        occurredAt: now,
        statusBefore: row.status,
        statusAfter: "active",
      });
    });
    return this.accounts.findOrThrow(this.db, row.project_id, row.id);
  }

  /** Records why the credentials are unusable on the account (with its event), then answers 502. */
  private async markFailed(
    row: store.LinkedAccountRow,
    code: string,
    description: string,
    providerErrors?: unknown[],
  ): Promise<never> {
    throw refreshFailed(
      await this.accounts.markRefreshFailed(row.project_id, row.id, { code, description }),
      providerErrors,
    );
  }

  private toView(row: store.LinkedAccountRow): AccountCredentialsView {
    const stored = this.secrets.openJson<Record<string, unknown>>(
      row.credentials_sealed,
      credentialsContext(row.id),
    );
    const credentials =
      row.auth_type === "oauth2"
        ? pick(stored, ["access_token", "token_type", "scope", "expires_at", "id_token"])
        : stored;
    return {
      id: row.id,
      provider: row.provider,
      auth_type: row.auth_type,
      credentials,
      expires_at: row.credentials_expires_at,
      setup_information: row.setup_information
        ? (JSON.parse(row.setup_information) as Record<string, unknown>)
        : null,
    };
  }
}

function refreshTakesTooLong(): ApiError {
  return new ApiError(
    503,
    "Another refresh of this account's credentials is taking too long; retry shortly",
    {
      retryAfterSeconds: 1,
    },
  );
}

function refreshFailed(row: store.LinkedAccountRow, providerErrors?: unknown[]): ApiError {
  const reasons = row.status_reasons
    ? (JSON.parse(row.status_reasons) as Array<{ description?: string }>)
    : [];
  return new ApiError(502, reasons[0]?.description ?? "The credentials could not be refreshed", {
    ...(providerErrors ? { providerErrors } : {}),
  });
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]]));
}
