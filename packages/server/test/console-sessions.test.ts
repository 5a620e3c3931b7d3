/**
 * GET /connect_sessions and GET /connect_sessions/{id} on every database: the derived states
 * (pending, opened, completed, expired), `opened_at` set once by the first use of the link
 * (the hosted page or the embedded hub), filters, pagination, no token anywhere, 400s naming
 * the field, and another project seeing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody } from "./support/http.js";
import { adminRequest, createSession, submitCredentials } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";

const START = Date.parse("2026-11-20T08:00:00.000Z");

type Summary = Record<string, unknown> & { id: number; state: string };

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`GET /connect_sessions on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    let otherKey: string;
    let now = START;
    const clock = () => new Date(now);
    const list = async (query = "", key = apiKey) => {
      const response = await adminRequest(server, key, "GET", `/connect_sessions${query}`);
      expect(response.status).toBe(200);
      return response.body as unknown as Summary[];
    };
    const ids: Record<string, number> = {};
    const tokens: Record<string, string> = {};

    beforeAll(async () => {
      server = await startTestServer({ dialect, clock });
      apiKey = await server.createApiKey("sessions");
      otherKey = await server.createApiKey("sessions-other");
      const put = await adminRequest(server, apiKey, "PUT", "/integrations/ashby", {
        enabled: true,
        verify_credentials: false,
      });
      expect(put.status).toBe(200);
      for (const [name, body] of Object.entries({
        expiring: { origin_owner_id: "cust-x", expires_in: 60 },
        pending: { origin_owner_id: "cust-a", provider: "ashby" },
        page: { origin_owner_id: "cust-a" },
        embedded: { origin_owner_id: "cust-b", label: "from the app" },
        completed: { origin_owner_id: "cust-b", categories: ["ats"] },
      })) {
        const session = await createSession(server, apiKey, body);
        ids[name] = session.id;
        tokens[name] = session.token;
        now += 1000;
      }
    });
    afterAll(async () => {
      await server?.close();
    });

    it("shows new sessions pending, newest first, without their tokens", async () => {
      const sessions = await list();
      expect(sessions.map((s) => s.id)).toEqual(
        ["completed", "embedded", "page", "pending", "expiring"].map((name) => ids[name]),
      );
      expect(new Set(sessions.map((s) => s.state))).toEqual(new Set(["pending"]));
      expect(sessions[4]).toEqual({
        id: ids.expiring,
        state: "pending",
        provider: null,
        categories: null,
        origin_owner_id: "cust-x",
        origin_owner_name: "Acme",
        label: null,
        account_id: null,
        created_at: new Date(START).toISOString(),
        opened_at: null,
        completed_at: null,
        expires_at: new Date(START + 60_000).toISOString(),
      });
      const text = JSON.stringify(sessions);
      for (const token of Object.values(tokens)) expect(text).not.toContain(token);
      expect(text).not.toContain("token");
    });

    it("records opened_at at the first use of the link, by the page or the embedded hub, once", async () => {
      const openedAt = new Date(now).toISOString();
      expect((await fetch(`${server.url}/connect?token=${tokens.page}`)).status).toBe(200);
      const hub = await fetch(`${server.url}/hub/settings`, {
        headers: { "x-hub-session-token": String(tokens.embedded) },
      });
      expect(hub.status).toBe(200);
      now += 5000;
      expect((await fetch(`${server.url}/connect?token=${tokens.page}`)).status).toBe(200);
      // The API's own poll is not an opening.
      const poll = await fetch(`${server.url}/connect_sessions/authenticate`, {
        method: "POST",
        headers: { authorization: basicAuth(apiKey), "content-type": "application/json" },
        body: JSON.stringify({ token: tokens.pending }),
      });
      expect(poll.status).toBe(201);
      const page = (await adminRequest(server, apiKey, "GET", `/connect_sessions/${ids.page}`)).body;
      expect(page).toMatchObject({ state: "opened", opened_at: openedAt });
      const embedded = (await adminRequest(server, apiKey, "GET", `/connect_sessions/${ids.embedded}`)).body;
      expect(embedded).toMatchObject({ state: "opened", opened_at: openedAt, label: "from the app" });
      const pending = (await adminRequest(server, apiKey, "GET", `/connect_sessions/${ids.pending}`)).body;
      expect(pending).toMatchObject({ state: "pending", opened_at: null, provider: "ashby" });
    });

    it("shows what became of a session: completed with its account and provider, or expired", async () => {
      const completedAt = new Date(now).toISOString();
      const result = await submitCredentials(server, String(tokens.completed), "ashby", { api_key: "k-1" });
      expect(result.status).toBe(201);
      const accountId = (result.body.account as { id: string }).id;
      now += 60_000; // the 60-second session is past its expiry, not yet swept
      const completed = (await adminRequest(server, apiKey, "GET", `/connect_sessions/${ids.completed}`))
        .body;
      expect(completed).toMatchObject({
        state: "completed",
        provider: "ashby",
        categories: ["ats"],
        account_id: accountId,
        opened_at: completedAt,
        completed_at: completedAt,
      });
      const expiring = (await adminRequest(server, apiKey, "GET", `/connect_sessions/${ids.expiring}`)).body;
      expect(expiring).toMatchObject({ state: "expired", opened_at: null, completed_at: null });
    });

    it("filters by state, origin owner and provider", async () => {
      const idsOf = (sessions: Summary[]) => sessions.map((s) => s.id);
      expect(idsOf(await list("?state=pending"))).toEqual([ids.pending]);
      expect(idsOf(await list("?state=opened"))).toEqual([ids.embedded, ids.page]);
      expect(idsOf(await list("?state=completed"))).toEqual([ids.completed]);
      expect(idsOf(await list("?state=expired"))).toEqual([ids.expiring]);
      expect(idsOf(await list("?origin_owner_id=cust-b"))).toEqual([ids.completed, ids.embedded]);
      // The session's own provider, or else that of the account it linked.
      expect(idsOf(await list("?provider=ashby"))).toEqual([ids.completed, ids.pending]);
      expect(idsOf(await list("?provider=ashby&state=pending&origin_owner_id=cust-a"))).toEqual([
        ids.pending,
      ]);
      expect(await list("?provider=bamboohr")).toEqual([]);
    });

    it("paginates with page and page_size; a shorter page is the last", async () => {
      const all = (await list()).map((s) => s.id);
      const pages = [];
      for (let page = 1; page <= 3; page++)
        pages.push((await list(`?page_size=2&page=${page}`)).map((s) => s.id));
      expect(pages).toEqual([all.slice(0, 2), all.slice(2, 4), all.slice(4)]);
      expect(await list("?page=9")).toEqual([]);
    });

    it("shows another project nothing: an empty list, and 404 for each id", async () => {
      expect(await list("", otherKey)).toEqual([]);
      for (const id of Object.values(ids)) {
        const response = await adminRequest(server, otherKey, "GET", `/connect_sessions/${id}`);
        expect(response.status).toBe(404);
      }
      expect((await adminRequest(server, apiKey, "GET", "/connect_sessions/999999")).status).toBe(404);
    });

    it("answers 400 naming the field for bad values, 401 without a key", async () => {
      const cases: Array<[string, RegExp]> = [
        ["?state=cancelled", /^state must be one of: pending, opened, completed, expired/],
        ["?page=0", /^page must be at least 1/],
        ["?page_size=101", /^page_size must be at most 100/],
        ["?page_size=ten", /^page_size must be/],
        [`?origin_owner_id=${"x".repeat(256)}`, /^origin_owner_id must be at most 255 characters/],
        ["?provider=", /^provider must not be empty/],
        ["/abc", /^id must be/],
        ["/0", /^id must be at least 1/],
      ];
      for (const [suffix, message] of cases) {
        const response = await fetch(`${server.url}/connect_sessions${suffix}`, {
          headers: { authorization: basicAuth(apiKey) },
        });
        const body = (await response.json()) as Record<string, unknown>;
        expect(expectErrorBody({ status: response.status, headers: response.headers, body }, 400)).toMatch(
          message,
        );
      }
      expect((await fetch(`${server.url}/connect_sessions`)).status).toBe(401);
      expect((await fetch(`${server.url}/connect_sessions/${ids.pending}`)).status).toBe(401);
    });
  });
}
