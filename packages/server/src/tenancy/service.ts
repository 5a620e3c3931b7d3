/**
 * Organizations, projects and API keys: the operator's side of tenancy (used by the CLI) and
 * the request-time lookup of an API key.
 */
import type { Kysely } from "kysely";
import { hashToken, issueToken, randomId, TOKEN_PREFIX } from "../crypto/tokens.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import { SANDBOX_PROVIDER_KEYS } from "../sandbox/constants.js";
// A type only: the theme's schemas (TypeBox) stay out of the CLI's start-up.
import type { ThemeSettings } from "../theme/theme.js";
import { type Clock, isoTimestamp, systemClock } from "../time.js";
import * as store from "./store.js";

export const DEFAULT_ORGANIZATION = "default";
export const DEFAULT_PROJECT = "default";

export interface ProjectSettingsView {
  id: string;
  name: string;
  organization_id: string;
  allowed_origins: string[];
  theme: ThemeSettings;
}

export interface CreatedApiKey {
  key: string;
  id: string;
  project: store.Project;
}

/** A key just issued: `key` is shown this once and never stored. */
export interface IssuedApiKey {
  key: string;
  id: string;
  start: string;
  lastFour: string;
  createdAt: string;
}

/** Bounds the memory of the API key cache; beyond it the cache starts over. */
const API_KEY_CACHE_LIMIT = 10_000;

