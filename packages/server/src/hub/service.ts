/**
 * The rules of the hosted connect page. The page authenticates with the connect session token
 * (never an API key); everything it may see or do is derived from that session: the providers
 * it allows, the account it re-authorizes, the origins that may receive its messages.
 */
import type { Kysely } from "kysely";
import { type AccountService, type AuthType, credentialsContext } from "../accounts/service.js";
import type { LinkedAccountRow } from "../accounts/store.js";
import * as sessionStore from "../connect-sessions/store.js";
import { ConnectionCheckError, type ConnectionChecker } from "../connections/checker.js";
import type { SecretBox } from "../crypto/secrets.js";
import { hashToken, issueToken, TOKEN_PREFIX, timeOrderedTokenKeys } from "../crypto/tokens.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import type { IntegrationService } from "../integrations/service.js";
import { createPkcePair } from "../oauth/pkce.js";
import * as stateStore from "../oauth/store.js";
import { type OAuthTokenClient, OAuthTokenError } from "../oauth/token-client.js";
import { OutboundRequestError } from "../outbound/client.js";
import type { CatalogProvider, ProviderCatalog } from "../providers/catalog.js";
import { ProviderSetupError } from "../providers/oauth-urls.js";
import type { TenancyService } from "../tenancy/service.js";
import { type ResolvedTheme, resolveTheme, type ThemeLinkOverride } from "../theme/theme.js";
import { addSeconds, type Clock, isoTimestamp } from "../time.js";
import type { WebhookOutbox } from "../webhooks/outbox.js";
import { checkFieldValues } from "./forms.js";
import { formFields, type PageProvider, toPageProvider } from "./page-model.js";
import { maskSecret } from "./secret-display.js";

export const OAUTH_STATE_TTL_SECONDS = 600;

type SessionRow = sessionStore.ConnectSessionRow;

export interface PageModel {
  session: {
    /**
     * An opaque, unguessable reference to this session's page (its id sealed with the server
     * key), which the page puts in its address so a reload keeps its framing rules. The
     * sequential id is never shown: it would let anyone read a project's allowed origins.
     */
    page_ref: string;
    status: SessionRow["status"];
    origin_owner_name: string;
    expires_at: string;
    reauthorizing: {
      account_id: string;
      provider: string;
      /** The account's non-secret values, to pre-fill the form. */
      setup_information: Record<string, unknown>;
      /** Its secrets, masked for display; a secret left out of the form keeps its value. */
      masked_secrets: Record<string, string>;
    } | null;
  };
  providers: PageProvider[];
  allowed_origins: string[];
  /** The project's theme with the auth link's overrides applied. */
  theme: ResolvedTheme;
}

export interface ConnectedAccount {
  id: string;
  provider: string;
}

export type OAuthOutcome =
  | { ok: true; account: ConnectedAccount; providerName: string; allowedOrigins: string[] }
  | { ok: false; title: string; message: string; cancelled: boolean; allowedOrigins: string[] };

export interface OAuthCallbackParams {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  iss?: string | undefined;
  /** Every query parameter of the callback (some providers send metadata there). */
  all?: Readonly<Record<string, unknown>> | undefined;
}

