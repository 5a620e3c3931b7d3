/**
 * Delivery behaviour over real HTTP: retries after 5xx answers and while the receiver is down,
 * `Retry-After`, disabling an endpoint that keeps failing, secret rotation, replay. Each test
 * runs in a project of its own so the deliveries of one never reach another's receiver.
 */
import { PassThrough } from "node:stream";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "./support/http.js";
import { adminRequest, connectApiKeyAccount } from "./support/hub.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { signatureHeaders, startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

const BASE_ENV = {
  OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
  WEBHOOK_POLL_INTERVAL: "50ms",
  RATE_LIMIT_PER_MINUTE: "100000",
};
const hundredMs = (steps: number) => Array(steps).fill("100ms").join(",");

let projects = 0;
const receivers: WebhookReceiver[] = [];

async function newReceiver(): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  return receiver;
}

/** A fresh project with the ashby integration; `admin` talks to the API with its key. */
async function newProject(server: TestServer) {
  const apiKey = await server.createApiKey(`delivery-${++projects}`);
  const admin = (method: string, path: string, body?: unknown) =>
    adminRequest(server, apiKey, method, path, body);
  await admin("PUT", "/integrations/ashby", { verify_credentials: false });
  const addEndpoint = async (url: string, events?: string[]) => {
    const created = await admin("POST", "/webhooks/endpoints", { url, ...(events ? { events } : {}) });
    expect(created.status).toBe(201);
    return created.body as unknown as { id: string; secret: string };
  };
  const connect = () => connectApiKeyAccount(server, apiKey, { origin_owner_id: crypto.randomUUID() });
  return { apiKey, admin, addEndpoint, connect };
}

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.stop()));
});

describe("retries", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...BASE_ENV, WEBHOOK_RETRY_SCHEDULE: hundredMs(10) } });
  });
  afterAll(() => server.close());

  it("retries after 500s with the same webhook-id, and lists every attempt", async () => {
    const project = await newProject(server);
    const receiver = await newReceiver();
    receiver.respond = (_delivery, index) => (index < 2 ? { status: 500, body: "boom" } : { status: 204 });
    const endpoint = await project.addEndpoint(receiver.url, ["account.created"]);
    await project.connect();
    const received = await receiver.waitFor((all) => all.length === 3);
    expect(new Set(received.map((d) => d.id)).size).toBe(1);
    for (const delivery of received)
      new Webhook(endpoint.secret).verify(delivery.body, signatureHeaders(delivery));

    const attempts = (await project.admin("GET", `/webhooks/endpoints/${endpoint.id}/attempts`)).body;
    expect(attempts.map((a) => a.status_code)).toEqual([204, 500, 500]);
    expect(attempts.map((a) => a.succeeded)).toEqual([true, false, false]);
    expect(attempts[1]?.error).toBe("the endpoint answered 500: boom");
    expect(attempts[0]?.error).toBeNull();
    for (const attempt of attempts) {
      expect(attempt.latency_ms).toBeGreaterThanOrEqual(0);
      expect(attempt.event_id).toBe(received[0]?.id);
      expect(attempt.event_type).toBe("account.created");
    }
    expect((await project.admin("GET", `/webhooks/endpoints/${endpoint.id}`)).body).toMatchObject({
      enabled: true,
      consecutive_failures: 0,
      failing_since: null,
    });
  });

  it("keeps retrying while the receiver is down and delivers once it is back", async () => {
    const project = await newProject(server);
    const receiver = await newReceiver();
    const endpoint = await project.addEndpoint(receiver.url, ["account.created"]);
    await receiver.stop();
    await project.connect();
    const failedAttempts = async () =>
      (await project.admin("GET", `/webhooks/endpoints/${endpoint.id}/attempts`)).body.filter(
        (a) => !a.succeeded,
      );
    const failed = await waitUntil(async () => {
      const attempts = await failedAttempts();
      return attempts.length >= 2 ? attempts : undefined;
    });
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed[0]).toMatchObject({ status_code: null, succeeded: false });
    expect(failed[0]?.error).toContain("could not reach");
    await receiver.start();
    const [delivery] = await receiver.waitFor((all) => all.length === 1);
    expect(delivery?.event.type).toBe("account.created");
  });

  it("waits as long as Retry-After asks on 429 and 503", async () => {
    const project = await newProject(server);
    const receiver = await newReceiver();
    receiver.respond = (_delivery, index) =>
      index === 0
        ? { status: 429, headers: { "retry-after": "1" } }
        : index === 1
          ? { status: 503, headers: { "retry-after": "1" } }
          : { status: 200 };
    await project.addEndpoint(receiver.url, ["account.created"]);
    await project.connect();
    const [first, second, third] = await receiver.waitFor((all) => all.length === 3, 15_000);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("gives a delivery up when the schedule is exhausted", async () => {
    const exhausting = await startTestServer({ env: { ...BASE_ENV, WEBHOOK_RETRY_SCHEDULE: "100ms,100ms" } });
    try {
      const project = await newProject(exhausting);
      const receiver = await newReceiver();
      receiver.respond = () => ({ status: 500 });
      const endpoint = await project.addEndpoint(receiver.url, ["account.created"]);
      await project.connect();
      await receiver.waitFor((all) => all.length === 3);
      // Once the delivery is settled as failed nothing can send it again.
      const row = await waitUntil(async () => {
        const delivery = await exhausting.db.kysely
          .selectFrom("webhook_deliveries")
          .selectAll()
          .where("endpoint_id", "=", endpoint.id)
          .executeTakeFirstOrThrow();
        return delivery.status === "failed" ? delivery : undefined;
      });
      expect(receiver.received).toHaveLength(3);
      expect(row).toMatchObject({ status: "failed", attempts: 3 });
    } finally {
      await exhausting.close();
    }
  });

  it("replays a delivery with the same webhook-id, in its own project only", async () => {
    const project = await newProject(server);
    const receiver = await newReceiver();
    const endpoint = await project.addEndpoint(receiver.url, ["account.created"]);
    await project.connect();
    await receiver.waitFor((all) => all.length === 1);
    const [attempt] = (await project.admin("GET", `/webhooks/endpoints/${endpoint.id}/attempts`)).body;
    const stranger = await newProject(server);
    expect((await stranger.admin("POST", `/webhooks/deliveries/${attempt?.delivery_id}/replay`)).status).toBe(
      404,
    );
    const replayed = await project.admin("POST", `/webhooks/deliveries/${attempt?.delivery_id}/replay`);
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ id: attempt?.delivery_id, status: "pending", attempts: 0 });
    const [first, second] = await receiver.waitFor((all) => all.length === 2);
    expect(second?.id).toBe(first?.id);
    expect(second?.body).toBe(first?.body);
  });
});

