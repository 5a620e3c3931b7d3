/**
 * The outbox promise, for every event type, on every database: an event and the change it
 * describes commit or roll back together. Watched at the driver: the event's INSERT runs in
 * the same transaction as the change's statement, that transaction commits; and when that
 * COMMIT is made to fail, neither the event nor the change is left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsContext } from "../src/accounts/service.js";
import { loadSecretBox } from "../src/crypto/keyring.js";
import { Sweeper } from "../src/maintenance/sweeper.js";
import { OutboundClient } from "../src/outbound/client.js";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.js";
import { WebhookOutbox } from "../src/webhooks/outbox.js";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "../src/webhooks/schema.js";
import { type DriverProbe, driverProbe, type ProbedStatement } from "./support/driver-probe.js";
import { adminRequest, connectApiKeyAccount, createSession, submitCredentials } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { freePort, startTestServer, type TestServer } from "./support/server.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

const isEventInsert = (statement: ProbedStatement, type: WebhookEventType) =>
  /^insert into "webhook_events"/.test(statement.sql) && statement.parameters.includes(type);

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`outbox atomicity on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    let watcher: WebhookReceiver;
    let offsetMs = 0;
    const clock = () => new Date(Date.now() + offsetMs);
    const probe: DriverProbe = driverProbe();
    const admin = (method: string, path: string, body?: unknown) =>
      adminRequest(server, apiKey, method, path, body);

    beforeAll(async () => {
      server = await startTestServer({
        dialect,
        clock,
        wrapDriver: probe.wrap,
        env: { WEBHOOK_POLL_INTERVAL: "0", OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
      });
      apiKey = await server.createApiKey();
      watcher = await startWebhookReceiver();
      expect(
        (await admin("PUT", "/integrations/ashby", { enabled: true, verify_credentials: false })).status,
      ).toBe(200);
      expect((await admin("POST", "/webhooks/endpoints", { url: watcher.url })).status).toBe(201);
    });
    afterAll(async () => {
      await watcher?.stop();
      await server?.close();
    });

    /** Account ids made for the triggers, one per step so each trigger finds its own. */
    const accounts: Record<string, string> = {};

    /** For each event type: what causes it, and the statement of the change it describes. */
    const triggers: Record<WebhookEventType, { change: RegExp; run(step: string): Promise<unknown> }> = {
      "account.created": {
        change: /^insert into "linked_accounts"/,
        run: async () => {
          const { token } = await createSession(server, apiKey, { origin_owner_id: crypto.randomUUID() });
          return submitCredentials(server, token, "ashby", { api_key: "created-key" });
        },
      },
      "connect_session.completed": {
        // The sweeper picks its batch in a CTE first (see skipLockedRows).
        change: /^(with .+ )?update "connect_sessions" set "status"/s,
        run: async () => {
          const { token } = await createSession(server, apiKey, { origin_owner_id: crypto.randomUUID() });
          return submitCredentials(server, token, "ashby", { api_key: "completed-key" });
        },
      },
      "account.updated": {
        change: /^update "linked_accounts"/,
        run: async (step) => {
          accounts[`updated-${step}`] ??= await connectApiKeyAccount(server, apiKey, {
            origin_owner_id: crypto.randomUUID(),
          });
          return admin("PATCH", `/accounts/${accounts[`updated-${step}`]}`, { label: `label-${step}` });
        },
      },
      "account.deleted": {
        change: /^delete from "linked_accounts"/,
        run: async () => {
          accounts.deleted ??= await connectApiKeyAccount(server, apiKey, {
            origin_owner_id: crypto.randomUUID(),
          });
          return admin("DELETE", `/accounts/${accounts.deleted}`);
        },
      },
      "account.credentials_refresh_failed": {
        change: /^update "linked_accounts" set "status"/,
        run: async () => {
          if (!accounts.expiring) {
            // An OAuth2 account whose token has expired and cannot be refreshed.
            const id = await connectApiKeyAccount(server, apiKey, { origin_owner_id: crypto.randomUUID() });
            const box = loadSecretBox(server.config, () => {});
            await server.db.kysely
              .updateTable("linked_accounts")
              .set({
                auth_type: "oauth2",
                credentials_sealed: box.sealJson(
                  { access_token: "old", refresh_token: "refresh" },
                  credentialsContext(id),
                ),
                credentials_expires_at: "2000-01-01T00:00:00.000Z",
              })
              .where("id", "=", id)
              .execute();
            accounts.expiring = id;
          }
          return admin("GET", `/accounts/${accounts.expiring}/credentials`);
        },
      },
      "connect_session.expired": {
        // The sweeper picks its batch in a CTE first (see skipLockedRows).
        change: /^(with .+ )?update "connect_sessions" set "status"/s,
        run: async (step) => {
          if (step === "rollback") await createSession(server, apiKey, { expires_in: 1800 });
          const later = () => new Date(clock().getTime() + 3_600_000);
          const events = new WebhookOutbox(later, server.config.organizationIdType);
          return new Sweeper(server.db, server.config.sweeper, { clock: later, events }).sweepOnce();
        },
      },
      "webhook_endpoint.disabled": {
        change: /^update "webhook_endpoints" set "enabled"/,
        run: async (step) => {
          if (step === "rollback") {
            // An endpoint nothing listens on, failing its first delivery.
            const closed = `http://127.0.0.1:${await freePort()}/down`;
            const failing = await admin("POST", "/webhooks/endpoints", {
              url: closed,
              events: ["account.deleted"],
            });
            expect(failing.status).toBe(201);
            await admin(
              "DELETE",
              `/accounts/${await connectApiKeyAccount(server, apiKey, { origin_owner_id: "x" })}`,
            );
          }
          // Past any claim a rolled-back round left behind.
          offsetMs += 3_600_000;
          const outbound = new OutboundClient(server.config.outbound);
          const dispatcher = new WebhookDispatcher(
            server.db,
            outbound,
            loadSecretBox(server.config, () => {}),
            new WebhookOutbox(clock, server.config.organizationIdType),
            { ...server.config.webhooks, disableAfterMs: 0 },
            { clock },
          );
          try {
            while ((await dispatcher.runOnce()) > 0) {}
          } finally {
            await outbound.close();
          }
        },
      },
    };

    it("has a trigger for every event type", () => {
      expect(Object.keys(triggers).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
    });

    for (const type of WEBHOOK_EVENT_TYPES) {
      it(`${type}: rolls back with its change, and commits in its change's transaction`, async () => {
        const trigger = triggers[type];
        const countEvents = async () =>
          (
            await server.db.kysely
              .selectFrom("webhook_events")
              .select("id")
              .where("type", "=", type)
              .execute()
          ).length;

        // The COMMIT of the transaction that writes the event fails: nothing of it stays.
        const before = await countEvents();
        probe.reset();
        let failed: number | undefined;
        probe.gateCommits((commit) => {
          if (failed === undefined && commit.statements.some((statement) => isEventInsert(statement, type))) {
            failed = commit.transaction;
            throw new Error("the commit failed (planted by the test)");
          }
        });
        try {
          await trigger.run("rollback");
        } finally {
          probe.gateCommits(undefined);
        }
        expect(failed, `no transaction wrote a ${type} event`).toBeDefined();
        expect(probe.events).toContain(`rollback ${failed}`);
        expect(await countEvents()).toBe(before);
        const changes = probe.matching(trigger.change);
        expect(changes.length).toBeGreaterThan(0);
        for (const change of changes) {
          expect(change.transaction, `${type}: a change outside the rolled-back transaction`).toBe(failed);
        }

        // Committed: the event's INSERT ran in the transaction of the change, which committed.
        probe.reset();
        await trigger.run("commit");
        const inserts = probe.statements.filter((statement) => isEventInsert(statement, type));
        expect(inserts.length).toBeGreaterThan(0);
        const changeTransactions = probe.matching(trigger.change).map((change) => change.transaction);
        for (const { transaction } of inserts) {
          expect(transaction, `${type} was written outside any transaction`).toBeDefined();
          expect(probe.events).toContain(`commit ${transaction}`);
          expect(changeTransactions, `${type}: its change ran in another transaction`).toContain(transaction);
        }
        expect(await countEvents()).toBe(before + inserts.length);
      });
    }
  });
}
