/**
 * Scale-out: two server processes (the built CLI) on one PostgreSQL database behave as one
 * service. Migrations race at start-up, sessions cross processes, and an idempotent create
 * raced through both takes effect once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { postJson } from "./support/http.js";
import {
  createTestPostgresDatabase,
  postgresAvailable,
  type TestPostgresDatabase,
} from "./support/postgres.js";
import { cli, type ServerProcess, startServerProcess } from "./support/process.js";

describe.skipIf(!postgresAvailable)("two processes on one PostgreSQL database", () => {
  let database: TestPostgresDatabase;
  let servers: ServerProcess[] = [];
  let apiKey: string;

  beforeAll(async () => {
    database = await createTestPostgresDatabase();
    const env = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: "4" };
    // Both start (and migrate) at the same moment: the migration lock must sort it out.
    servers = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    const created = await cli(env, "keys", "create", "--project", "scale");
    expect(created.code, created.stderr).toBe(0);
    apiKey = created.stdout.trim();
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await database?.drop();
  });

  it("authenticates through one process a session created through the other", async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const created = await postJson(
      `${a.url}/connect_sessions`,
      { origin_owner_id: "c", origin_owner_name: "Acme" },
      { apiKey },
    );
    expect(created.status).toBe(201);
    const found = await postJson(
      `${b.url}/connect_sessions/authenticate`,
      { token: created.body.token },
      { apiKey },
    );
    expect(found.status).toBe(201);
    expect(found.body.id).toBe(created.body.id);
  });

  it("creates one session for an Idempotency-Key raced through both processes", async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    for (let round = 0; round < 5; round++) {
      const key = crypto.randomUUID();
      const body = { origin_owner_id: `race-${key}`, origin_owner_name: "Race" };
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          postJson(`${(i % 2 ? a : b).url}/connect_sessions`, body, {
            apiKey,
            headers: { "idempotency-key": key },
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(6).fill(201));
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      expect(new Set(responses.map((r) => r.body.token)).size).toBe(1);
      const db = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
      try {
        const rows = await db.kysely
          .selectFrom("connect_sessions")
          .select("id")
          .where("origin_owner_id", "=", body.origin_owner_id)
          .execute();
        expect(rows).toHaveLength(1);
      } finally {
        await db.close();
      }
    }
  });
});