describe("secret rotation", () => {
  let server: TestServer;
  /** The overlap ends on the server's clock, moved by the test rather than waited for. */
  let offsetMs = 0;
  beforeAll(async () => {
    server = await startTestServer({
      env: { ...BASE_ENV, WEBHOOK_RETRY_SCHEDULE: hundredMs(3) },
      clock: () => new Date(Date.now() + offsetMs),
    });
  });
  afterAll(() => server.close());

  it("signs with both secrets during the overlap, and with the new one alone after it", async () => {
    const project = await newProject(server);
    const receiver = await newReceiver();
    const endpoint = await project.addEndpoint(receiver.url, ["account.created"]);
    const rotated = await project.admin("POST", `/webhooks/endpoints/${endpoint.id}/rotate-secret`, {
      overlap_seconds: 2,
    });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newSecret).not.toBe(endpoint.secret);
    expect(rotated.body.previous_secret_expires_at).toEqual(expect.any(String));

    await project.connect();
    const [during] = await receiver.waitFor((all) => all.length === 1);
    if (!during) throw new Error("no delivery");
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(new Webhook(newSecret).verify(during.body, signatureHeaders(during))).toEqual(during.event);
    expect(new Webhook(endpoint.secret).verify(during.body, signatureHeaders(during))).toEqual(during.event);

    offsetMs += 2001;
    await project.connect();
    const [, after] = await receiver.waitFor((all) => all.length === 2);
    if (!after) throw new Error("no delivery");
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(new Webhook(newSecret).verify(after.body, signatureHeaders(after))).toEqual(after.event);
    expect(() => new Webhook(endpoint.secret).verify(after.body, signatureHeaders(after))).toThrow();
    expect(
      (await project.admin("GET", `/webhooks/endpoints/${endpoint.id}`)).body.previous_secret_expires_at,
    ).toBeNull();
  });

  it("keeps the old secret signing for 24 hours by default", async () => {
    const project = await newProject(server);
    const endpoint = await project.addEndpoint("https://hooks.example.com/in");
    const rotated = await project.admin("POST", `/webhooks/endpoints/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    // Exactly 24 hours after the rotation, as the server's clock saw it.
    const overlapMs =
      Date.parse(rotated.body.previous_secret_expires_at as string) -
      Date.parse(rotated.body.updated_at as string);
    expect(overlapMs).toBe(86_400_000);
  });
});

describe("an endpoint that keeps failing", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { ...BASE_ENV, WEBHOOK_RETRY_SCHEDULE: hundredMs(30), WEBHOOK_DISABLE_AFTER: "1s" },
    });
  });
  afterAll(() => server.close());

  it("is disabled, the project's other endpoints hear of it, and re-enabling resumes its deliveries", async () => {
    const project = await newProject(server);
    const failing = await newReceiver();
    failing.respond = () => ({ status: 500 });
    const healthy = await newReceiver();
    const broken = await project.addEndpoint(failing.url, ["account.created"]);
    const watcher = await project.addEndpoint(healthy.url, ["webhook_endpoint.disabled"]);
    await project.connect();

    const [notice] = await healthy.waitFor((all) => all.length === 1, 10_000);
    expect(notice?.event.type).toBe("webhook_endpoint.disabled");
    expect(notice?.event.data.endpoint).toMatchObject({
      id: broken.id,
      enabled: false,
      disabled_reason: "failing",
    });
    expect(notice?.event.data.endpoint).not.toHaveProperty("secret");
    expect(notice?.event.data.reason).toContain("every attempt failed");
    new Webhook(watcher.secret).verify(notice?.body ?? "", signatureHeaders(notice as never));

    const state = (await project.admin("GET", `/webhooks/endpoints/${broken.id}`)).body;
    expect(state).toMatchObject({ enabled: false, disabled_reason: "failing" });
    expect(state.consecutive_failures as number).toBeGreaterThanOrEqual(5);
    // Disabled endpoints are not claimed: once no claim of its deliveries is left in flight,
    // nothing can be sent to it any more.
    await waitUntil(async () => {
      const claimed = await server.db.kysely
        .selectFrom("webhook_deliveries")
        .select("id")
        .where("endpoint_id", "=", broken.id)
        .where("locked_until", "is not", null)
        .execute();
      return claimed.length === 0 ? true : undefined;
    });
    const attemptsWhenDisabled = failing.received.length;
    const settled = await server.db.kysely
      .selectFrom("webhook_attempts")
      .select("id")
      .where("endpoint_id", "=", broken.id)
      .execute();
    expect(attemptsWhenDisabled).toBe(settled.length);

    failing.respond = () => ({ status: 204 });
    const enabled = await project.admin("PATCH", `/webhooks/endpoints/${broken.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null, consecutive_failures: 0 });
    await failing.waitFor((all) => all.length === attemptsWhenDisabled + 1);
    expect(failing.received.at(-1)?.id).toBe(failing.received[0]?.id);
  });
});

