/**
 * StackOne's official TypeScript SDK (4.28.0, pinned to a numeric organization_id) pointed at
 * Connect Hub by its base URL alone.
 */
import { StackOne } from "@stackone/stackone-client-ts";
import { UnauthorizedResponse } from "@stackone/stackone-client-ts/sdk/models/errors/index.js";
import { ConnectSessionCreateCategories } from "@stackone/stackone-client-ts/sdk/models/shared/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest } from "./support/hub.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let client: StackOne;

beforeAll(async () => {
  server = await startTestServer({ env: { ORGANIZATION_ID_TYPE: "number" } });
  const apiKey = await server.createApiKey();
  // A session may name only a provider the project offers.
  await adminRequest(server, apiKey, "PUT", "/integrations/bamboohr", {});
  client = new StackOne({
    serverURL: server.url,
    security: { username: apiKey, password: "" },
    retryConfig: { strategy: "none" },
  });
});
afterAll(() => server.close());

describe("StackOne TypeScript SDK 4.28.0 against Connect Hub", () => {
  it("creates and authenticates a connect session", async () => {
    const created = await client.connectSessions.createConnectSession({
      originOwnerId: "cust-123",
      originOwnerName: "Acme Inc",
      originUsername: "jane@acme.test",
      categories: [ConnectSessionCreateCategories.Hris, ConnectSessionCreateCategories.Ats],
      provider: "bamboohr",
      expiresIn: 3600,
      label: "primary",
      metadata: { plan: "gold" },
    });
    expect(created.statusCode).toBe(201);
    const link = created.connectSessionTokenAuthLink;
    expect(link).toBeDefined();
    if (!link) return;
    expect(link.id).toEqual(expect.any(Number));
    expect(link.organizationId).toEqual(expect.any(Number));
    expect(link.createdAt).toBeInstanceOf(Date);
    expect(link.token).toMatch(/^chs_/);
    expect(link.authLinkUrl).toContain(`/connect?token=${link.token}`);
    expect(link.categories).toEqual(["hris", "ats"]);
    expect(link.label).toBe("primary");

    const authenticated = await client.connectSessions.authenticateConnectSession({ token: link.token });
    expect(authenticated.statusCode).toBe(201);
    expect(authenticated.connectSession).toMatchObject({
      id: link.id,
      organizationId: link.organizationId,
      projectId: link.projectId,
      originOwnerId: "cust-123",
      originOwnerName: "Acme Inc",
      provider: "bamboohr",
    });
  });

  it("surfaces an unknown token as UnauthorizedResponse", async () => {
    const failure = await client.connectSessions
      .authenticateConnectSession({ token: "bogus" })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(UnauthorizedResponse);
    expect(failure.statusCode).toBe(401);
    expect(failure.message).toContain("invalid or has expired");
  });

  it("surfaces a wrong API key as UnauthorizedResponse", async () => {
    const stranger = new StackOne({
      serverURL: server.url,
      security: { username: "chk_not_a_key", password: "" },
      retryConfig: { strategy: "none" },
    });
    const failure = await stranger.connectSessions
      .createConnectSession({ originOwnerId: "c", originOwnerName: "A" })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(UnauthorizedResponse);
  });
});
