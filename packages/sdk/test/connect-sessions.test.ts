/**
 * Both operations against the real Connect Hub over HTTP: every field's mapping both ways,
 * what goes on the wire, and every error the server itself produces.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest } from "../../server/test/support/hub.js";
import { startTestServer, type TestServer } from "../../server/test/support/server.js";
import { createThenAuthenticate } from "../examples/seed-example.js";
import {
  BadRequestResponse,
  Categories,
  ConnectHub,
  type ConnectHubOptions,
  type ConnectSessionCreate,
  ConnectSessionStatus,
  NotFoundResponse,
  SDKError,
  TooManyRequestsResponse,
  Type,
  UnauthorizedResponse,
} from "../src/index.js";

let server: TestServer;
let apiKey: string;

beforeAll(async () => {
  server = await startTestServer();
  apiKey = await server.createApiKey();
  // A session may name only a provider the project offers.
  await adminRequest(server, apiKey, "PUT", "/integrations/bamboohr", {});
});
afterAll(() => server.close());

function hubFor(url: string, options: Partial<ConnectHubOptions> = {}): ConnectHub {
  return new ConnectHub({
    serverURL: url,
    security: { username: apiKey, password: "" },
    retryConfig: { strategy: "none" },
    ...options,
  });
}

/** A client that also hands back the JSON body of each request it sends. */
function recordingHub(url: string = server.url): { hub: ConnectHub; sentBodies: unknown[] } {
  const sentBodies: unknown[] = [];
  const hub = hubFor(url, {
    hooks: { beforeRequest: async (request) => void sentBodies.push(await request.clone().json()) },
  });
  return { hub, sentBodies };
}

const EVERY_FIELD: Required<ConnectSessionCreate> = {
  originOwnerId: "cust-123",
  originOwnerName: "Acme Inc",
  originUsername: "jane@acme.test",
  provider: "bamboohr",
  providerVersion: "1.0.0",
  categories: Object.values(Categories),
  accountId: "acc_1",
  expiresIn: 3600,
  metadata: { planName: "gold", seats: 12, nested: { snake_key: true, camelKey: [1, "two"] } },
  multiple: true,
  label: "primary",
  type: Type.Test,
  integrationId: "int_1",
};

describe("createConnectSession and authenticateConnectSession", () => {
  it("sends every field in snake_case and reads every field back in camelCase", async () => {
    const { hub, sentBodies } = recordingHub();
    const created = await hub.connectSessions.createConnectSession(EVERY_FIELD);

    expect(sentBodies[0]).toEqual({
      origin_owner_id: "cust-123",
      origin_owner_name: "Acme Inc",
      origin_username: "jane@acme.test",
      provider: "bamboohr",
      provider_version: "1.0.0",
      categories: Object.values(Categories),
      account_id: "acc_1",
      expires_in: 3600,
      metadata: { planName: "gold", seats: 12, nested: { snake_key: true, camelKey: [1, "two"] } },
      multiple: true,
      label: "primary",
      type: "test",
      integration_id: "int_1",
    });
    expect(created.statusCode).toBe(201);
    expect(created.contentType).toMatch(/^application\/json/);
    const link = created.connectSessionTokenAuthLink;
    const { expiresIn: _expiresIn, ...echoedFields } = EVERY_FIELD;
    expect(link).toMatchObject({ ...echoedFields, categories: [...Object.values(Categories)] });
    expect(link.id).toEqual(expect.any(Number));
    expect(link.organizationId).toEqual(expect.any(String));
    expect(link.projectId).toEqual(expect.any(String));
    expect(link.status).toBe(ConnectSessionStatus.Pending);
    expect(link.createdAt).toBeInstanceOf(Date);
    expect(link.expiresAt.getTime() - link.createdAt.getTime()).toBe(3600 * 1000);
    expect(link.externalTriggerToken).toBeNull();
    expect(link.token).toMatch(/^chs_/);
    expect(link.authLinkUrl).toBe(`${server.config.publicUrl}/connect?token=${link.token}`);

    const authenticated = await hub.connectSessions.authenticateConnectSession({ token: link.token });
    expect(sentBodies[1]).toEqual({ token: link.token });
    expect(authenticated.statusCode).toBe(201);
    const { token: _token, authLinkUrl: _authLinkUrl, ...session } = link;
    expect(authenticated.connectSession).toEqual(session);
  });

  it("sends only the fields the caller set, and the server applies its defaults", async () => {
    const { hub, sentBodies } = recordingHub();
    const created = await hub.connectSessions.createConnectSession({
      originOwnerId: "cust-1",
      originOwnerName: "Acme",
    });

    expect(sentBodies[0]).toEqual({ origin_owner_id: "cust-1", origin_owner_name: "Acme" });
    const link = created.connectSessionTokenAuthLink;
    expect(link).toMatchObject({
      type: "production",
      multiple: false,
      categories: null,
      metadata: null,
      label: null,
      provider: null,
    });
    expect(link.expiresAt.getTime() - link.createdAt.getTime()).toBe(1800 * 1000);
  });

  it("sends null as null", async () => {
    const { hub, sentBodies } = recordingHub();
    const created = await hub.connectSessions.createConnectSession({
      originOwnerId: "cust-1",
      originOwnerName: "Acme",
      label: null,
      categories: null,
      metadata: null,
    });
    expect(sentBodies[0]).toEqual({
      origin_owner_id: "cust-1",
      origin_owner_name: "Acme",
      label: null,
      categories: null,
      metadata: null,
    });
    expect(created.connectSessionTokenAuthLink.label).toBeNull();
  });

  it("hands rawResponse over unread", async () => {
    const created = await hubFor(server.url).connectSessions.createConnectSession({
      originOwnerId: "cust-1",
      originOwnerName: "Acme",
    });
    const wire = (await created.rawResponse.json()) as Record<string, unknown>;
    expect(wire.id).toBe(created.connectSessionTokenAuthLink.id);
    expect(wire.auth_link_url).toBe(created.connectSessionTokenAuthLink.authLinkUrl);
  });

  it("keeps a path prefix of serverURL and ignores a trailing slash", async () => {
    const hub = hubFor(`${server.url}/`);
    const created = await hub.connectSessions.createConnectSession({
      originOwnerId: "c",
      originOwnerName: "A",
    });
    expect(created.statusCode).toBe(201);

    const prefixed = await hubFor(`${server.url}/api/v1`)
      .connectSessions.createConnectSession({ originOwnerId: "c", originOwnerName: "A" })
      .catch((error: unknown) => error);
    expect(prefixed).toBeInstanceOf(NotFoundResponse);
    expect((prefixed as NotFoundResponse).message).toBe("Route POST /api/v1/connect_sessions does not exist");
  });

  it("reads a numeric organization_id as a string", async () => {
    const numeric = await startTestServer({ env: { ORGANIZATION_ID_TYPE: "number" } });
    try {
      const hub = new ConnectHub({
        serverURL: numeric.url,
        security: { username: await numeric.createApiKey(), password: "" },
      });
      const created = await hub.connectSessions.createConnectSession({
        originOwnerId: "c",
        originOwnerName: "A",
      });
      const wire = (await created.rawResponse.json()) as { organization_id: unknown };
      expect(wire.organization_id).toEqual(expect.any(Number));
      expect(created.connectSessionTokenAuthLink.organizationId).toBe(String(wire.organization_id));
    } finally {
      await numeric.close();
    }
  });
});

