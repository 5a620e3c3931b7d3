/**
 * Webhook endpoints are bounded per project and unique per URL (also under concurrent
 * requests), every list is paginated with page/page_size, a local receiver is reached only
 * through the explicit WEBHOOK_ALLOWED_HOSTS allow-list, and a refused URL never reaches a log.
 */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { expectErrorBody, type JsonResponse } from "./support/http.js";
import { adminRequest, connectApiKeyAccount } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

const asEnvelope = (response: { status: number; body: unknown }): JsonResponse => ({
  status: response.status,
  headers: new Headers({ "content-type": "application/json" }),
  body: response.body as Record<string, unknown>,
});

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`webhook endpoint limits on ${dialect}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({
        dialect,
        env: { WEBHOOK_MAX_ENDPOINTS: "3", RATE_LIMIT_PER_MINUTE: "100000" },
      });
    });
    afterAll(() => server.close());

    it("refuses a project's endpoint past the limit with 409, leaving other projects alone", async () => {
      const apiKey = await server.createApiKey("limited");
      const create = (n: number, key = apiKey) =>
        adminRequest(server, key, "POST", "/webhooks/endpoints", { url: `https://hooks.example.com/${n}` });
      for (const n of [1, 2, 3]) expect((await create(n)).status).toBe(201);
      const refused = await create(4);
      expect(expectErrorBody(asEnvelope(refused), 409)).toContain("WEBHOOK_MAX_ENDPOINTS");
      expect((await create(4, await server.createApiKey("other"))).status).toBe(201);
    });

    it("holds the limit and the one-per-URL rule under concurrent creates", async () => {
      const apiKey = await server.createApiKey("racing");
      const distinct = await Promise.all(
        Array.from({ length: 8 }, (_, n) =>
          adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
            url: `https://race.example.com/${n}`,
          }),
        ),
      );
      expect(distinct.filter((r) => r.status === 201)).toHaveLength(3);
      expect(distinct.filter((r) => r.status === 409)).toHaveLength(5);

      const sameKey = await server.createApiKey("same-url");
      const same = await Promise.all(
        Array.from({ length: 6 }, () =>
          adminRequest(server, sameKey, "POST", "/webhooks/endpoints", {
            url: "https://same.example.com/in",
          }),
        ),
      );
      expect(same.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    });

    it("refuses a duplicate URL, as written or changed to by PATCH", async () => {
      const apiKey = await server.createApiKey("dupes");
      const first = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
        url: "https://Hooks.Example.com/in",
      });
      expect(first.status).toBe(201);
      const again = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
        url: "https://hooks.example.com/in",
      });
      expect(expectErrorBody(asEnvelope(again), 409)).toContain(
        `Endpoint ${first.body.id} already has this URL`,
      );
      const second = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
        url: "https://hooks.example.com/other",
      });
      const patched = await adminRequest(server, apiKey, "PATCH", `/webhooks/endpoints/${second.body.id}`, {
        url: "https://hooks.example.com/in",
      });
      expect(patched.status).toBe(409);
      // Its own URL again is no duplicate.
      const unchanged = await adminRequest(server, apiKey, "PATCH", `/webhooks/endpoints/${second.body.id}`, {
        url: "https://hooks.example.com/other",
      });
      expect(unchanged.status).toBe(200);
    });

    it("paginates endpoints, attempts, integrations and the catalog with page and page_size", async () => {
      const apiKey = await server.createApiKey("pages");
      const ids: string[] = [];
      for (const n of [1, 2, 3]) {
        const created = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
          url: `https://pages.example.com/${n}`,
        });
        ids.push(created.body.id as string);
      }
      const page = async (path: string) => (await adminRequest(server, apiKey, "GET", path)).body;
      expect((await page("/webhooks/endpoints?page_size=2")).map((e) => e.id)).toEqual(ids.slice(0, 2));
      expect((await page("/webhooks/endpoints?page_size=2&page=2")).map((e) => e.id)).toEqual(ids.slice(2));
      expect(await page("/webhooks/endpoints?page_size=2&page=3")).toEqual([]);
      const tooBig = await adminRequest(server, apiKey, "GET", "/webhooks/endpoints?page_size=101");
      expect(expectErrorBody(asEnvelope(tooBig), 400)).toContain("page_size must be at most 100");

      const endpoint = await server.db.kysely
        .selectFrom("webhook_endpoints")
        .selectAll()
        .where("id", "=", ids[0] as string)
        .executeTakeFirstOrThrow();
      await server.db.kysely
        .insertInto("webhook_attempts")
        .values(
          Array.from({ length: 5 }, (_, n) => ({
            project_id: endpoint.project_id,
            endpoint_id: endpoint.id,
            delivery_id: n + 1,
            event_id: `evt_${n}`,
            event_type: "account.created",
            attempted_at: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
            status_code: 204,
            latency_ms: 1,
            succeeded: 1,
            error: null,
          })),
        )
        .execute();
      const attempts = `/webhooks/endpoints/${endpoint.id}/attempts`;
      expect((await page(`${attempts}?page_size=2`)).map((a) => a.event_id)).toEqual(["evt_4", "evt_3"]);
      expect((await page(`${attempts}?page_size=2&page=3`)).map((a) => a.event_id)).toEqual(["evt_0"]);
      expect((await page(`${attempts}?limit=1`)).map((a) => a.event_id)).toEqual(["evt_4"]);

      for (const provider of ["ashby", "bamboohr", "greenhouse"]) {
        await adminRequest(server, apiKey, "PUT", `/integrations/${provider}`, {
          enabled: true,
          verify_credentials: false,
        });
      }
      const all = await page("/integrations");
      expect(all).toHaveLength(3);
      expect(await page("/integrations?page_size=2&page=2")).toEqual(all.slice(2));
      const catalog = await page("/providers");
      expect(catalog.length).toBeGreaterThan(10);
      expect((await page("/providers?page_size=5&page=2")).map((p) => p.key)).toEqual(
        catalog.slice(5, 10).map((p) => p.key),
      );
    });
  });
}

