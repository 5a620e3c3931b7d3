/**
 * Moving from SQLite to PostgreSQL (and, where PostgreSQL is absent, SQLite to SQLite, which
 * runs the same code): `connect-hub db copy`, then a server on the copy accepts the old keys
 * and tokens and keeps counting ids from where the old database stopped.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COPIED_TABLES } from "../src/db/copy.js";
import { postJson } from "./support/http.js";
import { adminRequest, connectApiKeyAccount } from "./support/hub.js";
import {
  createTestPostgresDatabase,
  skipDialect,
  TEST_DIALECTS,
  type TestPostgresDatabase,
} from "./support/postgres.js";
import { cli, startServerProcess, TEST_ENCRYPTION_KEY } from "./support/process.js";
import { startTestServer, type TestServer } from "./support/server.js";

for (const target of TEST_DIALECTS) {
  describe.skipIf(skipDialect(target))(`connect-hub db copy from SQLite to ${target}`, () => {
    let source: TestServer;
    let postgres: TestPostgresDatabase | undefined;
    let targetUrl: string;
    let apiKey: string;
    let token: string;
    let lastId: number;
    let accountId: string;
    const idempotencyKey = crypto.randomUUID();
    const body = { origin_owner_id: "moved", origin_owner_name: "Moved Inc", metadata: { plan: "gold" } };

    beforeAll(async () => {
      source = await startTestServer({ env: { ENCRYPTION_KEY: TEST_ENCRYPTION_KEY } });
      apiKey = await source.createApiKey("movers", "org-moved");
      await adminRequest(source, apiKey, "PUT", "/integrations/ashby", { verify_credentials: false });
      accountId = await connectApiKeyAccount(source, apiKey, { origin_owner_id: "moved-account" }, "ashby", {
        api_key: "moved-secret",
      });
      await adminRequest(source, apiKey, "POST", "/webhooks/endpoints", {
        url: "https://hooks.example.com/in",
      });
      for (let i = 0; i < 3; i++) {
        await postJson(
          `${source.url}/connect_sessions`,
          { origin_owner_id: `c${i}`, origin_owner_name: "C" },
          { apiKey },
        );
      }
      const created = await postJson(`${source.url}/connect_sessions`, body, {
        apiKey,
        headers: { "idempotency-key": idempotencyKey },
      });
      token = created.body.token as string;
      lastId = created.body.id as number;
      await source.app.close();
      postgres = target === "postgres" ? await createTestPostgresDatabase() : undefined;
      targetUrl = postgres?.url ?? `file:${path.join(source.dataDir, "copy.sqlite")}`;
    });
    afterAll(async () => {
      await source.close();
      await postgres?.drop();
    });

    it("copies every row, refuses a non-empty target, and the copy serves the old keys and tokens", async () => {
      const copied = await cli({}, "db", "copy", "--from", source.databaseUrl, "--to", targetUrl);
      expect(copied.code, copied.stderr).toBe(0);
      expect(copied.stderr).toContain("copied 5 rows of connect_sessions");
      expect(copied.stderr).toContain("copied 1 rows of linked_accounts");
      expect(copied.stderr).toContain("copied 1 rows of webhook_endpoints");
      expect(copied.stderr).toContain("copied 1 rows of idempotency_keys");
      expect(copied.stderr).toContain("copy complete");

      const again = await cli({}, "db", "copy", "--from", source.databaseUrl, "--to", targetUrl);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("the target database is not empty");

      const server = await startServerProcess({ DATABASE_URL: targetUrl });
      try {
        const credentials = await fetch(`${server.url}/accounts/${accountId}/credentials`, {
          headers: { authorization: `Basic ${btoa(`${apiKey}:`)}` },
        });
        expect(await credentials.json()).toMatchObject({ credentials: { api_key: "moved-secret" } });
        const found = await postJson(`${server.url}/connect_sessions/authenticate`, { token }, { apiKey });
        expect(found.status).toBe(201);
        expect(found.body).toMatchObject({
          id: lastId,
          metadata: { plan: "gold" },
          origin_owner_id: "moved",
        });
        const replayed = await postJson(`${server.url}/connect_sessions`, body, {
          apiKey,
          headers: { "idempotency-key": idempotencyKey },
        });
        expect(replayed.headers.get("idempotent-replayed")).toBe("true");
        expect(replayed.body.token).toBe(token);
        const next = await postJson(
          `${server.url}/connect_sessions`,
          { origin_owner_id: "n", origin_owner_name: "N" },
          { apiKey },
        );
        expect(next.status).toBe(201);
        expect(next.body.id).toBe(lastId + 1);
        expect(next.body.organization_id).toBe(found.body.organization_id);
      } finally {
        await server.stop();
      }
    });
  });
}

describe("the copy's table list", () => {
  it("names every table the migrations create", async () => {
    const server = await startTestServer();
    try {
      const tables = (await server.db.kysely.introspection.getTables())
        .map((table) => table.name)
        .filter((name) => !name.startsWith("kysely_"));
      expect(COPIED_TABLES.map((table) => table.name).sort()).toEqual(tables.sort());
    } finally {
      await server.close();
    }
  });
});
