/**
 * Every webhook event from a real flow, on every database: accounts connected through the
 * connect page's API, changed and deleted through the Accounts API, sessions expired by the
 * sweeper. Deliveries arrive over real HTTP at a loopback receiver and are verified with the
 * official `standardwebhooks` package.
 */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adminRequest, connectApiKeyAccount, createSession } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { signatureHeaders, startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

export const FAST_WEBHOOKS = {
  OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
  WEBHOOK_POLL_INTERVAL: "50ms",
  WEBHOOK_RETRY_SCHEDULE: "100ms,100ms,100ms",
  RATE_LIMIT_PER_MINUTE: "100000",
};

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`webhook events on ${dialect}`, () => {
    let server: TestServer;
    let receiver: WebhookReceiver;
    let apiKey: string;
    let secret: string;
    const admin = (method: string, path: string, body?: unknown) =>
      adminRequest(server, apiKey, method, path, body);

    beforeAll(async () => {
      receiver = await startWebhookReceiver();
      server = await startTestServer({ dialect, env: { ...FAST_WEBHOOKS, SWEEP_INTERVAL_SECONDS: "1" } });
      apiKey = await server.createApiKey();
      expect((await admin("PUT", "/integrations/ashby", { verify_credentials: false })).status).toBe(200);
      const created = await admin("POST", "/webhooks/endpoints", { url: receiver.url });
      expect(created.status).toBe(201);
      secret = created.body.secret as string;
    });
    afterAll(async () => {
      await server.close();
      await receiver.stop();
    });
    beforeEach(() => {
      receiver.received.length = 0;
    });

    /** Waits for one event of `type` about `id` and checks its signature with `standardwebhooks`. */
    async function eventFor(type: string, match: (data: Record<string, unknown>) => boolean) {
      const find = () => receiver.ofType(type).find((d) => match(d.event.data));
      await receiver.waitFor(() => find() !== undefined);
      const delivery = find();
      if (!delivery) throw new Error("unreachable");
      const verified = new Webhook(secret).verify(delivery.body, signatureHeaders(delivery));
      expect(verified).toEqual(delivery.event);
      expect(delivery.id).toMatch(/^msg_/);
      expect(delivery.headers["content-type"]).toBe("application/json");
      expect(delivery.event.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      return delivery;
    }
    const aboutAccount = (id: string) => (data: Record<string, unknown>) =>
      (data.account as { id: string } | undefined)?.id === id;
    const aboutSession = (id: number) => (data: Record<string, unknown>) =>
      (data.connect_session as { id: number } | undefined)?.id === id;

    it("sends account.created and connect_session.completed when a session links an account", async () => {
      const session = await createSession(server, apiKey, {
        origin_owner_id: "owner-created",
        origin_owner_name: "Created Inc",
        origin_username: "jane@created.test",
      });
      const response = await fetch(`${server.url}/connect/api/credentials`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${session.token}`,
          "content-type": "application/json",
          origin: new URL(server.config.publicUrl).origin,
          "sec-fetch-site": "same-origin",
        },
        body: JSON.stringify({ provider: "ashby", values: { api_key: "ashby-very-secret-1" } }),
      });
      expect(response.status).toBe(201);
      const accountId = ((await response.json()) as { account: { id: string } }).account.id;

      const created = await eventFor("account.created", aboutAccount(accountId));
      const apiView = (await admin("GET", `/accounts/${accountId}`)).body;
      expect(created.event.data).toEqual({
        account: apiView,
        origin_owner: { id: "owner-created", name: "Created Inc", username: "jane@created.test" },
      });
      expect(created.body).not.toContain("ashby-very-secret-1");

      const completed = await eventFor("connect_session.completed", aboutSession(session.id));
      expect(completed.event.data.connect_session).toMatchObject({
        id: session.id,
        status: "completed",
        origin_owner_id: "owner-created",
        account: { id: accountId, provider: "ashby" },
      });
      expect(completed.event.data.connect_session).not.toHaveProperty("token");
      expect(completed.event.data.origin_owner).toEqual({
        id: "owner-created",
        name: "Created Inc",
        username: "jane@created.test",
      });
    });

    it("sends account.updated when a session re-authorizes an account, and on PATCH", async () => {
      const accountId = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "owner-reauth" });
      await eventFor("account.created", aboutAccount(accountId));

      const again = await createSession(server, apiKey, {
        origin_owner_id: "owner-reauth",
        account_id: accountId,
      });
      const reauthorized = await fetch(`${server.url}/connect/api/credentials`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${again.token}`,
          "content-type": "application/json",
          origin: new URL(server.config.publicUrl).origin,
          "sec-fetch-site": "same-origin",
        },
        body: JSON.stringify({ provider: "ashby", values: { api_key: "ashby-rotated-key" } }),
      });
      expect(reauthorized.status).toBe(201);
      await eventFor("account.updated", aboutAccount(accountId));
      await eventFor("connect_session.completed", aboutSession(again.id));
      expect(
        receiver.ofType("account.created").filter((d) => aboutAccount(accountId)(d.event.data)),
      ).toHaveLength(1);

      const patched = await admin("PATCH", `/accounts/${accountId}`, { label: "renamed" });
      expect(patched.status).toBe(200);
      const updated = await eventFor(
        "account.updated",
        (data) => (data.account as { label?: string }).label === "renamed",
      );
      expect(updated.event.data.account).toEqual(patched.body);
    });

    it("sends account.deleted with the account as it was", async () => {
      const accountId = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "owner-deleted" });
      const deleted = await admin("DELETE", `/accounts/${accountId}`);
      expect(deleted.status).toBe(200);
      const event = await eventFor("account.deleted", aboutAccount(accountId));
      expect(event.event.data.account).toEqual(deleted.body);
    });

    it("sends connect_session.expired when the sweeper expires a session that connected nothing", async () => {
      const session = await createSession(server, apiKey, {
        origin_owner_id: "owner-expired",
        expires_in: 1,
      });
      const event = await eventFor("connect_session.expired", aboutSession(session.id));
      expect(event.event.data.connect_session).toMatchObject({ status: "expired", account: null });
      expect(event.event.data.origin_owner).toMatchObject({ id: "owner-expired" });
    });

    it("sends only the event types an endpoint subscribed to, and nothing for another project", async () => {
      const narrow = await startWebhookReceiver();
      const otherKey = await server.createApiKey(`other-${dialect}`);
      const otherReceiver = await startWebhookReceiver();
      try {
        const onlyDeleted = await admin("POST", "/webhooks/endpoints", {
          url: narrow.url,
          events: ["account.deleted"],
        });
        expect(onlyDeleted.body.events).toEqual(["account.deleted"]);
        await adminRequest(server, otherKey, "POST", "/webhooks/endpoints", { url: otherReceiver.url });
        const accountId = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "owner-narrow" });
        await admin("DELETE", `/accounts/${accountId}`);
        await eventFor("account.deleted", aboutAccount(accountId));
        await narrow.waitFor((received) => received.length >= 1);
        // Deliveries are written with their event: the outbox, not a wait, says none is coming.
        const deliveriesTo = async (url: string) =>
          (
            await server.db.kysely
              .selectFrom("webhook_deliveries")
              .innerJoin("webhook_endpoints", "webhook_endpoints.id", "webhook_deliveries.endpoint_id")
              .select("webhook_deliveries.id")
              .where("webhook_endpoints.url", "=", url)
              .execute()
          ).length;
        expect(await deliveriesTo(narrow.url)).toBe(1);
        expect(await deliveriesTo(otherReceiver.url)).toBe(0);
        expect(narrow.received.map((d) => d.event.type)).toEqual(["account.deleted"]);
        expect(otherReceiver.received).toEqual([]);
        await admin("DELETE", `/webhooks/endpoints/${onlyDeleted.body.id}`);
      } finally {
        await narrow.stop();
        await otherReceiver.stop();
      }
    });
  });
}