describe("a local webhook receiver on the allow-list, with the outbound guard on", () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let apiKey: string;
  const lines: string[] = [];
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    server = await startTestServer({
      env: { WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`, WEBHOOK_POLL_INTERVAL: "50ms" },
      logStream: stream,
    });
    apiKey = await server.createApiKey();
  });
  afterAll(async () => {
    await server.close();
    await receiver.stop();
  });

  it("registers and delivers to the listed host:port only, and says how to list another", async () => {
    const created = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
      url: `${receiver.url}`,
      events: ["account.created"],
    });
    expect(created.status).toBe(201);
    const otherPort = receiver.port === 65535 ? 65534 : receiver.port + 1;
    const refused = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
      url: `http://127.0.0.1:${otherPort}/hook`,
    });
    expect(expectErrorBody(asEnvelope(refused), 400)).toContain(
      `WEBHOOK_ALLOWED_HOSTS=127.0.0.1:${otherPort}`,
    );

    await adminRequest(server, apiKey, "PUT", "/integrations/ashby", {
      enabled: true,
      verify_credentials: false,
    });
    await connectApiKeyAccount(server, apiKey);
    const [delivery] = await receiver.waitFor((received) => received.length > 0);
    expect(delivery?.event.type).toBe("account.created");
  });

  it("never writes a refused URL, or a secret in it, to the log", async () => {
    const secret = "sk_live_PASTEDSECRET42";
    for (const url of [
      `${secret}`,
      `${secret}:x@y`,
      `https://user:${secret}@hooks.example.com/in`,
      `http://10.0.0.1/in?token=${secret}`,
      `http://[::7f00:1]/in/${secret}`,
    ]) {
      const response = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", { url });
      expect(response.status, url).toBe(400);
      expect(JSON.stringify(response.body), url).not.toContain(secret);
    }
    expect(lines.some((line) => line.includes("request rejected"))).toBe(true);
    expect(lines.join("\n")).not.toContain(secret);
  });
});

describe("WEBHOOK_ALLOWED_HOSTS", () => {
  it("takes host:port pairs, and refuses anything else naming the variable", () => {
    expect([
      ...loadConfig({ WEBHOOK_ALLOWED_HOSTS: "127.0.0.1:4698, [::1]:80,Receiver.internal:8080" }).webhooks
        .allowedHosts,
    ]).toEqual(["127.0.0.1:4698", "[::1]:80", "receiver.internal:8080"]);
    for (const bad of ["127.0.0.1", "http://127.0.0.1:4698", "127.0.0.1:4698/path", "a@b:1"]) {
      expect(() => loadConfig({ WEBHOOK_ALLOWED_HOSTS: bad }), bad).toThrow(/WEBHOOK_ALLOWED_HOSTS must be/);
    }
  });
});