export class TenancyService {
  /** Valid keys seen lately, by key hash. Unknown keys are never cached. */
  private readonly principals = new Map<string, { principal: store.Principal; until: number }>();
  private readonly apiKeyCacheMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock = systemClock,
    options: { apiKeyCacheSeconds?: number } = {},
  ) {
    this.apiKeyCacheMs = (options.apiKeyCacheSeconds ?? 0) * 1000;
  }

  /** Finds or creates the organization and project, then issues a key for the project. */
  async createApiKey(options: { organization?: string; project?: string } = {}): Promise<CreatedApiKey> {
    const project = await this.ensureProject(
      options.organization ?? DEFAULT_ORGANIZATION,
      options.project ?? DEFAULT_PROJECT,
    );
    return { ...(await this.issueApiKey(this.db, project.id)), project };
  }

  /**
   * Replaces an active key with a new one for the same project, in one transaction: the new
   * key works and the old one stops at the same moment (API key caches aside, see
   * API_KEY_CACHE_SECONDS). Undefined when there is no such active key.
   */
  async rotateApiKey(keyId: string): Promise<IssuedApiKey | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const projectId = await store.findActiveApiKeyProjectId(trx, keyId);
      if (!projectId) return undefined;
      const issued = await this.issueApiKey(trx, projectId);
      await store.revokeApiKey(trx, keyId, this.now());
      return issued;
    });
  }

  private async issueApiKey(db: Kysely<Database>, projectId: string): Promise<IssuedApiKey> {
    const { token, hash } = issueToken(TOKEN_PREFIX.apiKey);
    const issued = {
      key: token,
      id: randomId("key_"),
      start: token.slice(0, TOKEN_PREFIX.apiKey.length + 4),
      lastFour: token.slice(-4),
      createdAt: this.now(),
    };
    await store.insertApiKey(db, {
      id: issued.id,
      projectId,
      keyHash: hash,
      start: issued.start,
      lastFour: issued.lastFour,
      createdAt: issued.createdAt,
    });
    return issued;
  }

  async ensureProject(organizationName: string, projectName: string): Promise<store.Project> {
    return this.db.transaction().execute(async (trx) => {
      const organization = await store.insertOrganization(trx, organizationName, this.now());
      const existing = await store.findProjectByName(trx, organization.id, projectName);
      if (existing) return existing;
      await store.insertProject(trx, {
        id: randomId("proj_"),
        organizationId: organization.id,
        name: projectName,
        createdAt: this.now(),
      });
      const created = await store.findProjectByName(trx, organization.id, projectName);
      if (!created) throw new Error(`project ${projectName} vanished after insert`);
      // A new project offers the sandbox providers, so a first connection works at once. They
      // are in the catalog only while SANDBOX_PROVIDERS is on; otherwise these rows stay unseen.
      await store.enableSandboxIntegrations(trx, created.id, SANDBOX_PROVIDER_KEYS, this.now());
      return created;
    });
  }

  listApiKeys(): Promise<store.ApiKeySummary[]> {
    return store.listApiKeys(this.db);
  }

  revokeApiKey(keyId: string): Promise<boolean> {
    return store.revokeApiKey(this.db, keyId, this.now());
  }

  /**
   * The project behind an API key, or undefined for an unknown or revoked key. A valid key
   * is remembered for `apiKeyCacheSeconds` (API_KEY_CACHE_SECONDS), in every process: that is
   * the longest a revoked key keeps working.
   */
  async authenticateApiKey(key: string, hash = hashToken(key)): Promise<store.Principal | undefined> {
    if (!key.startsWith(TOKEN_PREFIX.apiKey)) return undefined;
    const now = this.clock().getTime();
    const cached = this.principals.get(hash);
    if (cached && cached.until > now) return cached.principal;
    const principal = await store.findPrincipalByApiKeyHash(this.db, hash);
    if (principal && this.apiKeyCacheMs > 0) {
      if (this.principals.size >= API_KEY_CACHE_LIMIT) this.principals.clear();
      this.principals.set(hash, { principal, until: now + this.apiKeyCacheMs });
    } else if (cached) {
      this.principals.delete(hash);
    }
    return principal;
  }

  /** A page of the project's keys (active and revoked), never the keys themselves. */
  async listProjectApiKeys(projectId: string, page: { offset: number; limit: number }) {
    return store.listProjectApiKeys(this.db, projectId, page);
  }

  /** A new key for the project: the key is in this answer only. */
  createProjectApiKey(projectId: string): Promise<IssuedApiKey> {
    return this.issueApiKey(this.db, projectId);
  }

  /**
   * Replaces one of the project's active keys (see rotateApiKey); undefined when the project
   * has no such active key, so another project's key id behaves as unknown.
   */
  async rotateProjectApiKey(projectId: string, keyId: string): Promise<IssuedApiKey | undefined> {
    const rotated = await this.db.transaction().execute(async (trx) => {
      if ((await store.findActiveApiKeyProjectId(trx, keyId)) !== projectId) return undefined;
      const issued = await this.issueApiKey(trx, projectId);
      await store.revokeProjectApiKey(trx, projectId, keyId, this.now());
      return issued;
    });
    if (rotated) this.forgetApiKey(keyId);
    return rotated;
  }

  /**
   * Revokes one of the project's active keys: this process stops accepting it at once, other
   * processes within API_KEY_CACHE_SECONDS. False when the project has no such active key.
   */
  async revokeProjectApiKey(projectId: string, keyId: string): Promise<boolean> {
    const revoked = await store.revokeProjectApiKey(this.db, projectId, keyId, this.now());
    if (revoked) this.forgetApiKey(keyId);
    return revoked;
  }

  findProject(projectId: string): Promise<store.Project | undefined> {
    return store.findProjectById(this.db, projectId);
  }

  listProjects(page: { offset: number; limit: number }): Promise<store.Project[]> {
    return store.listProjects(this.db, page);
  }

  /** Drops a key from this process's cache, so its revocation takes effect here at once. */
  private forgetApiKey(keyId: string): void {
    for (const [hash, cached] of this.principals) {
      if (cached.principal.apiKeyId === keyId) this.principals.delete(hash);
    }
  }

  async settings(projectId: string): Promise<ProjectSettingsView> {
    const row = await store.findProjectSettings(this.db, projectId);
    if (!row) throw new ApiError(404, "Project does not exist");
    return {
      id: row.id,
      name: row.name,
      organization_id: String(row.organization_id),
      allowed_origins: JSON.parse(row.allowed_origins) as string[],
      theme: parseStoredTheme(row.theme),
    };
  }

  /**
   * Applies the changes given (a field left out keeps its value); a theme replaces the stored
   * one whole. Both are written in one transaction, after every value is validated.
   */
  async updateSettings(
    projectId: string,
    changes: { allowed_origins?: readonly string[] | undefined; theme?: ThemeSettings | undefined },
  ): Promise<ProjectSettingsView> {
    const origins = changes.allowed_origins && [...new Set(changes.allowed_origins.map(exactOrigin))];
    await this.db.transaction().execute(async (trx) => {
      if (origins) await store.updateAllowedOrigins(trx, projectId, origins);
      if (changes.theme) await store.updateTheme(trx, projectId, JSON.stringify(changes.theme));
    });
    return this.settings(projectId);
  }

  /** Replaces the project's allowed origins; each must be an exact origin, e.g. `https://app.example.com`. */
  async setAllowedOrigins(projectId: string, origins: readonly string[]): Promise<ProjectSettingsView> {
    const normalized = [...new Set(origins.map(exactOrigin))];
    await store.updateAllowedOrigins(this.db, projectId, normalized);
    return this.settings(projectId);
  }

  private now(): string {
    return isoTimestamp(this.clock());
  }
}

function exactOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ApiError(400, "allowed_origins: each entry must be an origin like https://app.example.com");
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== value) {
    throw new ApiError(
      400,
      "allowed_origins: each entry must be an exact origin (scheme://host[:port], no path or trailing slash)",
    );
  }
  return url.origin;
}

/** A stored theme (JSON text, or null when never set). */
function parseStoredTheme(stored: string | null): ThemeSettings {
  return stored ? (JSON.parse(stored) as ThemeSettings) : {};
}
