/**
 * GET /stats/overview on every database, against what the test itself does under an injected
 * clock: sessions created on two days, opened by the connect page and the embedded hub,
 * completed or left to expire, and webhook deliveries that succeed or fail. The numbers are
 * exact, they survive the sweeper deleting the expired sessions, and another project sees
 * none of them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsContext } from "../src/accounts/service.js";
import { loadSecretBox } from "../src/crypto/keyring.js";
import { Sweeper } from "../src/maintenance/sweeper.js";
import { OutboundClient } from "../src/outbound/client.js";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.js";
import { WebhookOutbox } from "../src/webhooks/outbox.js";
import { expectErrorBody } from "./support/http.js";
import { adminRequest, createSession, submitCredentials } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { basicAuth, freePort, startTestServer, type TestServer } from "./support/server.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

const DAY_MS = 86_400_000;
/** A Tuesday; the next day is in the same week (from Monday 2026-11-09). */
const DAY_ONE = Date.parse("2026-11-10T10:00:00.000Z");

const ZERO = {
  sessions_created: 0,
  sessions_opened: 0,
  sessions_completed: 0,
  sessions_expired_unconnected: 0,
  webhook_deliveries_succeeded: 0,
  webhook_deliveries_failed: 0,
};

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`GET /stats/overview on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    let otherKey: string;
    let receiver: WebhookReceiver;
    let now = DAY_ONE;
    const clock = () => new Date(now);
    const admin = (path: string, key = apiKey) => adminRequest(server, key, "GET", path);

    const openPage = async (token: string) => {
      const response = await fetch(`${server.url}/connect?token=${encodeURIComponent(token)}`);
      expect(response.status).toBe(200);
    };
    const openEmbedded = async (token: string) => {
      const response = await fetch(`${server.url}/hub/settings`, {
        headers: { "x-hub-session-token": token },
      });
      expect(response.status).toBe(200);
    };
    const deliverAll = async () => {
      const outbound = new OutboundClient(server.config.outbound);
      const dispatcher = new WebhookDispatcher(
        server.db,
        outbound,
        loadSecretBox(server.config, () => {}),
        new WebhookOutbox(clock, server.config.organizationIdType),
        // No retries: a failed attempt is the delivery's last.
        { ...server.config.webhooks, retryScheduleMs: [] },
        { clock },
      );
      try {
        while ((await dispatcher.runOnce()) > 0) {}
      } finally {
        await outbound.close();
      }
    };
    const sweep = () =>
      new Sweeper(server.db, server.config.sweeper, {
        clock,
        events: new WebhookOutbox(clock, server.config.organizationIdType),
      }).sweepOnce();

    beforeAll(async () => {
      server = await startTestServer({
        dialect,
        clock,
        env: { WEBHOOK_POLL_INTERVAL: "0", OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
      });
      apiKey = await server.createApiKey("stats");
      otherKey = await server.createApiKey("stats-other");
      receiver = await startWebhookReceiver();
      const adminChange = (method: string, path: string, body: unknown) =>
        adminRequest(server, apiKey, method, path, body);
      expect(
        (await adminChange("PUT", "/integrations/ashby", { enabled: true, verify_credentials: false }))
          .status,
      ).toBe(200);
      const events = ["account.created"];
      expect((await adminChange("POST", "/webhooks/endpoints", { url: receiver.url, events })).status).toBe(
        201,
      );
      const down = `http://127.0.0.1:${await freePort()}/down`;
      expect((await adminChange("POST", "/webhooks/endpoints", { url: down, events })).status).toBe(201);

      // Day one: four sessions; two opened by the page, one by the embedded hub, one never.
      const day1 = await Promise.all(
        [1, 2, 3, 4].map((n) => createSession(server, apiKey, { label: `d1-${n}` })),
      );
      const [s1, s2, s3] = day1 as [(typeof day1)[0], (typeof day1)[0], (typeof day1)[0]];
      await openPage(s1.token);
      await openPage(s1.token); // a second opening counts once
      await openPage(s2.token);
      await openEmbedded(s3.token);
      expect((await submitCredentials(server, s1.token, "ashby", { api_key: "key-one" })).status).toBe(201);

      // Day two: one session, completed straight away (the submission is its first use).
      now = DAY_ONE + DAY_MS;
      const s5 = await createSession(server, apiKey, { origin_owner_id: "cust-2" });
      expect((await submitCredentials(server, s5.token, "ashby", { api_key: "key-two" })).status).toBe(201);
      // Two account.created events, each to a healthy and a closed endpoint.
      await deliverAll();

      // Past day one's expiries: its three open sessions are marked expired.
      now = DAY_ONE + DAY_MS + 3_600_000;
      await sweep();
    });
    afterAll(async () => {
      await receiver?.stop();
      await server?.close();
    });

    const expectedDays = () => [
      {
        start: "2026-11-10",
        ...ZERO,
        sessions_created: 4,
        sessions_opened: 3,
        sessions_completed: 1,
        sessions_expired_unconnected: 3,
      },
      {
        start: "2026-11-11",
        ...ZERO,
        sessions_created: 1,
        sessions_opened: 1,
        sessions_completed: 1,
        webhook_deliveries_succeeded: 2,
        webhook_deliveries_failed: 2,
      },
    ];

    it("counts the funnel by the day each session was created, and deliveries by the day they finished", async () => {
      const response = await admin("/stats/overview?from=2026-11-09&to=2026-11-12");
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        interval: "day",
        from: "2026-11-09",
        to: "2026-11-12",
        buckets: [{ start: "2026-11-09", ...ZERO }, ...expectedDays(), { start: "2026-11-12", ...ZERO }],
        accounts_by_provider: [{ provider: "ashby", active: 2, error: 0, total: 2 }],
        accounts_in_error: 0,
      });
      expect(receiver.ofType("account.created")).toHaveLength(2);
    });

    it("sums days into weeks from Monday", async () => {
      const response = await admin("/stats/overview?interval=week&from=2026-11-11&to=2026-11-20");
      expect(response.status).toBe(200);
      const [first, second] = expectedDays() as unknown as [Record<string, unknown>, Record<string, unknown>];
      const sum = Object.fromEntries(
        Object.keys(ZERO).map((key) => [key, (first[key] as number) + (second[key] as number)]),
      );
      expect(response.body.from).toBe("2026-11-09");
      expect(response.body.buckets).toEqual([
        { start: "2026-11-09", ...sum },
        { start: "2026-11-16", ...ZERO },
      ]);
    });

    it("defaults to the last 30 days by day, ending today", async () => {
      const response = await admin("/stats/overview");
      expect(response.status).toBe(200);
      const buckets = response.body.buckets as unknown as Array<{ start: string }>;
      expect(buckets).toHaveLength(30);
      expect(buckets.at(-1)?.start).toBe("2026-11-11");
      expect(buckets.at(0)?.start).toBe("2026-10-13");
    });

    it("keeps the counts when the sweeper deletes the expired sessions", async () => {
      const countSessions = async () =>
        Number(
          (
            await server.db.kysely
              .selectFrom("connect_sessions")
              .select((eb) => eb.fn.countAll<number>().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        );
      expect(await countSessions()).toBe(5);
      const before = now;
      now += (server.config.sweeper.sessionRetentionSeconds + 3600) * 1000;
      try {
        const report = await sweep();
        expect(report.delete_expired_connect_sessions).toBe(3);
        expect(await countSessions()).toBe(2);
        const response = await admin("/stats/overview?from=2026-11-10&to=2026-11-11");
        expect(response.body.buckets).toEqual(expectedDays());
      } finally {
        now = before;
      }
    });

    it("counts accounts in error by provider", async () => {
      const [account] = (await admin("/accounts?origin_owner_id=cust-2")).body;
      const id = String(account?.id);
      // An OAuth2 account whose token expired and cannot be refreshed turns `error`.
      const box = loadSecretBox(server.config, () => {});
      await server.db.kysely
        .updateTable("linked_accounts")
        .set({
          auth_type: "oauth2",
          credentials_sealed: box.sealJson(
            { access_token: "old", refresh_token: "r" },
            credentialsContext(id),
          ),
          credentials_expires_at: "2000-01-01T00:00:00.000Z",
        })
        .where("id", "=", id)
        .execute();
      expect((await admin(`/accounts/${id}/credentials`)).status).toBe(502);
      const response = await admin("/stats/overview?from=2026-11-10&to=2026-11-10");
      expect(response.body.accounts_by_provider).toEqual([
        { provider: "ashby", active: 1, error: 1, total: 2 },
      ]);
      expect(response.body.accounts_in_error).toBe(1);
    });

    it("shows another project nothing", async () => {
      const response = await admin("/stats/overview?from=2026-11-10&to=2026-11-11", otherKey);
      expect(response.status).toBe(200);
      expect(response.body.buckets).toEqual([
        { start: "2026-11-10", ...ZERO },
        { start: "2026-11-11", ...ZERO },
      ]);
      expect(response.body.accounts_by_provider).toEqual([]);
      expect(response.body.accounts_in_error).toBe(0);
    });

    it("answers 400 naming the field for bad values, 401 without a key", async () => {
      const cases: Array<[string, RegExp]> = [
        ["interval=month", /^interval must be one of: day, week/],
        ["from=2026-13-01", /^from is not in the expected format/],
        ["to=yesterday", /^to is not in the expected format/],
        ["from=2026-11-12&to=2026-11-10", /^from must not be after to/],
        ["from=2024-01-01&to=2026-11-10", /^from: the range holds \d+ days; at most 366/],
        ["interval=week&from=2020-01-01&to=2026-11-10", /^from: the range holds \d+ weeks; at most 104/],
      ];
      for (const [query, message] of cases) {
        const response = await fetch(`${server.url}/stats/overview?${query}`, {
          headers: { authorization: basicAuth(apiKey) },
        });
        const body = (await response.json()) as Record<string, unknown>;
        expect(expectErrorBody({ status: response.status, headers: response.headers, body }, 400)).toMatch(
          message,
        );
      }
      expect((await fetch(`${server.url}/stats/overview`)).status).toBe(401);
    });
  });
}
