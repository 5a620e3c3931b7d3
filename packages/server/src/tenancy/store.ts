/**
 * Storage of organizations, projects and API keys. API keys are stored as SHA-256 hashes only;
 * the displayable parts (`start`, `last_four`) are too short to use or guess a key from.
 */

import type { Kysely } from "kysely";
import { randomId } from "../crypto/tokens.js";
import { preparedLookup } from "../db/prepared.js";
import type { Database } from "../db/schema.js";

export interface Project {
  id: string;
  organizationId: number;
  name: string;
  organizationName: string;
}

export interface ApiKeySummary {
  id: string;
  projectId: string;
  projectName: string;
  start: string;
  lastFour: string;
  createdAt: string;
  revokedAt: string | null;
}

export type AdminRole = "admin" | "viewer";

/** Who made a request, as the audit log records it. */
export interface Actor {
  type: "api_key" | "console" | "cli";
  /** The API key's id, the console session's id, or what the CLI names itself. */
  id: string;
  /** Safe to show: `chk_…wXyZ`, an operator's e-mail, `cli link <link id>`. */
  display: string;
}

/** The caller of an admin route, in the project it works on. API keys are admins. */
export interface Principal {
  projectId: string;
  organizationId: number;
  role: AdminRole;
  actor: Actor;
  /** Set for API keys only. */
  apiKeyId?: string;
}

/** What the audit log shows for an API key: its type prefix and its last four characters. */
export const apiKeyDisplay = (lastFour: string) => `chk_…${lastFour}`;

export async function findOrganizationByName(db: Kysely<Database>, name: string) {
  return db.selectFrom("organizations").select(["id", "name"]).where("name", "=", name).executeTakeFirst();
}

export async function insertOrganization(db: Kysely<Database>, name: string, createdAt: string) {
  await db
    .insertInto("organizations")
    .values({ name, created_at: createdAt })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const organization = await findOrganizationByName(db, name);
  if (!organization) throw new Error(`organization ${name} vanished after insert`);
  return { id: Number(organization.id), name: organization.name };
}

/** Projects with their organization's name, the columns a Project is made of. */
function selectProjects(db: Kysely<Database>) {
  return db
    .selectFrom("projects")
    .innerJoin("organizations", "organizations.id", "projects.organization_id")
    .select([
      "projects.id",
      "projects.organization_id",
      "projects.name",
      "organizations.name as organization_name",
    ]);
}

function toProject(row: {
  id: string;
  organization_id: number | string;
  name: string;
  organization_name: string;
}): Project {
  return {
    id: row.id,
    organizationId: Number(row.organization_id),
    name: row.name,
    organizationName: row.organization_name,
  };
}

export async function findProjectByName(
  db: Kysely<Database>,
  organizationId: number,
  name: string,
): Promise<Project | undefined> {
  const row = await selectProjects(db)
    .where("projects.organization_id", "=", organizationId)
    .where("projects.name", "=", name)
    .executeTakeFirst();
  return row ? toProject(row) : undefined;
}

export async function insertProject(
  db: Kysely<Database>,
  project: { id: string; organizationId: number; name: string; createdAt: string },
): Promise<void> {
  await db
    .insertInto("projects")
    .values({
      id: project.id,
      organization_id: project.organizationId,
      name: project.name,
      created_at: project.createdAt,
    })
    .onConflict((oc) => oc.columns(["organization_id", "name"]).doNothing())
    .execute();
}

/** Enabled integrations of a new project with the sandbox providers (which need no client). */
export async function enableSandboxIntegrations(
  db: Kysely<Database>,
  projectId: string,
  providers: readonly string[],
  createdAt: string,
): Promise<void> {
  if (providers.length === 0) return;
  await db
    .insertInto("integrations")
    .values(
      providers.map((provider) => ({
        id: randomId("int_"),
        project_id: projectId,
        provider,
        enabled: 1,
        client_id: null,
        client_secret_sealed: null,
        scopes: null,
        verify_credentials: 1,
        created_at: createdAt,
        updated_at: createdAt,
      })),
    )
    .onConflict((oc) => oc.columns(["project_id", "provider"]).doNothing())
    .execute();
}

export async function insertApiKey(
  db: Kysely<Database>,
  key: { id: string; projectId: string; keyHash: string; start: string; lastFour: string; createdAt: string },
): Promise<void> {
  await db
    .insertInto("api_keys")
    .values({
      id: key.id,
      project_id: key.projectId,
      key_hash: key.keyHash,
      start: key.start,
      last_four: key.lastFour,
      created_at: key.createdAt,
      revoked_at: null,
    })
    .execute();
}

const findPrincipalQuery = preparedLookup((db, keyHash: string) =>
  db
    .selectFrom("api_keys")
    .innerJoin("projects", "projects.id", "api_keys.project_id")
    .select(["api_keys.id", "api_keys.project_id", "api_keys.last_four", "projects.organization_id"])
    .where("api_keys.key_hash", "=", keyHash)
    .where("api_keys.revoked_at", "is", null),
);