describe("the seed example", () => {
  it("runs against the server", async () => {
    const outcome = await createThenAuthenticate(server.url, apiKey);
    expect(outcome).toMatchObject({ pending: true, expiredTokenStatus: 401 });
    expect(outcome.token).toMatch(/^chs_/);
  });
});

describe("errors from the server", () => {
  it("400: BadRequestResponse with the server's message naming the field", async () => {
    const failure = await hubFor(server.url)
      .connectSessions.createConnectSession({ originOwnerId: "c", originOwnerName: "A", expiresIn: 0 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BadRequestResponse);
    const error = failure as BadRequestResponse;
    expect(error.name).toBe("BadRequestResponse");
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe("expires_in must be at least 1");
    expect(error.timestamp).toBeInstanceOf(Date);
    expect(error.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(error.body)).toMatchObject({ statusCode: 400, message: error.message });
    expect(error.rawResponse.status).toBe(400);
  });

  it("401: UnauthorizedResponse for an unknown API key, and for none", async () => {
    for (const security of [{ username: "chk_not_a_key", password: "" }, undefined]) {
      const failure = await hubFor(server.url, { security })
        .connectSessions.createConnectSession({ originOwnerId: "c", originOwnerName: "A" })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UnauthorizedResponse);
      expect((failure as UnauthorizedResponse).statusCode).toBe(401);
    }
  });

  it("401: UnauthorizedResponse for an unknown session token", async () => {
    const failure = await hubFor(server.url)
      .connectSessions.authenticateConnectSession({ token: "chs_unknown" })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnauthorizedResponse);
    expect((failure as UnauthorizedResponse).message).toContain("invalid or has expired");
  });

  it("413: SDKError for a body over the server's limit", async () => {
    const small = await startTestServer({ env: { BODY_LIMIT_BYTES: "1024" } });
    try {
      const hub = new ConnectHub({
        serverURL: small.url,
        security: { username: await small.createApiKey(), password: "" },
      });
      const failure = await hub.connectSessions
        .createConnectSession({
          originOwnerId: "c",
          originOwnerName: "A",
          metadata: { notes: "x".repeat(2000) },
        })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SDKError);
      expect((failure as SDKError).statusCode).toBe(413);
      expect((failure as SDKError).message).toContain("larger than the limit");
    } finally {
      await small.close();
    }
  });

  it("415: SDKError for a body that is not JSON", async () => {
    const hub = hubFor(server.url, {
      hooks: { beforeRequest: (request) => request.headers.set("content-type", "text/plain") },
    });
    const failure = await hub.connectSessions
      .createConnectSession({ originOwnerId: "c", originOwnerName: "A" })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SDKError);
    expect((failure as SDKError).statusCode).toBe(415);
  });

  it("429: TooManyRequestsResponse at once when Retry-After is beyond the retry budget", async () => {
    const limited = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: "1" } });
    try {
      const hub = new ConnectHub({
        serverURL: limited.url,
        security: { username: await limited.createApiKey(), password: "" },
        retryConfig: { strategy: "backoff", backoff: { maxElapsedTime: 5000 } },
      });
      await hub.connectSessions.createConnectSession({ originOwnerId: "c", originOwnerName: "A" });
      const startedAt = Date.now();
      const failure = await hub.connectSessions
        .createConnectSession({ originOwnerId: "c", originOwnerName: "A" })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TooManyRequestsResponse);
      expect(Number((failure as TooManyRequestsResponse).headers.get("retry-after"))).toBeGreaterThan(5);
      expect(Date.now() - startedAt).toBeLessThan(2000);
    } finally {
      await limited.close();
    }
  });
});
