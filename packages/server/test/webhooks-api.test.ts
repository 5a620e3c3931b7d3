/**
 * The webhook admin API and CLI: endpoints, their secrets at rest, the URLs they may point to
 * (with the outbound guard on, as in production), and the events' place in the OpenAPI document.
 */
import { lookup } from "node:dns";
import { validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DnsLookup } from "../src/outbound/client.js";
import { expectErrorBody, waitUntil } from "./support/http.js";
import { adminRequest, connectApiKeyAccount } from "./support/hub.js";
import { cli } from "./support/process.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

describe("webhook endpoints with the outbound guard on", () => {
  let server: TestServer;
  let apiKey: string;
  const admin = (method: string, path: string, body?: unknown, key = apiKey) =>
    adminRequest(server, key, method, path, body);

  // Names the test makes resolve to loopback; everything else resolves as usual.
  const resolveToLoopback = new Set<string>();
  const resolved: string[] = [];
  const dnsLookup: DnsLookup = (hostname, options, callback) => {
    resolved.push(hostname);
    if (resolveToLoopback.has(hostname)) return callback(null, [{ address: "127.0.0.1", family: 4 }]);
    lookup(hostname, options, callback);
  };

  beforeAll(async () => {
    server = await startTestServer({
      dnsLookup,
      env: {
        WEBHOOK_POLL_INTERVAL: "50ms",
        WEBHOOK_RETRY_SCHEDULE: "100ms",
        RATE_LIMIT_PER_MINUTE: "100000",
      },
    });
    apiKey = await server.createApiKey();
  });
  afterAll(() => server.close());

  it("creates, lists, changes and deletes endpoints; the secret is shown once and sealed at rest", async () => {
    const created = await admin("POST", "/webhooks/endpoints", {
      url: "https://hooks.example.com/in",
      events: ["account.created", "account.deleted"],
      description: "billing",
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.body as unknown as { id: string; secret: string };
    expect(id).toMatch(/^whe_/);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(created.body).toMatchObject({ enabled: true, events: ["account.created", "account.deleted"] });

    const listed = await admin("GET", "/webhooks/endpoints");
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).not.toHaveProperty("secret");
    expect((await admin("GET", `/webhooks/endpoints/${id}`)).body).not.toHaveProperty("secret");

    const row = await server.db.kysely
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret.slice(6));
    expect(row.secret_sealed).toMatch(/^v1\./);

    const changed = await admin("PATCH", `/webhooks/endpoints/${id}`, { events: ["*"], enabled: false });
    expect(changed.body).toMatchObject({
      events: ["*"],
      enabled: false,
      disabled_reason: "disabled by request",
    });
    const other = await server.createApiKey("webhooks-other");
    expect((await admin("GET", `/webhooks/endpoints/${id}`, undefined, other)).status).toBe(404);
    expect((await admin("DELETE", `/webhooks/endpoints/${id}`, undefined, other)).status).toBe(404);
    expect((await admin("DELETE", `/webhooks/endpoints/${id}`)).status).toBe(200);
    expect((await admin("GET", `/webhooks/endpoints/${id}`)).status).toBe(404);
  });

  it.each([
    ["http://127.0.0.1:8080/hook", "private"],
    ["http://10.1.2.3/hook", "private"],
    ["http://169.254.169.254/latest/meta-data", "private"],
    ["http://[::1]/hook", "private"],
    ["http://[::ffff:192.168.0.1]/hook", "private"],
    ["http://2130706433/hook", "private"],
    ["http://localhost:3000/hook", "private"],
    ["ftp://hooks.example.com/in", "http or https"],
    ["https://user:pass@hooks.example.com/in", "user name"],
    ["not a url", "not an absolute URL"],
  ])("refuses to register %s", async (url, reason) => {
    const response = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", { url });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(reason);
  });

  it("refuses unknown event types and unknown fields", async () => {
    const response = await fetch(`${server.url}/webhooks/endpoints`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ url: "https://hooks.example.com/in", events: ["account.exploded"] }),
    });
    const message = expectErrorBody(
      { status: response.status, headers: response.headers, body: await response.json() },
      400,
    );
    expect(message).toContain("events[0] must be one of");
  });

  it("refuses at send time an endpoint whose name resolves to a private address (DNS rebinding)", async () => {
    const receiver = await startWebhookReceiver();
    // The name passed the create-time check (it is no private literal); when the delivery is
    // sent, the resolver answers loopback, where a receiver does listen: the guard must refuse.
    const rebinding = `rebind-${crypto.randomUUID().slice(0, 8)}.example.com`;
    resolveToLoopback.add(rebinding);
    try {
      const created = await admin("POST", "/webhooks/endpoints", {
        url: `http://${rebinding}:${receiver.port}/hooks`,
      });
      expect(created.status).toBe(201);
      await admin("PUT", "/integrations/ashby", { verify_credentials: false });
      await connectApiKeyAccount(server, apiKey, { origin_owner_id: "ssrf" });
      const attempts = await waitUntil(async () => {
        const listed = (await admin("GET", `/webhooks/endpoints/${created.body.id}/attempts`)).body;
        return listed.length > 0 ? listed : undefined;
      });
      expect(resolved).toContain(rebinding);
      expect(attempts[0]).toMatchObject({ status_code: null, succeeded: false });
      expect(attempts[0]?.error).toContain("private or reserved address");
      expect(receiver.received).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });

  it("documents every event in the OpenAPI document's webhooks section", async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    const result = await validate(structuredClone(document));
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(Object.keys(document.webhooks)).toEqual([
      "account.created",
      "account.updated",
      "account.deleted",
      "account.credentials_refresh_failed",
      "connect_session.completed",
      "connect_session.expired",
      "webhook_endpoint.disabled",
      "webhook.test",
    ]);
    const created = document.webhooks["account.created"].post;
    expect(created.parameters.map((p: { name: string }) => p.name)).toEqual([
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    ]);
    const schema = created.requestBody.content["application/json"].schema;
    expect(schema.properties.data.properties.account.properties.origin_owner_id).toBeDefined();
    expect(schema.properties.data.properties.account.properties).not.toHaveProperty("credentials");
    expect(document.paths["/webhooks/endpoints"].post.operationId).toBe(
      "connect_hub_create_webhook_endpoint",
    );
    expect(document.paths["/webhooks/deliveries/{id}/replay"].post).toBeDefined();
  });
});

