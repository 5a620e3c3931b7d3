/**
 * The rules behind StackOne's embeddable component (`@stackone/hub`). Like the hosted page, it
 * authenticates with the connect session token and may see or do only what that session
 * allows. Accounts are created and re-authorized through the hosted page's own service
 * functions (`HubService.connectWithCredentials`, `startOAuth`, `completeOAuth`), so
 * verification, encryption, webhooks, `multiple` and session completion are the same.
 */
import type { Kysely } from "kysely";
import { type AccountService, credentialsContext } from "../accounts/service.js";
import type { ConnectSessionRow } from "../connect-sessions/store.js";
import type { SecretBox } from "../crypto/secrets.js";
import { hashToken, randomId } from "../crypto/tokens.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import type { HubService, OAuthOutcome } from "../hub/service.js";
import { OAUTH_STATE_TTL_SECONDS } from "../hub/service.js";
import type { CatalogProvider } from "../providers/catalog.js";
import * as tenancyStore from "../tenancy/store.js";
import { addSeconds, type Clock, isoTimestamp } from "../time.js";
import * as store from "./attempts-store.js";
import {
  authConfigKey,
  ENVIRONMENT,
  formFields,
  type HubConnectorConfig,
  type HubIntegration,
  redactSecret,
  toHubConnectorConfig,
  toHubIntegration,
} from "./connector-config.js";

export type AttemptStatus = "pending" | "authenticated" | "error" | "cancelled" | "expired";

export interface AttemptView {
  id: string;
  status: AttemptStatus;
  account: { id: string } | null;
  error: { code: string; description: string } | null;
}

export interface EmbeddedAccountView {
  id: string;
  provider: string;
  integrationId: string;
  authConfigKey: string;
  environment: string;
  setupInformation: Record<string, unknown>;
  secrets: Record<string, string>;
}

const EXPIRED_MESSAGE = "This session has expired or is not valid. Ask for a new one.";