export async function findPrincipalByApiKeyHash(
  db: Kysely<Database>,
  keyHash: string,
): Promise<Principal | undefined> {
  const row = await findPrincipalQuery(db, keyHash);
  return row
    ? {
        apiKeyId: row.id,
        projectId: row.project_id,
        organizationId: Number(row.organization_id),
        role: "admin",
        actor: { type: "api_key", id: row.id, display: apiKeyDisplay(row.last_four) },
      }
    : undefined;
}

export async function listApiKeys(db: Kysely<Database>): Promise<ApiKeySummary[]> {
  const rows = await db
    .selectFrom("api_keys")
    .innerJoin("projects", "projects.id", "api_keys.project_id")
    .select([
      "api_keys.id",
      "api_keys.project_id",
      "projects.name as project_name",
      "api_keys.start",
      "api_keys.last_four",
      "api_keys.created_at",
      "api_keys.revoked_at",
    ])
    .orderBy("api_keys.created_at")
    .execute();
  return rows.map((row) => ({
    id: row.id,
    projectId: row.project_id,
    projectName: row.project_name,
    start: row.start,
    lastFour: row.last_four,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }));
}

export async function findActiveApiKeyProjectId(
  db: Kysely<Database>,
  keyId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("api_keys")
    .select("project_id")
    .where("id", "=", keyId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row?.project_id;
}

/** Revokes a key that is still active; false when there is no such active key. */
export async function revokeApiKey(db: Kysely<Database>, keyId: string, revokedAt: string): Promise<boolean> {
  const result = await db
    .updateTable("api_keys")
    .set({ revoked_at: revokedAt })
    .where("id", "=", keyId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function findProjectSettings(db: Kysely<Database>, projectId: string) {
  return db
    .selectFrom("projects")
    .select(["id", "name", "organization_id", "allowed_origins", "theme"])
    .where("id", "=", projectId)
    .executeTakeFirst();
}

export async function updateAllowedOrigins(
  db: Kysely<Database>,
  projectId: string,
  origins: readonly string[],
) {
  await db
    .updateTable("projects")
    .set({ allowed_origins: JSON.stringify(origins) })
    .where("id", "=", projectId)
    .execute();
}

export async function updateTheme(db: Kysely<Database>, projectId: string, theme: string) {
  await db.updateTable("projects").set({ theme }).where("id", "=", projectId).execute();
}

/**
 * Whether any project lists an origin among its allowed origins: what a CORS preflight, which
 * carries no token, can be told. A LIKE narrows the rows (an origin holds no `%` or backslash; a `_`
 * only widens the match); the exact match is made on the parsed JSON.
 */
export async function someProjectAllowsOrigin(db: Kysely<Database>, origin: string): Promise<boolean> {
  const rows = await db
    .selectFrom("projects")
    .select("allowed_origins")
    .where("allowed_origins", "like", `%${JSON.stringify(origin)}%`)
    .limit(50)
    .execute();
  return rows.some((row) => (JSON.parse(row.allowed_origins) as string[]).includes(origin));
}

/** A project by id with its organization; what a console request's project header names. */
export async function findProjectById(db: Kysely<Database>, projectId: string): Promise<Project | undefined> {
  const row = await selectProjects(db).where("projects.id", "=", projectId).executeTakeFirst();
  return row ? toProject(row) : undefined;
}

/** Every project, by organization then name; a page of them. */
export async function listProjects(
  db: Kysely<Database>,
  page: { offset: number; limit: number },
): Promise<Project[]> {
  const rows = await selectProjects(db)
    .orderBy("organizations.name")
    .orderBy("projects.name")
    .orderBy("projects.id")
    .offset(page.offset)
    .limit(page.limit)
    .execute();
  return rows.map(toProject);
}

/** One project's keys (active and revoked), oldest first. */
export async function listProjectApiKeys(
  db: Kysely<Database>,
  projectId: string,
  page: { offset: number; limit: number },
) {
  return db
    .selectFrom("api_keys")
    .select(["id", "start", "last_four", "created_at", "revoked_at"])
    .where("project_id", "=", projectId)
    .orderBy("created_at")
    .orderBy("id")
    .offset(page.offset)
    .limit(page.limit)
    .execute();
}

/** Revokes one of the project's active keys; false when the project has no such active key. */
export async function revokeProjectApiKey(
  db: Kysely<Database>,
  projectId: string,
  keyId: string,
  revokedAt: string,
): Promise<boolean> {
  const result = await db
    .updateTable("api_keys")
    .set({ revoked_at: revokedAt })
    .where("id", "=", keyId)
    .where("project_id", "=", projectId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
