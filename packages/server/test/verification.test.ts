/**
 * Credentials are verified with the provider before anything is stored, through the real
 * connect page API (HTTP) against provider simulators on loopback, one per credential style;
 * `POST /accounts/{id}/verify` re-runs the check and tells the account's webhooks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectErrorBody, postJson } from "./support/http.js";
import { adminRequest, createSession, submitCredentials } from "./support/hub.js";
import {
  formValues,
  type ProviderSimulator,
  SIMULATED_STYLES,
  startProviderSimulator,
} from "./support/provider-simulator.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

let server: TestServer;
let simulator: ProviderSimulator;
let receiver: WebhookReceiver;
let apiKey: string;
const admin = (method: string, path: string, body?: unknown, key = apiKey) =>
  adminRequest(server, key, method, path, body);
/** Whether an `account.updated` delivery for this account and status has arrived. */
const updatedTo = (id: string, status: string) => () =>
  receiver.ofType("account.updated").some((delivery) => {
    const account = delivery.event.data.account as { id?: string; status?: string } | undefined;
    return account?.id === id && account.status === status;
  });
const accountsOf = async (owner: string) =>
  (await admin("GET", `/accounts?origin_owner_id=${owner}`)).body as unknown as Array<
    Record<string, unknown>
  >;

beforeAll(async () => {
  simulator = await startProviderSimulator();
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    env: {
      PROVIDERS_DIR: simulator.providersDir,
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      OUTBOUND_TIMEOUT_MS: "2000",
      WEBHOOK_POLL_INTERVAL: "50ms",
      RATE_LIMIT_PER_MINUTE: "100000",
    },
  });
  apiKey = await server.createApiKey();
  for (const provider of ["sim-bearer", "sim-basic", "sim-header", "sim-query", "sim-plain"]) {
    expect((await admin("PUT", `/integrations/${provider}`, {})).status).toBe(200);
  }
  await admin("POST", "/webhooks/endpoints", { url: receiver.url, events: ["account.updated"] });
});
afterAll(async () => {
  await server?.close();
  await simulator?.close();
  await receiver?.stop();
});
beforeEach(() => {
  simulator.forceStatus = undefined;
});

