/**
 * Integrations: which providers a project offers on its connect page, and for OAuth2 providers
 * the project's own client id and secret (the secret sealed at rest, never shown back).
 */
import type { Kysely } from "kysely";
import type { SecretBox } from "../crypto/secrets.js";
import { randomId } from "../crypto/tokens.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import type { CatalogProvider, ProviderCatalog } from "../providers/catalog.js";
import type { ProviderDefinition } from "../providers/schema.js";
import { SANDBOX_OAUTH_CLIENT } from "../sandbox/constants.js";
import { type Clock, isoTimestamp } from "../time.js";
import * as store from "./store.js";

export interface IntegrationChanges {
  enabled?: boolean | undefined;
  client_id?: string | null | undefined;
  client_secret?: string | null | undefined;
  scopes?: string[] | null | undefined;
  verify_credentials?: boolean | undefined;
}

/** An integration on the wire. */
export interface IntegrationView {
  id: string;
  provider: string;
  provider_name: string;
  auth_type: ProviderDefinition["auth"]["type"];
  categories: string[];
  enabled: boolean;
  /** Whether the integration has everything its auth type needs to connect accounts. */
  ready: boolean;
  client_id: string | null;
  client_secret_set: boolean;
  scopes: string[] | null;
  /** Whether credentials are checked with the provider when entered (see `verification`). */
  verify_credentials: boolean;
  /** Whether the provider declares a verification request at all. */
  verification_available: boolean;
  created_at: string;
  updated_at: string;
}

export interface OAuthClientSettings {
  clientId: string;
  clientSecret: string;
  scopes: string[] | null;
}

