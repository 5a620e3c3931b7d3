/**
 * Races on SQLite, interleaved on purpose. SQLite has one connection per process and one
 * writer per file, so "concurrent" requests rarely overlap by chance: here a commit is held
 * at the driver while the racing requests queue for the connection, so every one of them has
 * looked for an idempotency record before any has committed one. Only the recheck inside the
 * transaction and the unique-key fallback keep that to one session. (On PostgreSQL the same
 * races run for real through a pool and two processes: connect-sessions and multi-process.)
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DriverProbe, driverProbe } from "./support/driver-probe.js";
import { postJson } from "./support/http.js";
import { startTestServer, type TestServer } from "./support/server.js";

describe("idempotent creates interleaved on SQLite", () => {
  let server: TestServer;
  let apiKey: string;
  const probe: DriverProbe = driverProbe();

  beforeAll(async () => {
    server = await startTestServer({
      wrapDriver: probe.wrap,
      // The key stays cached: during the race the requests touch the database only for their key.
      env: { API_KEY_CACHE_SECONDS: "60", RATE_LIMIT_PER_MINUTE: "100000" },
    });
    apiKey = await server.createApiKey();
  });
  afterAll(() => server.close());

  /** Runs `race` while an unrelated commit holds the connection, released once `queued` wait for it. */
  async function whileConnectionHeld<T>(queued: number, race: () => Promise<T>): Promise<T> {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached: () => void = () => {};
    const commitReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let armed = true;
    probe.gateCommits(async () => {
      if (!armed) return;
      armed = false;
      reached();
      await held;
    });
    try {
      const blocker = server.db.writes.run((trx) => sql`select 1`.execute(trx));
      await commitReached;
      const outcome = race();
      await probe.waitingForConnection(queued);
      release();
      await blocker;
      return await outcome;
    } finally {
      probe.gateCommits(undefined);
      release();
    }
  }

  it("creates one session when every duplicate looked before any committed", async () => {
    const warm = await postJson(
      `${server.url}/connect_sessions`,
      { origin_owner_id: "warm", origin_owner_name: "Warm" },
      { apiKey },
    );
    expect(warm.status).toBe(201);
    for (let round = 0; round < 3; round++) {
      const key = `race-${crypto.randomUUID()}`;
      const body = { origin_owner_id: key, origin_owner_name: "Race" };
      const responses = await whileConnectionHeld(4, () =>
        Promise.all(
          Array.from({ length: 4 }, () =>
            postJson(`${server.url}/connect_sessions`, body, { apiKey, headers: { "idempotency-key": key } }),
          ),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201]);
      expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
      const rows = await server.db.kysely
        .selectFrom("connect_sessions")
        .select("id")
        .where("origin_owner_id", "=", key)
        .execute();
      expect(rows).toHaveLength(1);
    }
  });
});
