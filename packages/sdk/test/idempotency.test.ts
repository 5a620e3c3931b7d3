/**
 * Safe retries of create against the real Connect Hub: the SDK's `Idempotency-Key` makes a
 * repeated, retried or concurrent create produce exactly one session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../server/test/support/server.js";
import { ConnectHub, type ConnectHubOptions, UnprocessableEntityResponse } from "../src/index.js";

let server: TestServer;
let apiKey: string;

beforeAll(async () => {
  server = await startTestServer();
  apiKey = await server.createApiKey();
});
afterAll(() => server.close());

function hubFor(options: Partial<ConnectHubOptions> = {}): ConnectHub {
  return new ConnectHub({ serverURL: server.url, security: { username: apiKey, password: "" }, ...options });
}

async function sessionsOwnedBy(originOwnerId: string): Promise<number> {
  const row = await server.db.kysely
    .selectFrom("connect_sessions")
    .where("origin_owner_id", "=", originOwnerId)
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("Idempotency-Key on createConnectSession", () => {
  it("sends a fresh UUID on each call, so two calls create two sessions", async () => {
    const keys: (string | null)[] = [];
    const hub = hubFor({
      hooks: { beforeRequest: (request) => void keys.push(request.headers.get("idempotency-key")) },
    });
    const request = { originOwnerId: "fresh-keys", originOwnerName: "Acme" };
    const first = await hub.connectSessions.createConnectSession(request);
    const second = await hub.connectSessions.createConnectSession(request);

    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(UUID);
    expect(keys[0]).not.toBe(keys[1]);
    expect(first.connectSessionTokenAuthLink.id).not.toBe(second.connectSessionTokenAuthLink.id);
    expect(await sessionsOwnedBy("fresh-keys")).toBe(2);
  });

  it("replays the first answer to the same key and body, creating nothing new", async () => {
    const hub = hubFor();
    const request = { originOwnerId: "same-key", originOwnerName: "Acme", label: "one" };
    const first = await hub.connectSessions.createConnectSession(request, { idempotencyKey: "order-1001" });
    const again = await hub.connectSessions.createConnectSession(request, { idempotencyKey: "order-1001" });

    expect(again.statusCode).toBe(201);
    expect(again.rawResponse.headers.get("idempotent-replayed")).toBe("true");
    expect(first.rawResponse.headers.get("idempotent-replayed")).toBeNull();
    expect(again.connectSessionTokenAuthLink).toEqual(first.connectSessionTokenAuthLink);
    expect(await sessionsOwnedBy("same-key")).toBe(1);
  });

  it("refuses the same key with a different body: UnprocessableEntityResponse", async () => {
    const hub = hubFor();
    await hub.connectSessions.createConnectSession(
      { originOwnerId: "mismatch", originOwnerName: "Acme" },
      { idempotencyKey: "order-2002" },
    );
    const failure = await hub.connectSessions
      .createConnectSession(
        { originOwnerId: "mismatch", originOwnerName: "Other" },
        { idempotencyKey: "order-2002" },
      )
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(UnprocessableEntityResponse);
    expect((failure as UnprocessableEntityResponse).statusCode).toBe(422);
    expect((failure as UnprocessableEntityResponse).message).toContain("different request");
    expect(await sessionsOwnedBy("mismatch")).toBe(1);
  });

  it("creates exactly one session for concurrent duplicates with one key", async () => {
    const hub = hubFor();
    const request = { originOwnerId: "concurrent", originOwnerName: "Acme", categories: ["hris" as const] };
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        hub.connectSessions.createConnectSession(request, { idempotencyKey: "order-3003" }),
      ),
    );

    const ids = new Set(results.map((result) => result.connectSessionTokenAuthLink.id));
    const tokens = new Set(results.map((result) => result.connectSessionTokenAuthLink.token));
    expect(ids.size).toBe(1);
    expect(tokens.size).toBe(1);
    expect(await sessionsOwnedBy("concurrent")).toBe(1);
  });

  it("retries a create whose answer was lost with the same key: one session, the first one's answer", async () => {
    const sentKeys: (string | null)[] = [];
    let attempts = 0;
    const hub = hubFor({
      retryConfig: { strategy: "backoff", backoff: { initialInterval: 50 } },
      fetch: async (request) => {
        sentKeys.push(request.headers.get("idempotency-key"));
        const response = await fetch(request);
        attempts += 1;
        if (attempts === 1) throw new TypeError("socket hang up after the server answered");
        return response;
      },
    });
    const created = await hub.connectSessions.createConnectSession({
      originOwnerId: "lost",
      originOwnerName: "A",
    });

    expect(sentKeys).toHaveLength(2);
    expect(sentKeys[0]).toMatch(UUID);
    expect(sentKeys[1]).toBe(sentKeys[0]);
    expect(created.rawResponse.headers.get("idempotent-replayed")).toBe("true");
    expect(await sessionsOwnedBy("lost")).toBe(1);
  });
});