export class IntegrationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly catalog: ProviderCatalog,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  async list(projectId: string): Promise<IntegrationView[]> {
    const rows = await store.listIntegrations(this.db, projectId);
    return rows.flatMap((row) => {
      const provider = this.catalog.get(row.provider);
      return provider ? [this.toView(row, provider)] : [];
    });
  }

  async get(projectId: string, providerKey: string): Promise<IntegrationView> {
    const provider = this.providerOrThrow(providerKey);
    const row = await store.findIntegration(this.db, projectId, providerKey);
    if (!row) throw new ApiError(404, `Integration ${providerKey} is not configured for this project`);
    return this.toView(row, provider);
  }

  /** Creates or changes the project's integration with a provider. */
  async configure(
    projectId: string,
    providerKey: string,
    changes: IntegrationChanges,
  ): Promise<IntegrationView> {
    const provider = this.providerOrThrow(providerKey);
    if (provider.auth.type !== "oauth2" && (changes.client_id || changes.client_secret || changes.scopes)) {
      throw new ApiError(
        400,
        `${provider.name} connects with ${provider.auth.type}: it takes no OAuth client settings`,
      );
    }
    const now = isoTimestamp(this.clock());
    const existing = await store.findIntegration(this.db, projectId, providerKey);
    const id = existing?.id ?? randomId("int_");
    const next = {
      enabled: changes.enabled === undefined ? (existing?.enabled ?? 1) : changes.enabled ? 1 : 0,
      client_id: changes.client_id === undefined ? (existing?.client_id ?? null) : changes.client_id,
      client_secret_sealed:
        changes.client_secret === undefined
          ? (existing?.client_secret_sealed ?? null)
          : changes.client_secret === null
            ? null
            : this.secrets.seal(changes.client_secret, clientSecretContext(id)),
      scopes:
        changes.scopes === undefined
          ? (existing?.scopes ?? null)
          : changes.scopes
            ? JSON.stringify(changes.scopes)
            : null,
      verify_credentials:
        changes.verify_credentials === undefined
          ? (existing?.verify_credentials ?? 1)
          : changes.verify_credentials
            ? 1
            : 0,
      updated_at: now,
    };
    if (next.enabled === 1 && !isReady(next, provider)) {
      throw new ApiError(
        400,
        `${provider.name} uses OAuth2: set client_id and client_secret (from your ${provider.name} app) to enable it`,
      );
    }
    if (existing) {
      await store.updateIntegration(this.db, projectId, providerKey, next);
    } else {
      await store.insertIntegration(this.db, {
        id,
        project_id: projectId,
        provider: providerKey,
        created_at: now,
        ...next,
      });
    }
    return this.get(projectId, providerKey);
  }

  async remove(projectId: string, providerKey: string): Promise<IntegrationView> {
    const view = await this.get(projectId, providerKey);
    await store.deleteIntegration(this.db, projectId, providerKey);
    return view;
  }

  /** The providers a project has enabled and fully configured, in catalog order. */
  async usableProviders(
    projectId: string,
  ): Promise<Array<{ provider: ProviderDefinition; integrationId: string }>> {
    const rows = await store.listEnabledIntegrations(this.db, projectId);
    const byKey = new Map(rows.map((row) => [row.provider, row]));
    return this.catalog.list().flatMap((provider) => {
      const row = byKey.get(provider.key);
      return row && isReady(row, provider) ? [{ provider, integrationId: row.id }] : [];
    });
  }

  /** Refuses (400, naming the provider) one the project cannot offer on its connect page. */
  async assertOffered(projectId: string, providerKey: string): Promise<void> {
    const provider = this.catalog.get(providerKey);
    if (!provider) {
      throw new ApiError(400, `provider ${providerKey} is not in the catalog (see GET /providers)`);
    }
    const row = await store.findIntegration(this.db, projectId, providerKey);
    if (row?.enabled !== 1 || !isReady(row, provider)) {
      throw new ApiError(
        400,
        `provider ${providerKey} is not enabled for this project (enable it with PUT /integrations/${providerKey})`,
      );
    }
  }

  /**
   * Whether credentials entered for this provider are checked with it first: the provider
   * declares a verification request and the project has not turned verification off.
   */
  async verificationEnabled(projectId: string, providerKey: string): Promise<boolean> {
    if (!this.catalog.get(providerKey)?.api?.verify) return false;
    const row = await store.findIntegration(this.db, projectId, providerKey);
    return row?.verify_credentials !== 0;
  }

  /**
   * The OAuth client of an enabled OAuth2 integration, secret decrypted. The sandbox OAuth2
   * provider uses the sandbox's own client unless the project set another.
   */
  async oauthClient(projectId: string, providerKey: string): Promise<OAuthClientSettings | undefined> {
    const row = await store.findIntegration(this.db, projectId, providerKey);
    if (row?.enabled === 1 && this.catalog.get(providerKey)?.sandbox && !row.client_id) {
      return { ...SANDBOX_OAUTH_CLIENT, scopes: row.scopes ? (JSON.parse(row.scopes) as string[]) : null };
    }
    if (row?.enabled !== 1 || !row.client_id || !row.client_secret_sealed) return undefined;
    return {
      clientId: row.client_id,
      clientSecret: this.secrets.open(row.client_secret_sealed, clientSecretContext(row.id)),
      scopes: row.scopes ? (JSON.parse(row.scopes) as string[]) : null,
    };
  }

  private providerOrThrow(providerKey: string): CatalogProvider {
    const provider = this.catalog.get(providerKey);
    if (!provider)
      throw new ApiError(404, `Provider ${providerKey} is not in the catalog (see GET /providers)`);
    return provider;
  }

  private toView(row: store.IntegrationRow, provider: ProviderDefinition): IntegrationView {
    return {
      id: row.id,
      provider: row.provider,
      provider_name: provider.name,
      auth_type: provider.auth.type,
      categories: [...provider.categories],
      enabled: row.enabled === 1,
      ready: row.enabled === 1 && isReady(row, provider),
      client_id: row.client_id,
      client_secret_set: row.client_secret_sealed !== null,
      scopes: row.scopes ? (JSON.parse(row.scopes) as string[]) : null,
      verify_credentials: row.verify_credentials !== 0,
      verification_available: provider.api?.verify !== undefined,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}

function isReady(
  row: Pick<store.IntegrationRow, "client_id" | "client_secret_sealed">,
  provider: ProviderDefinition & { readonly sandbox?: boolean },
): boolean {
  if (provider.auth.type !== "oauth2" || provider.sandbox === true) return true;
  return row.client_id !== null && row.client_secret_sealed !== null;
}

export function clientSecretContext(integrationId: string): string {
  return `integration:${integrationId}:client_secret`;
}
