/**
 * The cross-process refresh lease, with two real server processes on one PostgreSQL database
 * and a token endpoint that holds its answers: while one process refreshes, the other waits
 * for its result instead of refreshing too; and when the holder dies mid-refresh, the waiting
 * process takes the lapsed lease over and answers with fresh credentials.
 *
 * "The other process is waiting" is observed, not assumed: each process names its connections
 * (`application_name`), and pg_stat_activity shows when the second one's lease UPDATE ran.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsContext } from "../src/accounts/service.js";
import { parseEncryptionKeys, SecretBox } from "../src/crypto/secrets.js";
import { adminRequest } from "./support/hub.js";
import {
  createTestPostgresDatabase,
  postgresAvailable,
  type TestPostgresDatabase,
} from "./support/postgres.js";
import { cli, type ServerProcess, startServerProcess, TEST_ENCRYPTION_KEY } from "./support/process.js";
import { basicAuth } from "./support/server.js";
import { startTokenEndpoint, TOKEN_PROVIDER_KEY, type TokenEndpoint } from "./support/token-endpoint.js";

const PROVIDER = TOKEN_PROVIDER_KEY;

describe.skipIf(!postgresAvailable)("the refresh lease between two processes", () => {
  let database: TestPostgresDatabase;
  let admin: pg.Client;
  let tokens: TokenEndpoint;
  let apiKey: string;
  let projectEnv: Record<string, string>;
  const processes: ServerProcess[] = [];

  const start = async (name: string) => {
    const url = new URL(database.url);
    url.searchParams.set("application_name", name);
    const server = await startServerProcess({ ...projectEnv, DATABASE_URL: url.toString() });
    processes.push(server);
    return server;
  };

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    tokens = await startTokenEndpoint({ hold: true });
    projectEnv = {
      PROVIDERS_DIR: tokens.providersDir,
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      DATABASE_POOL_SIZE: "4",
    };
    const migrated = await cli({ ...projectEnv, DATABASE_URL: database.url }, "migrate");
    expect(migrated.code, migrated.stderr).toBe(0);
    const created = await cli(
      { ...projectEnv, DATABASE_URL: database.url },
      "keys",
      "create",
      "--project",
      "lease",
    );
    expect(created.code, created.stderr).toBe(0);
    apiKey = created.stdout.trim();
  });

  afterAll(async () => {
    await Promise.all(processes.map((server) => server.stop("SIGKILL")));
    await tokens?.close();
    await admin?.end();
    await database?.drop();
  });

  /** An OAuth2 account of the provider whose access token has expired. */
  async function expiredAccount(through: ServerProcess): Promise<string> {
    const server = through;
    expect(
      (
        await adminRequest(server, apiKey, "PUT", `/integrations/${PROVIDER}`, {
          client_id: "lease-client",
          client_secret: "lease-secret",
        })
      ).status,
    ).toBe(200);
    const { rows } = await admin.query<{ project_id: string }>("select project_id from api_keys limit 1");
    const id = `acc_lease_${crypto.randomUUID().slice(0, 8)}`;
    const box = new SecretBox(parseEncryptionKeys(TEST_ENCRYPTION_KEY));
    const now = new Date().toISOString();
    await admin.query(
      `insert into linked_accounts (id, project_id, provider, origin_owner_id, origin_owner_name, origin_username,
        label, type, metadata, auth_type, status, status_reasons, credentials_sealed, credentials_expires_at,
        setup_information, refresh_lease_until, created_at, updated_at)
       values ($1, $2, $3, 'owner', 'Owner', null, null, 'production', null, 'oauth2', 'active', null, $4,
        '2000-01-01T00:00:00.000Z', null, null, $5, $5)`,
      [
        id,
        rows[0]?.project_id,
        PROVIDER,
        box.sealJson(
          { access_token: "old", token_type: "Bearer", refresh_token: "refresh-1" },
          credentialsContext(id),
        ),
        now,
      ],
    );
    return id;
  }

  const credentials = (server: ServerProcess, accountId: string) =>
    fetch(`${server.url}/accounts/${accountId}/credentials`, {
      headers: { authorization: basicAuth(apiKey) },
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
    }));

  /** Resolves once a connection of `name` has run the lease UPDATE (and found the lease taken). */
  async function triedTheLease(name: string): Promise<void> {
    for (;;) {
      const { rows } = await admin.query(
        `select 1 from pg_stat_activity where application_name = $1 and state = 'idle'
           and query like 'update "linked_accounts" set "refresh_lease_until" = $1 where%'`,
        [name],
      );
      if (rows.length > 0) return;
      // Polls a condition (not a fixed wait): the statement shows the moment it has run.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it("lets one process refresh while the other waits for its result", async () => {
    const holder = await start("lease-a");
    const waiter = await start("lease-b");
    const accountId = await expiredAccount(holder);
    const first = credentials(holder, accountId);
    await tokens.arrived(1);
    const second = credentials(waiter, accountId);
    // Either the waiter found the lease taken, or it refreshed too (which is the failure).
    await Promise.race([triedTheLease("lease-b"), tokens.arrived(2)]);
    tokens.releaseAll();
    const [a, b] = await Promise.all([first, second]);
    tokens.releaseAll();
    expect(tokens.calls()).toBe(1);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.credentials).toEqual(a.body.credentials);
    await Promise.all([holder.stop(), waiter.stop()]);
  });

  it("takes over the lease of a holder that died mid-refresh", async () => {
    const holder = await start("dead-a");
    const waiter = await start("dead-b");
    const accountId = await expiredAccount(holder);
    const callsBefore = tokens.calls();
    void credentials(holder, accountId).catch(() => {});
    await tokens.arrived(callsBefore + 1);
    await holder.stop("SIGKILL");
    const answer = credentials(waiter, accountId);
    await triedTheLease("dead-b");
    // The dead holder's lease lapses (as 30 s would make it): the waiter must take it over.
    await admin.query(
      "update linked_accounts set refresh_lease_until = '2000-01-01T00:00:00.000Z' where id = $1",
      [accountId],
    );
    await tokens.arrived(callsBefore + 2);
    tokens.releaseAll();
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect((body.credentials as { access_token: string }).access_token).toMatch(/^fresh-/);
    await waiter.stop();
  });
});
