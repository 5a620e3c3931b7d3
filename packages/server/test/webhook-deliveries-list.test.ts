/**
 * GET /webhooks/deliveries and POST /webhooks/endpoints/{id}/test on every database, against
 * real loopback receivers: the project-wide list with each delivery's last attempt, its
 * filters and pages; the test event reaching only its endpoint, signed like every other; and
 * another project seeing nothing.
 */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSecretBox } from "../src/crypto/keyring.js";
import { OutboundClient } from "../src/outbound/client.js";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.js";
import { WebhookOutbox } from "../src/webhooks/outbox.js";
import { expectErrorBody } from "./support/http.js";
import { adminRequest, connectApiKeyAccount } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";
import { signatureHeaders, startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

type Row = Record<string, unknown>;

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`webhook deliveries list and test event on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    let otherKey: string;
    let healthy: WebhookReceiver;
    let failing: WebhookReceiver;
    const endpoints: Record<string, { id: string; secret: string }> = {};
    const admin = (method: string, path: string, body?: unknown, key = apiKey) =>
      adminRequest(server, key, method, path, body);
    const list = async (query = "", key = apiKey) => {
      const response = await admin("GET", `/webhooks/deliveries${query}`, undefined, key);
      expect(response.status).toBe(200);
      return response.body as unknown as Row[];
    };
    const deliverAll = async () => {
      const outbound = new OutboundClient(server.config.outbound);
      const dispatcher = new WebhookDispatcher(
        server.db,
        outbound,
        loadSecretBox(server.config, () => {}),
        new WebhookOutbox(() => new Date(), server.config.organizationIdType),
        { ...server.config.webhooks, retryScheduleMs: [] },
      );
      try {
        while ((await dispatcher.runOnce()) > 0) {}
      } finally {
        await outbound.close();
      }
    };

    beforeAll(async () => {
      server = await startTestServer({
        dialect,
        env: { WEBHOOK_POLL_INTERVAL: "0", OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
      });
      apiKey = await server.createApiKey("deliveries");
      otherKey = await server.createApiKey("deliveries-other");
      healthy = await startWebhookReceiver();
      failing = await startWebhookReceiver();
      failing.respond = () => ({ status: 500, body: "receiver is broken" });
      expect(
        (await admin("PUT", "/integrations/ashby", { enabled: true, verify_credentials: false })).status,
      ).toBe(200);
      for (const [name, receiver] of [
        ["healthy", healthy],
        ["failing", failing],
      ] as const) {
        const created = await admin("POST", "/webhooks/endpoints", {
          url: receiver.url,
          events: ["account.created"],
        });
        expect(created.status).toBe(201);
        endpoints[name] = { id: String(created.body.id), secret: String(created.body.secret) };
      }
      await connectApiKeyAccount(server, apiKey, { origin_owner_id: "cust-1" });
      await deliverAll();
    });
    afterAll(async () => {
      await healthy?.stop();
      await failing?.stop();
      await server?.close();
    });

    it("lists the project's deliveries newest first, each with its last attempt", async () => {
      const deliveries = await list();
      expect(deliveries).toHaveLength(2);
      const [newer, older] = deliveries as [Row, Row];
      expect(Number(newer.id)).toBeGreaterThan(Number(older.id));
      const byEndpoint = Object.fromEntries(deliveries.map((d) => [d.endpoint_id, d]));
      const received = healthy.ofType("account.created")[0];
      expect(byEndpoint[String(endpoints.healthy?.id)]).toMatchObject({
        event_id: received?.id,
        event_type: "account.created",
        status: "succeeded",
        attempts: 1,
        last_status_code: 204,
        last_error: null,
      });
      expect(byEndpoint[String(endpoints.failing?.id)]).toMatchObject({
        event_type: "account.created",
        status: "failed",
        attempts: 1,
        last_status_code: 500,
        last_error: "the endpoint answered 500: receiver is broken",
      });
      for (const delivery of deliveries) {
        expect(typeof delivery.last_latency_ms).toBe("number");
        expect(Date.parse(String(delivery.last_attempt_at))).not.toBeNaN();
      }
    });

    it("filters by endpoint and status, and pages", async () => {
      const failed = await list("?status=failed");
      expect(failed.map((d) => d.endpoint_id)).toEqual([endpoints.failing?.id]);
      expect((await list(`?endpoint_id=${endpoints.healthy?.id}`)).map((d) => d.status)).toEqual([
        "succeeded",
      ]);
      expect(await list(`?endpoint_id=${endpoints.healthy?.id}&status=failed`)).toEqual([]);
      const all = (await list()).map((d) => d.id);
      expect((await list("?page_size=1&page=2")).map((d) => d.id)).toEqual([all[1]]);
      expect(await list("?page=3&page_size=1")).toEqual([]);
    });

    it("sends webhook.test to that endpoint only, whatever its events, signed with its secret", async () => {
      const healthyBefore = healthy.received.length;
      const failingBefore = failing.received.length;
      const response = await admin("POST", `/webhooks/endpoints/${endpoints.healthy?.id}/test`);
      expect(response.status).toBe(202);
      expect(response.body).toMatchObject({
        endpoint_id: endpoints.healthy?.id,
        status: "pending",
        attempts: 0,
      });
      await deliverAll();
      const [test] = healthy.ofType("webhook.test");
      expect(test).toBeDefined();
      if (!test) return;
      expect(
        new Webhook(String(endpoints.healthy?.secret)).verify(test.body, signatureHeaders(test)),
      ).toEqual(test.event);
      expect(test.event.data).toMatchObject({ endpoint: { id: endpoints.healthy?.id } });
      expect(healthy.received).toHaveLength(healthyBefore + 1);
      expect(failing.received).toHaveLength(failingBefore);
      const [listed] = await list(`?endpoint_id=${endpoints.healthy?.id}`);
      expect(listed).toMatchObject({ id: response.body.id, event_type: "webhook.test", status: "succeeded" });
    });

    it("refuses a test to a disabled endpoint (409) and to an unknown or foreign one (404)", async () => {
      const id = String(endpoints.failing?.id);
      expect((await admin("PATCH", `/webhooks/endpoints/${id}`, { enabled: false })).status).toBe(200);
      const refused = await admin("POST", `/webhooks/endpoints/${id}/test`);
      expect(refused.status).toBe(409);
      expect((await admin("POST", "/webhooks/endpoints/whe_nope/test")).status).toBe(404);
      expect(
        (await admin("POST", `/webhooks/endpoints/${endpoints.healthy?.id}/test`, undefined, otherKey))
          .status,
      ).toBe(404);
    });

    it("shows another project nothing", async () => {
      expect(await list("", otherKey)).toEqual([]);
      expect(await list(`?endpoint_id=${endpoints.healthy?.id}`, otherKey)).toEqual([]);
    });

    it("answers 400 naming the field for bad values, 401 without a key", async () => {
      for (const [query, message] of [
        ["?status=done", /^status must be one of: pending, succeeded, failed/],
        ["?page_size=0", /^page_size must be at least 1/],
        [`?endpoint_id=${"e".repeat(101)}`, /^endpoint_id must be at most 100 characters/],
      ] as const) {
        const response = await fetch(`${server.url}/webhooks/deliveries${query}`, {
          headers: { authorization: basicAuth(apiKey) },
        });
        const body = (await response.json()) as Row;
        expect(expectErrorBody({ status: response.status, headers: response.headers, body }, 400)).toMatch(
          message,
        );
      }
      expect((await fetch(`${server.url}/webhooks/deliveries`)).status).toBe(401);
    });
  });
}