export class HubService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly deps: {
      catalog: ProviderCatalog;
      integrations: IntegrationService;
      accounts: AccountService;
      tenancy: TenancyService;
      secrets: SecretBox;
      tokens: OAuthTokenClient;
      /** Verifies credentials and collects connection metadata with the provider. */
      checker: ConnectionChecker;
      clock: Clock;
      publicUrl: string;
      /** Where `connect_session.completed` is recorded, in the completion's transaction. */
      events?: WebhookOutbox;
    },
  ) {}

  get redirectUri(): string {
    return `${this.deps.publicUrl}/connect/oauth/callback`;
  }

  /**
   * The live session behind a token, or undefined: the page tells nothing more. Every use of
   * a token by the hosted page and the embedded hub comes here, so the first one records the
   * session as opened (once: a session already opened costs nothing more).
   */
  async sessionByToken(token: string | undefined): Promise<SessionRow | undefined> {
    if (!token?.startsWith(TOKEN_PREFIX.connectSession)) return undefined;
    const now = this.now();
    const session = await sessionStore.findLiveConnectSessionByTokenKeysInAnyProject(
      this.db,
      timeOrderedTokenKeys(token, TOKEN_PREFIX.connectSession),
      now,
    );
    if (!session || session.opened_at !== null) return session;
    await sessionStore.markConnectSessionOpened(this.db, session, now);
    return { ...session, opened_at: now };
  }

  async allowedOrigins(projectId: string): Promise<string[]> {
    return (await this.deps.tenancy.settings(projectId)).allowed_origins;
  }

  /** Origins that may frame the page of a session, found by its page reference (see PageModel). */
  async allowedOriginsForPageRef(pageRef: string): Promise<string[]> {
    let sessionId: number;
    try {
      sessionId = Number(this.deps.secrets.open(pageRef, PAGE_REF_CONTEXT));
    } catch {
      return [];
    }
    if (!Number.isSafeInteger(sessionId)) return [];
    const session = await sessionStore.findConnectSessionById(this.db, sessionId);
    return session ? this.allowedOrigins(session.project_id) : [];
  }

  async pageModel(token: string | undefined, themeOverride: ThemeLinkOverride = {}): Promise<PageModel> {
    const session = await this.liveSessionOrThrow(token);
    const settings = await this.deps.tenancy.settings(session.project_id);
    const reauthorizing = session.account_id
      ? await this.deps.accounts
          .findOrThrow(this.db, session.project_id, session.account_id)
          .catch(() => undefined)
      : undefined;
    return {
      session: {
        page_ref: this.deps.secrets.seal(String(session.id), PAGE_REF_CONTEXT),
        status: session.status,
        origin_owner_name: session.origin_owner_name,
        expires_at: session.expires_at,
        reauthorizing: reauthorizing ? this.reauthorizationPrefill(reauthorizing) : null,
      },
      providers: (await this.allowedProviders(session)).map(toPageProvider),
      allowed_origins: settings.allowed_origins,
      theme: resolveTheme(settings.theme, themeOverride),
    };
  }

  /**
   * API key and basic providers: validates the form, checks the credentials with the provider
   * (unless the integration turned that off), and only then links the account.
   */
  async connectWithCredentials(
    token: string | undefined,
    providerKey: string,
    values: Record<string, unknown>,
  ): Promise<ConnectedAccount> {
    const session = await this.pendingSessionOrThrow(token);
    const provider = await this.allowedProviderOrThrow(session, providerKey);
    if (provider.auth.type === "oauth2") {
      throw new ApiError(400, `${provider.name} connects with OAuth2, not a credential form`);
    }
    const checked = checkFieldValues(
      provider.auth.fields,
      await this.withStoredSecrets(session, provider, values),
    );
    const setupInformation = Object.fromEntries(
      provider.auth.fields
        .filter((f) => !f.secret && checked[f.key] !== undefined)
        .map((f) => [f.key, checked[f.key]]),
    );
    try {
      await this.verifyIfEnabled(session, provider, { credentials: checked, setupInformation });
    } catch (error) {
      if (!(error instanceof ConnectionCheckError)) throw error;
      const providerTrouble = error.result === "unreachable" || error.result === "failed";
      throw new ApiError(providerTrouble ? 502 : 400, error.message);
    }
    return this.complete(session, provider.key, provider.auth.type, {
      credentials: checked,
      credentialsExpiresAt: null,
      setupInformation: Object.keys(setupInformation).length ? setupInformation : null,
    });
  }

  /**
   * OAuth2: records a single-use state bound to the session, the provider and the browser
   * (the hash of the binding cookie's value), and returns where to send the browser.
   */
  async startOAuth(
    token: string | undefined,
    providerKey: string,
    setupValues: Record<string, string>,
    browserBinding: string,
  ): Promise<{ authorizationUrl: string }> {
    const session = await this.pendingSessionOrThrow(token);
    const provider = await this.allowedProviderOrThrow(session, providerKey);
    if (provider.auth.type !== "oauth2") {
      throw new ApiError(400, `${provider.name} connects with a credential form, not OAuth2`);
    }
    const client = await this.deps.integrations.oauthClient(session.project_id, provider.key);
    if (!client) throw new ApiError(404, `${provider.name} is not available for this link`);
    let urls: ReturnType<ProviderCatalog["resolveOAuthUrls"]>;
    try {
      urls = this.deps.catalog.resolveOAuthUrls(provider, setupValues);
    } catch (error) {
      if (error instanceof ProviderSetupError) throw new ApiError(400, error.message);
      throw error;
    }
    const state = issueToken(TOKEN_PREFIX.oauthState);
    const pkce = provider.auth.pkce ? createPkcePair() : undefined;
    const now = this.deps.clock();
    await stateStore.insertOAuthState(this.db, {
      state_hash: state.hash,
      project_id: session.project_id,
      session_id: session.id,
      provider: provider.key,
      browser_binding_hash: hashToken(browserBinding),
      code_verifier_sealed: pkce ? this.deps.secrets.seal(pkce.verifier, verifierContext(state.hash)) : null,
      redirect_uri: this.redirectUri,
      setup_values: Object.keys(setupValues).length ? JSON.stringify(setupValues) : null,
      created_at: isoTimestamp(now),
      expires_at: isoTimestamp(addSeconds(now, OAUTH_STATE_TTL_SECONDS)),
      consumed_at: null,
    });
    const url = new URL(urls.authorizationUrl);
    for (const [key, value] of Object.entries(provider.auth.authorizationParams ?? {}))
      url.searchParams.set(key, value);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("client_id", client.clientId);
    url.searchParams.set("redirect_uri", this.redirectUri);
    const scope = client.scopes ? client.scopes.join(provider.auth.scopeSeparator ?? " ") : urls.scope;
    if (scope) url.searchParams.set("scope", scope);
    url.searchParams.set("state", state.token);
    if (pkce) {
      url.searchParams.set("code_challenge", pkce.challenge);
      url.searchParams.set("code_challenge_method", "S256");
    }
    return { authorizationUrl: url.toString() };
  }

  /** The provider's redirect back: consumes the state, exchanges the code, links the account. */
  async completeOAuth(
    params: OAuthCallbackParams,
    browserBinding: string | undefined,
  ): Promise<OAuthOutcome> {
    const fail = (
      title: string,
      message: string,
      allowedOrigins: string[] = [],
      cancelled = false,
    ): OAuthOutcome => ({
      ok: false,
      title,
      message,
      cancelled,
      allowedOrigins,
    });
    if (!params.state)
      return fail("Something went wrong", "The provider sent no state. Start again from your link.");
    // The browser binding is checked in the statement that consumes the state: a callback
    // from another browser leaves the state for the browser that started it.
    const stateHash = hashToken(params.state);
    const state = browserBinding
      ? await stateStore.consumeOAuthState(this.db, stateHash, hashToken(browserBinding), this.now())
      : undefined;
    if (!state) {
      if (await stateStore.isLiveOAuthState(this.db, stateHash, this.now())) {
        return fail(
          "This authorization was started elsewhere",
          "It must finish in the browser that started it. Start again from your link in this browser.",
        );
      }
      return fail(
        "This authorization has expired",
        "It was already used or took too long. Start again from your link.",
      );
    }
    const origins = await this.allowedOrigins(state.project_id);
    const session = await sessionStore.findConnectSessionById(this.db, state.session_id);
    if (!session || session.project_id !== state.project_id || session.expires_at <= this.now()) {
      return fail("This link has expired", "Ask for a new link to connect your account.", origins);
    }
    if (session.status !== "pending") {
      return fail("This link was already used", "An account was already connected with it.", origins);
    }
    const provider = this.deps.catalog.get(state.provider);
    if (provider?.auth.type !== "oauth2") {
      return fail("This provider is no longer available", "Ask for a new link.", origins);
    }
    if (params.iss && provider.auth.issuer && params.iss !== provider.auth.issuer) {
      return fail(
        "The authorization came from the wrong provider",
        "Nothing was connected. Start again.",
        origins,
      );
    }
    if (params.error) {
      const cancelled = params.error === "access_denied";
      return fail(
        cancelled ? "Authorization cancelled" : `${provider.name} could not authorize the connection`,
        cancelled
          ? `You cancelled the authorization at ${provider.name}. Nothing was connected; you can try again.`
          : `${provider.name} answered: ${params.error_description ?? params.error}. You can try again.`,
        origins,
        cancelled,
      );
    }
    if (!params.code)
      return fail("Something went wrong", `${provider.name} sent no authorization code.`, origins);
    const client = await this.deps.integrations.oauthClient(state.project_id, provider.key);
    if (!client) return fail(`${provider.name} is not available`, "Ask for a new link.", origins);
    const setup = state.setup_values ? (JSON.parse(state.setup_values) as Record<string, string>) : {};
    try {
      const { tokens, response } = await this.deps.tokens.exchangeCodeForGrant(
        {
          tokenUrl: this.deps.catalog.resolveOAuthUrls(provider, setup).tokenUrl,
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          authMethod: provider.auth.tokenAuthMethod ?? "client_secret_basic",
        },
        {
          code: params.code,
          redirectUri: state.redirect_uri,
          ...(state.code_verifier_sealed
            ? {
                codeVerifier: this.deps.secrets.open(
                  state.code_verifier_sealed,
                  verifierContext(state.state_hash),
                ),
              }
            : {}),
        },
      );
      const metadata = await this.deps.checker.collectMetadata(
        provider,
        { tokenResponse: response, callbackParams: params.all ?? {} },
        { credentials: { ...tokens }, setupInformation: setup },
      );
      const setupInformation = { ...setup, ...metadata };
      await this.verifyIfEnabled(session, provider, { credentials: { ...tokens }, setupInformation });
      const account = await this.complete(session, provider.key, "oauth2", {
        credentials: { ...tokens },
        credentialsExpiresAt: tokens.expires_at ?? null,
        setupInformation: Object.keys(setupInformation).length ? setupInformation : null,
      });
      return { ok: true, account, providerName: provider.name, allowedOrigins: origins };
    } catch (error) {
      if (error instanceof ConnectionCheckError) {
        return fail(`${provider.name} could not be connected`, error.message, origins);
      }
      if (error instanceof OAuthTokenError || error instanceof OutboundRequestError) {
        return fail(
          `${provider.name} did not complete the connection`,
          `${provider.name} refused to issue access (${error instanceof OAuthTokenError ? error.error : error.reason}). You can try again.`,
          origins,
        );
      }
      if (error instanceof ApiError) return fail("The connection could not be saved", error.message, origins);
      throw error;
    }
  }

  /** Throws `ConnectionCheckError` when the provider does not accept the credentials. */
  private async verifyIfEnabled(
    session: SessionRow,
    provider: CatalogProvider,
    values: { credentials: Record<string, unknown>; setupInformation: Record<string, unknown> },
  ): Promise<void> {
    if (!(await this.deps.integrations.verificationEnabled(session.project_id, provider.key))) return;
    await this.deps.checker.verifyOrThrow(provider, values);
  }

  /** What the form of a re-authorization shows: plain values pre-filled, secrets masked. */
  private reauthorizationPrefill(
    account: LinkedAccountRow,
  ): NonNullable<PageModel["session"]["reauthorizing"]> {
    const provider = this.deps.catalog.get(account.provider);
    const fields = provider ? formFields(provider) : [];
    const stored = this.storedCredentials(account);
    const masked_secrets: Record<string, string> = {};
    for (const field of fields) {
      const value = stored[field.key];
      if (field.secret && typeof value === "string" && value !== "")
        masked_secrets[field.key] = maskSecret(value);
    }
    return {
      account_id: account.id,
      provider: account.provider,
      setup_information: account.setup_information
        ? (JSON.parse(account.setup_information) as Record<string, unknown>)
        : {},
      masked_secrets,
    };
  }

  /**
   * Re-authorizing an account, a secret the form leaves out (the user did not edit it) keeps
   * its stored value; everything else comes from the form as given.
   */
  private async withStoredSecrets(
    session: SessionRow,
    provider: CatalogProvider,
    values: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    if (!session.account_id || provider.auth.type === "oauth2") return values;
    const account = await this.deps.accounts
      .findOrThrow(this.db, session.project_id, session.account_id)
      .catch(() => undefined);
    if (account?.provider !== provider.key) return values;
    const stored = this.storedCredentials(account);
    const merged = { ...values };
    for (const field of provider.auth.fields) {
      const given = Object.hasOwn(values, field.key) ? values[field.key] : undefined;
      if (field.secret && (given === undefined || given === null) && typeof stored[field.key] === "string") {
        merged[field.key] = stored[field.key];
      }
    }
    return merged;
  }

  private storedCredentials(account: LinkedAccountRow): Record<string, unknown> {
    return this.deps.secrets.openJson<Record<string, unknown>>(
      account.credentials_sealed,
      credentialsContext(account.id),
    );
  }

  private async complete(
    session: SessionRow,
    providerKey: string,
    authType: AuthType,
    connection: {
      credentials: Record<string, unknown>;
      credentialsExpiresAt: string | null;
      setupInformation: Record<string, unknown> | null;
    },
  ): Promise<ConnectedAccount> {
    return this.db.transaction().execute(async (trx) => {
      const { accountId } = await this.deps.accounts.linkFromSession(
        trx,
        {
          projectId: session.project_id,
          originOwnerId: session.origin_owner_id,
          originOwnerName: session.origin_owner_name,
          originUsername: session.origin_username,
          accountId: session.account_id,
          multiple: session.multiple === 1,
          label: session.label,
          metadata: session.metadata ? (JSON.parse(session.metadata) as Record<string, unknown>) : null,
          type: session.type,
        },
        { provider: providerKey, authType, ...connection },
      );
      const completed = await sessionStore.completeConnectSession(
        trx,
        session.project_id,
        session.id,
        accountId,
        this.now(),
      );
      if (!completed)
        throw new ApiError(409, "This link was already used to connect an account, or it has expired");
      const account = { id: accountId, provider: providerKey };
      await this.deps.events?.recordSessionEvent(
        trx,
        "connect_session.completed",
        { ...session, status: "completed", connected_account_id: accountId, updated_at: this.now() },
        account,
      );
      return account;
    });
  }

  private async allowedProviders(session: SessionRow): Promise<CatalogProvider[]> {
    return (await this.allowedIntegrations(session)).map(({ provider }) => provider);
  }

  /** The integrations a session may connect, following its provider, category and account filters. */
  async allowedIntegrations(
    session: SessionRow,
  ): Promise<Array<{ provider: CatalogProvider; integrationId: string }>> {
    const usable = await this.deps.integrations.usableProviders(session.project_id);
    const categories = session.categories ? (JSON.parse(session.categories) as string[]) : null;
    const reauthorizing = session.account_id
      ? await this.deps.accounts
          .findOrThrow(this.db, session.project_id, session.account_id)
          .catch(() => undefined)
      : undefined;
    return usable
      .filter(({ provider, integrationId }) => {
        if (reauthorizing) return provider.key === reauthorizing.provider;
        if (session.provider && provider.key !== session.provider) return false;
        if (session.integration_id && integrationId !== session.integration_id) return false;
        if (categories?.length && !provider.categories.some((c) => categories.includes(c))) return false;
        return true;
      })
      .map(({ provider, integrationId }) => ({ provider: provider as CatalogProvider, integrationId }));
  }

  private async allowedProviderOrThrow(session: SessionRow, providerKey: string): Promise<CatalogProvider> {
    const provider = (await this.allowedProviders(session)).find((p) => p.key === providerKey);
    if (!provider) throw new ApiError(404, `${providerKey} is not available for this link`);
    return provider;
  }

  private async liveSessionOrThrow(token: string | undefined): Promise<SessionRow> {
    const session = await this.sessionByToken(token);
    if (!session) throw new ApiError(401, "This link has expired or is not valid. Ask for a new link.");
    return session;
  }

  private async pendingSessionOrThrow(token: string | undefined): Promise<SessionRow> {
    const session = await this.liveSessionOrThrow(token);
    if (session.status !== "pending")
      throw new ApiError(409, "This link was already used to connect an account.");
    return session;
  }

  private now(): string {
    return isoTimestamp(this.deps.clock());
  }
}

const PAGE_REF_CONTEXT = "connect_page:session_ref";

function verifierContext(stateHash: string): string {
  return `oauth_state:${stateHash}:code_verifier`;
}
