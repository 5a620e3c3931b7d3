/**
 * Organizations, projects and API keys: the operator's side of tenancy (used by the CLI) and
 * the request-time lookup of an API key.
 */
import type { Kysely } from "kysely";
import { hashToken, issueToken, randomId, TOKEN_PREFIX } from "../crypto/tokens.js";
import type { Database } from "../db/schema.js";
import { type Clock, isoTimestamp, systemClock } from "../time.js";
import * as store from "./store.js";

export const DEFAULT_ORGANIZATION = "default";
export const DEFAULT_PROJECT = "default";

export interface CreatedApiKey {
  key: string;
  id: string;
  project: store.Project;
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
    const { token, hash } = issueToken(TOKEN_PREFIX.apiKey);
    const id = randomId("key_");
    await store.insertApiKey(this.db, {
      id,
      projectId: project.id,
      keyHash: hash,
      start: token.slice(0, TOKEN_PREFIX.apiKey.length + 4),
      lastFour: token.slice(-4),
      createdAt: this.now(),
    });
    return { key: token, id, project };
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
    const now = Date.now();
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

  private now(): string {
    return isoTimestamp(this.clock());
  }
}