describe("connect-hub webhooks (the CLI)", () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  // Names the test makes resolve to loopback; everything else resolves as usual.
  const resolveToLoopback = new Set<string>();
  const resolved: string[] = [];
  const dnsLookup: DnsLookup = (hostname, options, callback) => {
    resolved.push(hostname);
    if (resolveToLoopback.has(hostname)) return callback(null, [{ address: "127.0.0.1", family: 4 }]);
    lookup(hostname, options, callback);
  };

  beforeAll(async () => {
    server = await startTestServer({
      dnsLookup,
      env: { OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true", WEBHOOK_POLL_INTERVAL: "50ms" },
    });
    await server.createApiKey("cli-project");
    await server.createApiKey();
    env = {
      DATABASE_URL: server.databaseUrl,
      DATA_DIR: server.config.dataDir,
      LOG_LEVEL: "silent",
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
    };
  });
  afterAll(() => server.close());

  // One endpoint through the steps, a few CLI starts per test (each start is a process).
  let receiver: WebhookReceiver;
  let id: string;
  let secret: string;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver.stop());

  it("adds and lists", async () => {
    const added = await cli(
      env,
      "webhooks",
      "add",
      receiver.url,
      "--events",
      "account.created",
      "--project",
      "cli-project",
    );
    expect(added.code, added.stderr).toBe(0);
    secret = added.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    id = /created webhook endpoint (whe_\S+)/.exec(added.stderr)?.[1] as string;

    const listed = await cli(env, "webhooks", "list", "--project", "cli-project");
    expect(listed.stdout).toContain(`${id}\t${receiver.url}\taccount.created\tenabled`);
    expect(listed.stdout).not.toContain(secret);
  });

  it("rotates the secret", async () => {
    const rotated = await cli(
      env,
      "webhooks",
      "rotate-secret",
      id,
      "--overlap",
      "60",
      "--project",
      "cli-project",
    );
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout.trim()).toMatch(/^whsec_/);
    expect(rotated.stdout.trim()).not.toBe(secret);
  });

  it("shows attempts and replays", async () => {
    const apiKey = await server.createApiKey("cli-project");
    await adminRequest(server, apiKey, "PUT", "/integrations/ashby", { verify_credentials: false });
    await connectApiKeyAccount(server, apiKey, { origin_owner_id: "cli-owner" });
    await receiver.waitFor((all) => all.length === 1);
    const attempts = await cli(env, "webhooks", "attempts", id, "--project", "cli-project");
    expect(attempts.stdout).toMatch(/\t1\taccount\.created\t204\t\d+ms\tok/);

    const replayed = await cli(env, "webhooks", "replay", "1", "--project", "cli-project");
    expect(replayed.code, replayed.stderr).toBe(0);
    await receiver.waitFor((all) => all.length === 2);
  });

  it("removes, in its own project only", async () => {
    const wrongProject = await cli(env, "webhooks", "remove", id);
    expect(wrongProject.code).toBe(1);
    expect(wrongProject.stderr).toContain(`Webhook endpoint ${id} does not exist`);
    expect((await cli(env, "webhooks", "remove", id, "--project", "cli-project")).code).toBe(0);
    expect((await cli(env, "webhooks", "list", "--project", "cli-project")).stdout.trim()).toBe(
      "ID\tURL\tEVENTS\tSTATUS",
    );
  });
});