describe("the log of failed deliveries", () => {
  it("logs each failed attempt at warn, with the endpoint's id but not its URL, and the giving up", async () => {
    const stream = new PassThrough();
    const entries: Array<Record<string, unknown>> = [];
    let seen: () => void = () => {};
    stream.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) entries.push(JSON.parse(line));
      seen();
    });
    const server = await startTestServer({
      env: { ...BASE_ENV, WEBHOOK_RETRY_SCHEDULE: "50ms", LOG_LEVEL: "warn" },
      logStream: stream,
    });
    try {
      const project = await newProject(server);
      const receiver = await newReceiver();
      receiver.respond = () => ({ status: 503, body: "down for maintenance" });
      const endpoint = await project.addEndpoint(`${receiver.url}?token=receiver-secret`, [
        "account.created",
      ]);
      await project.connect();
      const failures = () =>
        entries.filter((entry) => String(entry.msg).startsWith("webhook delivery failed"));
      await new Promise<void>((resolve) => {
        seen = () => failures().length >= 2 && resolve();
        seen();
      });
      const [retrying, givenUp] = failures();
      expect(retrying).toMatchObject({
        level: 40,
        msg: "webhook delivery failed; will retry",
        endpointId: endpoint.id,
        eventType: "account.created",
        attempt: 1,
        statusCode: 503,
        error: "the endpoint answered 503: down for maintenance",
        nextAttemptAt: expect.stringMatching(/Z$/),
      });
      expect(givenUp).toMatchObject({ level: 40, msg: "webhook delivery failed; giving up", attempt: 2 });
      expect(givenUp?.nextAttemptAt).toBeNull();
      expect(JSON.stringify(failures())).not.toContain("receiver-secret");
    } finally {
      await server.close();
    }
  });
});