export class EmbedService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly deps: {
      hub: HubService;
      accounts: AccountService;
      secrets: SecretBox;
      clock: Clock;
      publicUrl: string;
    },
  ) {}

  async liveSession(token: string | undefined): Promise<ConnectSessionRow | undefined> {
    return this.deps.hub.sessionByToken(token);
  }

  /** Whether an origin may call with this session (its project's exact allow-list). */
  async originAllowedForSession(session: ConnectSessionRow, origin: string): Promise<boolean> {
    return (await this.deps.hub.allowedOrigins(session.project_id)).includes(origin);
  }

  /** Whether some project allows an origin: all a preflight or an unknown token can be told. */
  originAllowedSomewhere(origin: string): Promise<boolean> {
    return tenancyStore.someProjectAllowsOrigin(this.db, origin);
  }

  async settings(
    token: string | undefined,
  ): Promise<{ enabled_features: string[]; existing_account_id?: string }> {
    const session = await this.sessionOrThrow(token);
    return {
      enabled_features: [],
      ...(session.account_id ? { existing_account_id: session.account_id } : {}),
    };
  }

  async connectors(
    token: string | undefined,
    provider: string | undefined,
  ): Promise<{ integrations: HubIntegration[] }> {
    const session = await this.sessionOrThrow(token);
    const allowed = await this.deps.hub.allowedIntegrations(session);
    return {
      integrations: allowed
        .filter((entry) => !provider || entry.provider.key === provider)
        .map((entry) => toHubIntegration(this.deps.publicUrl, entry.provider, entry.integrationId)),
    };
  }

  async connectorConfig(
    token: string | undefined,
    integrationId: string,
  ): Promise<{ config: HubConnectorConfig }> {
    const session = await this.sessionOrThrow(token);
    const provider = await this.providerOfIntegration(session, integrationId);
    return { config: toHubConnectorConfig(this.deps.publicUrl, provider) };
  }

  /** `POST /hub/accounts`: exactly the hosted page's credential form submission. */
  async createAccount(
    token: string | undefined,
    integrationId: string,
    credentials: Record<string, unknown>,
  ): Promise<{ id: string; provider: string }> {
    const session = await this.sessionOrThrow(token);
    const provider = await this.providerOfIntegration(session, integrationId);
    return this.deps.hub.connectWithCredentials(token, provider.key, credentials);
  }

  /** Edit mode: the account the session re-authorizes, secrets redacted. No other account. */
  async account(token: string | undefined, accountId: string): Promise<EmbeddedAccountView> {
    const session = await this.sessionOrThrow(token);
    const row = await this.sessionAccountOrThrow(session, accountId);
    const entry = (await this.deps.hub.allowedIntegrations(session)).find(
      (e) => e.provider.key === row.provider,
    );
    if (!entry) throw new ApiError(404, `${row.provider} is not available for this session`);
    const stored = this.storedCredentials(row);
    const secrets: Record<string, string> = {};
    for (const field of formFields(entry.provider)) {
      const value = stored[field.key];
      if (field.secret && typeof value === "string" && value !== "") secrets[field.key] = redactSecret(value);
    }
    const setupInformation = row.setup_information
      ? (JSON.parse(row.setup_information) as Record<string, unknown>)
      : {};
    return {
      id: row.id,
      provider: row.provider,
      integrationId: entry.integrationId,
      authConfigKey: authConfigKey(entry.provider),
      environment: ENVIRONMENT,
      setupInformation,
      secrets,
    };
  }

  /**
   * Edit mode's `PATCH`: re-authorizes the session's account with the hosted page's own
   * submission. The component leaves out secrets the user did not edit; those keep their
   * stored value there (only secrets: a cleared plain field stays cleared).
   */
  async updateAccount(
    token: string | undefined,
    accountId: string,
    integrationId: string,
    credentials: Record<string, unknown>,
  ): Promise<{ id: string; provider: string }> {
    const session = await this.sessionOrThrow(token);
    const row = await this.sessionAccountOrThrow(session, accountId);
    const provider = await this.providerOfIntegration(session, integrationId);
    if (provider.key !== row.provider) {
      throw new ApiError(422, `The account is connected to ${row.provider}, not ${provider.key}`);
    }
    if (provider.auth.type === "oauth2") {
      throw new ApiError(400, `${provider.name} re-authorizes through OAuth2, not a credential form`);
    }
    // The hosted page's submission keeps a secret the form leaves out.
    return this.deps.hub.connectWithCredentials(token, provider.key, credentials);
  }

  async createAttempt(token: string | undefined): Promise<{ id: string }> {
    const session = await this.sessionOrThrow(token);
    if (session.status !== "pending")
      throw new ApiError(409, "This session was already used to connect an account.");
    const now = this.deps.clock();
    const id = randomId("cat_");
    await store.insertConnectionAttempt(this.db, {
      id,
      project_id: session.project_id,
      session_id: session.id,
      status: "pending",
      state_hash: null,
      redirect_uri: null,
      account_id: null,
      error_code: null,
      error_description: null,
      created_at: isoTimestamp(now),
      updated_at: isoTimestamp(now),
      expires_at: isoTimestamp(addSeconds(now, OAUTH_STATE_TTL_SECONDS)),
    });
    return { id };
  }

  async attempt(token: string | undefined, attemptId: string): Promise<AttemptView> {
    const session = await this.sessionOrThrow(token);
    return this.toAttemptView(await this.attemptOrThrow(session, attemptId));
  }

  async cancelAttempt(token: string | undefined, attemptId: string): Promise<AttemptView> {
    const session = await this.sessionOrThrow(token);
    const attempt = await this.attemptOrThrow(session, attemptId);
    await store.updatePendingAttempt(this.db, session.project_id, attempt.id, this.now(), {
      status: "cancelled",
    });
    return this.toAttemptView(await this.attemptOrThrow(session, attemptId));
  }

  /**
   * The popup's entry: checks the attempt and where the popup may be sent at the end, then
   * starts the hosted page's own OAuth2 flow (state bound to the session, the provider and
   * this browser) and ties its state to the attempt. Answers where to send the popup.
   */
  async beginPopup(
    request: {
      token: string;
      attemptId: string;
      integrationId: string;
      redirectUri: string;
      values: Record<string, string>;
    },
    browserBinding: string,
  ): Promise<{ authorizationUrl: string }> {
    const session = await this.sessionOrThrow(request.token);
    const attempt = await this.attemptOrThrow(session, request.attemptId);
    if (this.toAttemptView(attempt).status !== "pending") {
      throw new ApiError(409, "This connection attempt has ended. Start again from the app.");
    }
    try {
      if (!(await this.redirectAllowed(session, request.redirectUri))) {
        throw new ApiError(400, "redirect_uri is not on this project's allowed origins");
      }
      const provider = await this.providerOfIntegration(session, request.integrationId);
      const setupKeys = new Set(formFields(provider).map((field) => field.key));
      const setupValues = Object.fromEntries(
        Object.entries(request.values).filter(([key]) => setupKeys.has(key)),
      );
      const { authorizationUrl } = await this.deps.hub.startOAuth(
        request.token,
        provider.key,
        setupValues,
        browserBinding,
      );
      const state = new URL(authorizationUrl).searchParams.get("state");
      if (!state) throw new Error("startOAuth gave an authorization URL without state");
      await store.updatePendingAttempt(this.db, session.project_id, attempt.id, this.now(), {
        state_hash: hashToken(state),
        redirect_uri: request.redirectUri,
      });
      return { authorizationUrl };
    } catch (error) {
      if (error instanceof ApiError) await this.failAttempt(attempt, "Could not start", error.message);
      throw error;
    }
  }

  /**
   * After the hosted page's OAuth callback: records the outcome on the attempt the state was
   * issued for, if any. Answers where to send the popup on success (checked when it began).
   */
  async recordOAuthOutcome(state: string | undefined, outcome: OAuthOutcome): Promise<string | undefined> {
    if (!state) return undefined;
    const attempt = await store.findPendingAttemptByStateHash(this.db, hashToken(state), this.now());
    if (!attempt) return undefined;
    if (outcome.ok) {
      await store.updatePendingAttempt(this.db, attempt.project_id, attempt.id, this.now(), {
        status: "authenticated",
        account_id: outcome.account.id,
      });
      return attempt.redirect_uri ?? undefined;
    }
    await this.failAttempt(attempt, outcome.title, outcome.message);
    return undefined;
  }

  /** Where the popup may finish: an allowed origin of the project, or this server itself. */
  private async redirectAllowed(session: ConnectSessionRow, redirectUri: string): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(redirectUri);
    } catch {
      return false;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return false;
    if (url.username || url.password) return false;
    const origins = [
      new URL(this.deps.publicUrl).origin,
      ...(await this.deps.hub.allowedOrigins(session.project_id)),
    ];
    return origins.includes(url.origin);
  }

  private async failAttempt(attempt: store.ConnectionAttemptRow, code: string, description: string) {
    await store.updatePendingAttempt(this.db, attempt.project_id, attempt.id, this.now(), {
      status: "error",
      error_code: code,
      error_description: description,
    });
  }

  private toAttemptView(row: store.ConnectionAttemptRow): AttemptView {
    const expired = row.status === "pending" && row.expires_at <= this.now();
    return {
      id: row.id,
      status: expired ? "expired" : row.status,
      account: row.status === "authenticated" && row.account_id ? { id: row.account_id } : null,
      error:
        row.status === "error"
          ? { code: row.error_code ?? "error", description: row.error_description ?? "" }
          : null,
    };
  }

  private async attemptOrThrow(session: ConnectSessionRow, attemptId: string) {
    const attempt = await store.findConnectionAttempt(this.db, session.project_id, session.id, attemptId);
    if (!attempt) throw new ApiError(404, `Connection attempt ${attemptId} does not exist`);
    return attempt;
  }

  private async sessionOrThrow(token: string | undefined): Promise<ConnectSessionRow> {
    const session = await this.deps.hub.sessionByToken(token);
    if (!session) throw new ApiError(401, EXPIRED_MESSAGE);
    return session;
  }

  private async providerOfIntegration(
    session: ConnectSessionRow,
    integrationId: string,
  ): Promise<CatalogProvider> {
    const entry = (await this.deps.hub.allowedIntegrations(session)).find(
      (e) => e.integrationId === integrationId,
    );
    if (!entry) throw new ApiError(404, `Integration ${integrationId} is not available for this session`);
    return entry.provider;
  }

  /** Only the account the session names; any other id answers as if it did not exist. */
  private async sessionAccountOrThrow(session: ConnectSessionRow, accountId: string) {
    if (session.account_id !== accountId) throw new ApiError(404, `Account ${accountId} does not exist`);
    return this.deps.accounts.findOrThrow(this.db, session.project_id, accountId);
  }

  private storedCredentials(row: { id: string; credentials_sealed: string }): Record<string, unknown> {
    return this.deps.secrets.openJson<Record<string, unknown>>(
      row.credentials_sealed,
      credentialsContext(row.id),
    );
  }

  private now(): string {
    return isoTimestamp(this.deps.clock());
  }
}
