/**
 * `hub.accounts.verify` against the real Connect Hub and a provider simulator on loopback: the
 * account's credentials checked again, both ways, and the errors a caller can meet.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, connectApiKeyAccount } from "../../server/test/support/hub.js";
import {
  type ProviderSimulator,
  startProviderSimulator,
} from "../../server/test/support/provider-simulator.js";
import { startTestServer, type TestServer } from "../../server/test/support/server.js";
import { ConnectHub, NotFoundResponse, UnprocessableEntityResponse } from "../src/index.js";

let server: TestServer;
let simulator: ProviderSimulator;
let hub: ConnectHub;
let apiKey: string;

beforeAll(async () => {
  simulator = await startProviderSimulator();
  server = await startTestServer({
    env: { PROVIDERS_DIR: simulator.providersDir, OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
  });
  apiKey = await server.createApiKey();
  for (const provider of ["sim-bearer", "sim-plain"]) {
    await adminRequest(server, apiKey, "PUT", `/integrations/${provider}`, {});
  }
  hub = new ConnectHub({
    serverURL: server.url,
    security: { username: apiKey, password: "" },
    retryConfig: { strategy: "none" },
  });
});
afterAll(async () => {
  await server?.close();
  await simulator?.close();
});

describe("accounts.verify", () => {
  it("reports a refusal (account in error) and a recovery (active again)", async () => {
    const id = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "sdk-verify" }, "sim-bearer", {
      api_key: simulator.accepted.bearer,
    });
    const working = simulator.accepted.bearer;
    simulator.accepted.bearer = "rotated";
    const refused = await hub.accounts.verify(id);
    expect(refused.statusCode).toBe(200);
    expect(refused.accountVerification.verification).toMatchObject({ result: "refused", statusCode: 401 });
    expect(refused.accountVerification.verification.checkedAt).toBeInstanceOf(Date);
    expect(refused.accountVerification.linkedAccount).toMatchObject({ id, status: "error" });
    expect(refused.accountVerification.linkedAccount.statusReasons?.[0]?.code).toBe("verification_failed");

    simulator.accepted.bearer = working;
    const verified = await hub.accounts.verify({ id });
    expect(verified.accountVerification.verification.result).toBe("verified");
    expect(verified.accountVerification.linkedAccount.status).toBe("active");
  });

  it("throws NotFoundResponse for an unknown account, 422 for a provider without verification", async () => {
    await expect(hub.accounts.verify("acc_nope")).rejects.toBeInstanceOf(NotFoundResponse);
    const plain = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "sdk-plain" }, "sim-plain", {
      api_key: "x",
    });
    await expect(hub.accounts.verify(plain)).rejects.toBeInstanceOf(UnprocessableEntityResponse);
  });
});