describe("verified on connect", () => {
  for (const style of SIMULATED_STYLES) {
    it(`refuses a wrong ${style} credential, saving nothing, and accepts the right one`, async () => {
      const provider = `sim-${style}`;
      const owner = `owner-${style}`;
      const { token } = await createSession(server, apiKey, { origin_owner_id: owner, provider });
      const before = simulator.requests.length;
      const refused = await submitCredentials(server, token, provider, formValues(simulator, style, false));
      expect(refused.status).toBe(400);
      expect(refused.body.message).toMatch(/Simulator refused these credentials \(HTTP 401\)\. Check the /);
      expect(refused.body.message).toContain("Nothing was saved.");
      expect(simulator.requests.length).toBe(before + 1);
      expect(await accountsOf(owner)).toEqual([]);

      // The same link still works: nothing was consumed.
      const accepted = await submitCredentials(server, token, provider, formValues(simulator, style, true));
      expect(accepted.status).toBe(201);
      const [account] = await accountsOf(owner);
      expect(account).toMatchObject({ provider, status: "active" });
      const last = simulator.requests.at(-1);
      expect(last?.path).toBe(`/${style}/me`);
      if (style === "query") expect(last?.query.get("api_key")).toBe(simulator.accepted.query);
    });
  }

  it("says a provider that cannot be reached could not be checked, and saves nothing", async () => {
    // A simulator whose files stay declared after it stops listening.
    const gone = await startProviderSimulator();
    await gone.close();
    const lonely = await startTestServer({
      env: { PROVIDERS_DIR: gone.providersDir, OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
    });
    try {
      const key = await lonely.createApiKey();
      await adminRequest(lonely, key, "PUT", "/integrations/sim-bearer", {});
      const { token } = await createSession(lonely, key, { provider: "sim-bearer" });
      const result = await submitCredentials(lonely, token, "sim-bearer", { api_key: "anything" });
      expect(result.status).toBe(502);
      expect(result.body.message).toContain("Bearer Simulator could not be reached");
      expect(result.body.message).toContain("Nothing was saved.");
      expect((await adminRequest(lonely, key, "GET", "/accounts")).body).toEqual([]);
    } finally {
      await lonely.close();
    }
  });

  it("refuses on another status too, with the status in the message", async () => {
    simulator.forceStatus = 500;
    const { token } = await createSession(server, apiKey, {
      origin_owner_id: "owner-500",
      provider: "sim-header",
    });
    const result = await submitCredentials(
      server,
      token,
      "sim-header",
      formValues(simulator, "header", true),
    );
    expect(result.status).toBe(502);
    expect(result.body.message).toContain("Header Simulator answered HTTP 500");
    expect(await accountsOf("owner-500")).toEqual([]);
  });

  it("stores a provider without a verification request as before, calling nothing", async () => {
    const before = simulator.requests.length;
    const { token } = await createSession(server, apiKey, {
      origin_owner_id: "owner-plain",
      provider: "sim-plain",
    });
    expect((await submitCredentials(server, token, "sim-plain", { api_key: "whatever" })).status).toBe(201);
    expect(simulator.requests.length).toBe(before);
  });

  it("can be turned off per integration, and the catalog says who has verification", async () => {
    const off = await admin("PUT", "/integrations/sim-query", { verify_credentials: false });
    expect(off.body).toMatchObject({ verify_credentials: false, verification_available: true });
    try {
      const before = simulator.requests.length;
      const { token } = await createSession(server, apiKey, {
        origin_owner_id: "owner-off",
        provider: "sim-query",
      });
      const result = await submitCredentials(
        server,
        token,
        "sim-query",
        formValues(simulator, "query", false),
      );
      expect(result.status).toBe(201);
      expect(simulator.requests.length).toBe(before);
    } finally {
      await admin("PUT", "/integrations/sim-query", { verify_credentials: true });
    }
    const providers = (await admin("GET", "/providers")).body as unknown as Array<Record<string, unknown>>;
    expect(providers.find((p) => p.key === "sim-query")).toMatchObject({
      verification: true,
      sandbox: false,
    });
    expect(providers.find((p) => p.key === "sim-plain")).toMatchObject({ verification: false });
  });
});

describe("sessions for providers the project does not offer", () => {
  it("are refused at creation, naming the provider", async () => {
    const unknown = await postJson(
      `${server.url}/connect_sessions`,
      { origin_owner_id: "x", origin_owner_name: "X", provider: "no-such-provider" },
      { apiKey },
    );
    expect(expectErrorBody(unknown, 400)).toContain("no-such-provider is not in the catalog");
    const notEnabled = await postJson(
      `${server.url}/connect_sessions`,
      { origin_owner_id: "x", origin_owner_name: "X", provider: "bamboohr" },
      { apiKey },
    );
    expect(expectErrorBody(notEnabled, 400)).toContain("bamboohr is not enabled for this project");
    await admin("PUT", "/integrations/sim-plain", { enabled: false });
    try {
      const disabled = await postJson(
        `${server.url}/connect_sessions`,
        { origin_owner_id: "x", origin_owner_name: "X", provider: "sim-plain" },
        { apiKey },
      );
      expect(expectErrorBody(disabled, 400)).toContain("sim-plain is not enabled");
    } finally {
      await admin("PUT", "/integrations/sim-plain", { enabled: true });
    }
  });
});

describe("POST /accounts/{id}/verify", () => {
  it("puts an account whose credentials stopped working in error, and back when they work", async () => {
    const owner = "owner-recheck";
    const { token } = await createSession(server, apiKey, { origin_owner_id: owner, provider: "sim-bearer" });
    await submitCredentials(server, token, "sim-bearer", formValues(simulator, "bearer", true));
    const [account] = await accountsOf(owner);
    const id = String(account?.id);
    const working = simulator.accepted.bearer;

    simulator.accepted.bearer = "rotated-at-the-provider";
    const failing = await verifyWithoutBody(id);
    expect(failing.status).toBe(200);
    const failed = failing.body as { verification: unknown; account: { status_reasons: unknown } };
    expect(failed.verification).toMatchObject({ result: "refused", status_code: 401 });
    expect(failed.account).toMatchObject({ id, status: "error" });
    expect(failed.account.status_reasons).toEqual([
      expect.objectContaining({
        code: "verification_failed",
        description: expect.stringContaining("HTTP 401"),
      }),
    ]);
    await receiver.waitFor(updatedTo(id, "error"));

    simulator.accepted.bearer = working;
    const again = await verifyWithoutBody(id);
    expect(again.body).toMatchObject({ account: { id, status: "active", status_reasons: null } });
    expect(again.body).toMatchObject({ verification: { result: "verified", status_code: 200 } });
    await receiver.waitFor(updatedTo(id, "active"));
  });

  it("answers envelope errors for unknown, other-project, deleted and API-less accounts, calling nobody", async () => {
    const before = simulator.requests.length;
    expect(expectErrorBody(await verifyWithoutBody("acc_missing"), 404)).toContain("acc_missing");

    const { token } = await createSession(server, apiKey, {
      origin_owner_id: "owner-bad",
      provider: "sim-header",
    });
    await submitCredentials(server, token, "sim-header", formValues(simulator, "header", true));
    const [account] = await accountsOf("owner-bad");
    const id = String(account?.id);
    const stranger = await server.createApiKey("verify-stranger");
    expect(expectErrorBody(await verifyWithoutBody(id, stranger), 404)).toContain(id);
    await admin("DELETE", `/accounts/${id}`);
    const afterConnect = simulator.requests.length;
    expect(expectErrorBody(await verifyWithoutBody(id), 404)).toContain(id);

    const plain = await createSession(server, apiKey, {
      origin_owner_id: "owner-plain-2",
      provider: "sim-plain",
    });
    await submitCredentials(server, plain.token, "sim-plain", { api_key: "x" });
    const [plainAccount] = await accountsOf("owner-plain-2");
    expect(expectErrorBody(await verifyWithoutBody(String(plainAccount?.id)), 422)).toContain(
      "Plain Simulator has no declared API",
    );
    expect(simulator.requests.length).toBe(afterConnect);
    expect(afterConnect).toBe(before + 1);
  });
});

async function verifyWithoutBody(id: string, key = apiKey) {
  const response = await fetch(`${server.url}/accounts/${encodeURIComponent(id)}/verify`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` },
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}
