/**
 * `hub.accounts` against the real Connect Hub over HTTP, with accounts linked through the
 * connect page's own API: every operation, filter and field mapping both ways, the errors the
 * server produces, and a refused OAuth refresh at a real authorization server (oidc-provider).
 * A scripted node:http server covers what the real one cannot be made to answer.
 */
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, connectApiKeyAccount, submitCredentials } from "../../server/test/support/hub.js";
import {
  startHubWithIdentityProvider,
  TEST_PROVIDER_KEY,
  type TestIdentityProvider,
} from "../../server/test/support/identity-provider.js";
import type { TestServer } from "../../server/test/support/server.js";
import { manageCustomerAccounts } from "../examples/accounts-example.js";
import {
  AccountStatus,
  AuthType,
  BadGatewayResponse,
  BadRequestResponse,
  Categories,
  ConnectHub,
  type ConnectHubOptions,
  ConnectSessionStatus,
  NotFoundResponse,
  RequestAbortedError,
  RequestTimeoutError,
  ResponseValidationError,
  Type,
  UnauthorizedResponse,
  UnprocessableEntityResponse,
} from "../src/index.js";
import {
  errorEnvelope,
  linkedAccountBody,
  NEVER,
  type StubAnswer,
  type StubServer,
  startStubServer,
} from "./support/stub-server.js";

let server: TestServer;
let idp: TestIdentityProvider;
let apiKey: string;

beforeAll(async () => {
  ({
    hub: server,
    idp,
    apiKey,
  } = await startHubWithIdentityProvider({
    env: { RATE_LIMIT_PER_MINUTE: "100000" },
  }));
  for (const provider of ["ashby", "bamboohr", "greenhouse"]) {
    expect(
      (await adminRequest(server, apiKey, "PUT", `/integrations/${provider}`, { verify_credentials: false }))
        .status,
    ).toBe(200);
  }
});
afterAll(async () => {
  await server?.close();
  await idp?.close();
});

function hubFor(options: Partial<ConnectHubOptions> = {}): ConnectHub {
  return new ConnectHub({
    serverURL: server.url,
    security: { username: apiKey, password: "" },
    retryConfig: { strategy: "none" },
    ...options,
  });
}

interface SentRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  body: unknown;
}

/** A client that also records what it sends, one entry per attempt. */
function recordingHub(options: Partial<ConnectHubOptions> = {}): { hub: ConnectHub; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const hub = hubFor({
    hooks: {
      beforeRequest: async (request) => {
        const url = new URL(request.url);
        const text = await request.clone().text();
        sent.push({
          method: request.method,
          path: `${url.pathname}${url.search}`,
          body: text ? JSON.parse(text) : undefined,
        });
      },
    },
    ...options,
  });
  return { hub, sent };
}

/** Links an API-key account through the connect page's API; a new account every time. */
function connect(
  session: Record<string, unknown>,
  provider?: string,
  values?: Record<string, string>,
): Promise<string> {
  return connectApiKeyAccount(server, apiKey, { multiple: true, ...session }, provider, values);
}

async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
}

describe("getAccount", () => {
  it("reads every field in camelCase, with dates as Date and free-form keys kept", async () => {
    const metadata = { planName: "gold", nested: { snake_key: true, camelKey: [1, "two"] } };
    const id = await connect(
      {
        origin_owner_id: "fields",
        origin_owner_name: "Fields Inc",
        origin_username: "jane@fields.test",
        label: "primary",
        metadata,
        type: "test",
      },
      "bamboohr",
      { subdomain: "acme", api_key: "bamboo-secret-987" },
    );
    const { hub, sent } = recordingHub();
    const res = await hub.accounts.getAccount({ id });

    expect(sent).toEqual([{ method: "GET", path: `/accounts/${id}`, body: undefined }]);
    expect(res.statusCode).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    const wire = (await res.rawResponse.json()) as Record<string, string>;
    expect(res.linkedAccount).toEqual({
      id,
      provider: "bamboohr",
      providerName: "BambooHR",
      status: AccountStatus.Active,
      statusReasons: null,
      originOwnerId: "fields",
      originOwnerName: "Fields Inc",
      originUsername: "jane@fields.test",
      setupInformation: { subdomain: "acme" },
      label: "primary",
      type: Type.Test,
      metadata,
      authType: AuthType.ApiKey,
      createdAt: new Date(wire.created_at as string),
      updatedAt: new Date(wire.updated_at as string),
    });
    expect(res.linkedAccount.createdAt).toBeInstanceOf(Date);
    expect(Number.isNaN(res.linkedAccount.updatedAt.getTime())).toBe(false);
    expect(JSON.stringify(wire)).not.toContain("bamboo-secret-987");
  });

  it("percent-encodes the id in the path", async () => {
    const { hub, sent } = recordingHub();
    const id = "acc 1/x?y#z%é";
    const failure = await failureOf(hub.accounts.getAccount({ id }));
    expect(sent[0]?.path).toBe("/accounts/acc%201%2Fx%3Fy%23z%25%C3%A9");
    expect(failure).toBeInstanceOf(NotFoundResponse);
    expect((failure as NotFoundResponse).message).toBe(`Account ${id} does not exist`);

    await failureOf(hub.accounts.getAccountMetaInfo({ id: "a/b" }));
    await failureOf(hub.accounts.getAccountCredentials({ id: "a?b" }));
    expect(sent.slice(1).map((request) => request.path)).toEqual([
      "/accounts/a%2Fb/meta",
      "/accounts/a%3Fb/credentials",
    ]);
  });

  it.each(["", ".", ".."])("refuses the id %j with a TypeError, sending nothing", async (id) => {
    const { hub, sent } = recordingHub();
    for (const call of [
      () => hub.accounts.getAccount({ id }),
      () => hub.accounts.deleteAccount({ id }),
      () => hub.accounts.updateAccount({ id, patchAccountExternalDto: { label: "x" } }),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(TypeError);
    }
    expect(sent).toEqual([]);
  });
});

describe("listLinkedAccounts", () => {
  const ids: string[] = [];
  const owners = { originOwnerIds: ["list-a", "list-b"] };
  const idsOf = async (request: Parameters<ConnectHub["accounts"]["listLinkedAccounts"]>[0]) =>
    (await hubFor().accounts.listLinkedAccounts(request)).linkedAccounts.map((account) => account.id);

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      ids.push(
        await connect(
          { origin_owner_id: i % 2 === 0 ? "list-a" : "list-b" },
          i < 3 ? "ashby" : "greenhouse",
          {
            api_key: `k${i}`,
          },
        ),
      );
    }
  });

  it("returns the bare array as linkedAccounts, and sends no query without filters", async () => {
    const { hub, sent } = recordingHub();
    const res = await hub.accounts.listLinkedAccounts();
    expect(sent).toEqual([{ method: "GET", path: "/accounts", body: undefined }]);
    expect(res.statusCode).toBe(200);
    expect(res.linkedAccounts.length).toBeGreaterThanOrEqual(5);
    expect(res.linkedAccounts.length).toBeLessThanOrEqual(25);
    expect(Array.isArray(await res.rawResponse.json())).toBe(true);
    expect(res.linkedAccounts[0]?.createdAt).toBeInstanceOf(Date);
  });

  it("sends every filter in snake_case, arrays as repeated keys, in a stable order", async () => {
    const { hub, sent } = recordingHub();
    await hub.accounts.listLinkedAccounts({
      pageSize: 25,
      page: 2,
      status: [AccountStatus.Active, AccountStatus.Error],
      accountIds: ["a", "b"],
      providers: ["ashby", "greenhouse"],
      provider: "bamboohr",
      originOwnerIds: ["o2", "o3"],
      originOwnerId: "o1",
    });
    expect(sent[0]?.path).toBe(
      "/accounts?origin_owner_id=o1&origin_owner_ids=o2&origin_owner_ids=o3&provider=bamboohr" +
        "&providers=ashby&providers=greenhouse&account_ids=a&account_ids=b&status=active&status=error" +
        "&page=2&page_size=25",
    );
  });

  it("sends nothing for null values and empty arrays", async () => {
    const { hub, sent } = recordingHub();
    await hub.accounts.listLinkedAccounts({
      originOwnerId: null,
      provider: null,
      page: null,
      pageSize: null,
      providers: [],
      status: [],
    });
    expect(sent[0]?.path).toBe("/accounts");
  });

  it("filters by originOwnerId and originOwnerIds", async () => {
    expect(await idsOf({ originOwnerId: "list-a" })).toEqual([ids[0], ids[2], ids[4]]);
    expect(await idsOf({ originOwnerIds: ["list-b"] })).toEqual([ids[1], ids[3]]);
    expect(await idsOf(owners)).toEqual(ids);
    expect(await idsOf({ originOwnerId: "list-a", originOwnerIds: ["list-b"] })).toEqual(ids);
  });

  it("filters by provider and providers", async () => {
    expect(await idsOf({ ...owners, provider: "greenhouse" })).toEqual([ids[3], ids[4]]);
    expect(await idsOf({ ...owners, providers: ["ashby"] })).toEqual(ids.slice(0, 3));
    expect(await idsOf({ ...owners, providers: ["ashby", "greenhouse"] })).toEqual(ids);
    expect(await idsOf({ ...owners, providers: ["bamboohr"] })).toEqual([]);
  });

  it("filters by accountIds", async () => {
    expect(await idsOf({ accountIds: [ids[1] as string, ids[4] as string] })).toEqual([ids[1], ids[4]]);
    expect(await idsOf({ accountIds: ["acc_unknown"] })).toEqual([]);
  });

  it("filters by status", async () => {
    expect(
      await idsOf({ originOwnerId: "list-a", status: [AccountStatus.Active, AccountStatus.Error] }),
    ).toEqual([ids[0], ids[2], ids[4]]);
    expect(await idsOf({ originOwnerId: "list-a", status: [AccountStatus.Inactive] })).toEqual([]);
  });

  it("pages with page and pageSize", async () => {
    const page = (page: number) => idsOf({ ...owners, page, pageSize: 2 });
    expect(await page(1)).toEqual(ids.slice(0, 2));
    expect(await page(2)).toEqual(ids.slice(2, 4));
    expect(await page(3)).toEqual(ids.slice(4));
    expect(await page(4)).toEqual([]);
    expect(await idsOf({ ...owners, page: 1 })).toEqual(ids);
  });

  it("encodes filter values, so any owner id round-trips", async () => {
    const owner = "owner & co/1+2=3 é";
    const id = await connect({ origin_owner_id: owner });
    const { hub, sent } = recordingHub();
    const res = await hub.accounts.listLinkedAccounts({ originOwnerId: owner });
    expect(sent[0]?.path).toBe("/accounts?origin_owner_id=owner+%26+co%2F1%2B2%3D3+%C3%A9");
    expect(res.linkedAccounts.map((account) => [account.id, account.originOwnerId])).toEqual([[id, owner]]);
  });

  it.each([
    [{ pageSize: 101 }, "page_size must be at most 100"],
    [{ pageSize: 0 }, "page_size must be at least 1"],
    [{ page: 0 }, "page must be at least 1"],
    [{ status: ["bogus" as AccountStatus] }, "status[0] must be one of"],
  ])("400: BadRequestResponse for %j", async (request, message) => {
    const failure = await failureOf(hubFor().accounts.listLinkedAccounts(request));
    expect(failure).toBeInstanceOf(BadRequestResponse);
    expect((failure as BadRequestResponse).statusCode).toBe(400);
    expect((failure as BadRequestResponse).message).toContain(message);
  });
});

describe("updateAccount", () => {
  it("sends every field in snake_case, merges objects, and reads the account back", async () => {
    const id = await connect(
      {
        origin_owner_id: "patch",
        origin_username: "jane",
        label: "old",
        metadata: { a: 1, b: 2 },
        type: "test",
      },
      "bamboohr",
      { subdomain: "acme", api_key: "k-old" },
    );
    const { hub, sent } = recordingHub();
    const before = (await hub.accounts.getAccount({ id })).linkedAccount;
    const res = await hub.accounts.updateAccount({
      id,
      patchAccountExternalDto: {
        originOwnerId: "patch-moved",
        originOwnerName: "Moved Inc",
        originUsername: null,
        label: "renamed",
        metadata: { b: null, c: { deep_key: 3 } },
        setupInformation: { region: "eu" },
        credentials: { api_key: "k-new" },
        provider: "bamboohr",
        type: Type.Production,
        secrets: { ignored: true },
        authenticationConfigKey: "ignored",
        environment: "ignored",
        integrationId: "ignored",
      },
    });

    expect(sent[1]).toEqual({
      method: "PATCH",
      path: `/accounts/${id}`,
      body: {
        origin_owner_id: "patch-moved",
        origin_owner_name: "Moved Inc",
        origin_username: null,
        label: "renamed",
        metadata: { b: null, c: { deep_key: 3 } },
        setup_information: { region: "eu" },
        credentials: { api_key: "k-new" },
        provider: "bamboohr",
        type: "production",
        secrets: { ignored: true },
        authentication_config_key: "ignored",
        environment: "ignored",
        integration_id: "ignored",
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.linkedAccount).toEqual({
      ...before,
      originOwnerId: "patch-moved",
      originOwnerName: "Moved Inc",
      originUsername: null,
      label: "renamed",
      metadata: { a: 1, c: { deep_key: 3 } },
      setupInformation: { subdomain: "acme", region: "eu" },
      type: Type.Test,
      updatedAt: res.linkedAccount.updatedAt,
    });
    expect(res.linkedAccount.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
    expect(JSON.stringify(await res.rawResponse.json())).not.toContain("k-new");
    const { accountCredentials } = await hub.accounts.getAccountCredentials({ id });
    expect(accountCredentials.credentials).toMatchObject({ api_key: "k-new" });
  });

  it("sends only the fields set; {} changes nothing", async () => {
    const id = await connect({ origin_owner_id: "patch-some", label: "keep", metadata: { a: 1 } });
    const { hub, sent } = recordingHub();
    const labelled = await hub.accounts.updateAccount({ id, patchAccountExternalDto: { label: "only" } });
    const unchanged = await hub.accounts.updateAccount({ id, patchAccountExternalDto: {} });
    expect(sent.map((request) => request.body)).toEqual([{ label: "only" }, {}]);
    expect(labelled.linkedAccount).toMatchObject({
      label: "only",
      metadata: { a: 1 },
      originOwnerId: "patch-some",
    });
    expect({ ...unchanged.linkedAccount, updatedAt: null }).toEqual({
      ...labelled.linkedAccount,
      updatedAt: null,
    });
  });

  it("422: UnprocessableEntityResponse for a provider change", async () => {
    const id = await connect({ origin_owner_id: "patch-provider" });
    const failure = await failureOf(
      hubFor().accounts.updateAccount({ id, patchAccountExternalDto: { provider: "greenhouse" } }),
    );
    expect(failure).toBeInstanceOf(UnprocessableEntityResponse);
    const error = failure as UnprocessableEntityResponse;
    expect(error.name).toBe("UnprocessableEntityResponse");
    expect(error.statusCode).toBe(422);
    expect(error.message).toBe("provider cannot change (the account is connected to ashby)");
    expect(error.timestamp).toBeInstanceOf(Date);
  });

  it("400: BadRequestResponse for a field the schema refuses", async () => {
    const id = await connect({ origin_owner_id: "patch-invalid" });
    const failure = await failureOf(
      hubFor().accounts.updateAccount({ id, patchAccountExternalDto: { originOwnerName: "" } }),
    );
    expect(failure).toBeInstanceOf(BadRequestResponse);
    expect((failure as BadRequestResponse).message).toContain("origin_owner_name");
  });
});

describe("deleteAccount", () => {
  it("returns the deleted account; afterwards every operation on it throws NotFoundResponse", async () => {
    const id = await connect({ origin_owner_id: "delete-me", label: "bye" });
    const hub = hubFor();
    const { linkedAccount: before } = await hub.accounts.getAccount({ id });
    const deleted = await hub.accounts.deleteAccount({ id });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.linkedAccount).toEqual(before);

    for (const call of [
      () => hub.accounts.getAccount({ id }),
      () => hub.accounts.getAccountMetaInfo({ id }),
      () => hub.accounts.getAccountCredentials({ id }),
      () => hub.accounts.updateAccount({ id, patchAccountExternalDto: { label: "x" } }),
      () => hub.accounts.deleteAccount({ id }),
    ]) {
      const failure = await failureOf(call());
      expect(failure).toBeInstanceOf(NotFoundResponse);
      expect((failure as NotFoundResponse).name).toBe("NotFoundResponse");
      expect((failure as NotFoundResponse).statusCode).toBe(404);
      expect((failure as NotFoundResponse).message).toBe(`Account ${id} does not exist`);
    }
    expect((await hub.accounts.listLinkedAccounts({ accountIds: [id] })).linkedAccounts).toEqual([]);
  });
});

describe("getAccountMetaInfo", () => {
  it("reads provider, category and models", async () => {
    const hub = hubFor();
    const ashby = await connect({ origin_owner_id: "meta" });
    const bamboo = await connect({ origin_owner_id: "meta" }, "bamboohr", {
      subdomain: "acme",
      api_key: "k",
    });
    const res = await hub.accounts.getAccountMetaInfo({ id: ashby });
    expect(res.statusCode).toBe(200);
    expect(res.linkedAccountMeta).toEqual({ provider: "ashby", category: Categories.Ats, models: {} });
    expect((await hub.accounts.getAccountMetaInfo({ id: bamboo })).linkedAccountMeta.category).toBe(
      Categories.Hris,
    );
  });
});

describe("getAccountCredentials", () => {
  it("reads API-key credentials and setup information, uncached", async () => {
    const hub = hubFor();
    const ashby = await connect({ origin_owner_id: "creds" }, "ashby", { api_key: "ashby-key-1" });
    const res = await hub.accounts.getAccountCredentials({ id: ashby });
    expect(res.statusCode).toBe(200);
    expect(res.rawResponse.headers.get("cache-control")).toBe("no-store");
    expect(res.accountCredentials).toEqual({
      id: ashby,
      provider: "ashby",
      authType: AuthType.ApiKey,
      credentials: { api_key: "ashby-key-1" },
      expiresAt: null,
      setupInformation: null,
    });

    const bamboo = await connect({ origin_owner_id: "creds" }, "bamboohr", {
      subdomain: "acme",
      api_key: "b-1",
    });
    const bambooCredentials = (await hub.accounts.getAccountCredentials({ id: bamboo })).accountCredentials;
    expect(bambooCredentials).toMatchObject({
      authType: AuthType.ApiKey,
      credentials: { api_key: "b-1" },
      setupInformation: { subdomain: "acme" },
    });
  });

  describe("an OAuth2 account", () => {
    let id: string;

    /** Turns a linked API-key account into one of the test IdP's OAuth2 accounts. */
    beforeAll(async () => {
      id = await connect({ origin_owner_id: "oauth-owner" });
      await server.db.kysely
        .updateTable("linked_accounts")
        .set({ provider: TEST_PROVIDER_KEY, auth_type: "oauth2" })
        .where("id", "=", id)
        .execute();
    });

    it("reads a live token with expiresAt as a Date, never the refresh token", async () => {
      const hub = hubFor();
      const expiresAt = new Date(Date.now() + 3_600_000);
      await hub.accounts.updateAccount({
        id,
        patchAccountExternalDto: {
          credentials: {
            access_token: "live-access-token",
            token_type: "Bearer",
            refresh_token: "not-a-real-refresh-token",
            expires_at: expiresAt.toISOString(),
          },
        },
      });
      const { accountCredentials } = await hub.accounts.getAccountCredentials({ id });
      expect(accountCredentials).toEqual({
        id,
        provider: TEST_PROVIDER_KEY,
        authType: AuthType.OAuth2,
        credentials: {
          access_token: "live-access-token",
          token_type: "Bearer",
          expires_at: expiresAt.toISOString(),
        },
        expiresAt,
        setupInformation: null,
      });
    });

    it("502: BadGatewayResponse when the provider refuses the refresh, not retried", async () => {
      const { hub, sent } = recordingHub({ retryConfig: undefined }); // the default retries
      await hub.accounts.updateAccount({
        id,
        patchAccountExternalDto: {
          credentials: { refresh_token: "not-a-real-refresh-token", expires_at: "2020-01-01T00:00:00.000Z" },
        },
      });
      sent.length = 0;
      const failure = await failureOf(hub.accounts.getAccountCredentials({ id }));

      expect(sent).toHaveLength(1);
      expect(failure).toBeInstanceOf(BadGatewayResponse);
      const error = failure as BadGatewayResponse;
      expect(error.statusCode).toBe(502);
      expect(error.message).toMatch(
        /^The provider refused the refresh: the token endpoint answered 400 invalid_grant/,
      );
      expect(error.providerErrors).toEqual([
        expect.objectContaining({ status: 400, raw: expect.objectContaining({ error: "invalid_grant" }) }),
      ]);

      const { linkedAccount } = await hub.accounts.getAccount({ id });
      expect(linkedAccount.status).toBe(AccountStatus.Error);
      expect(linkedAccount.statusReasons).toEqual([
        { code: "refresh_failed", description: error.message, timestamp: expect.any(Date) },
      ]);
      const inError = await hub.accounts.listLinkedAccounts({
        accountIds: [id],
        status: [AccountStatus.Error],
      });
      expect(inError.linkedAccounts.map((account) => account.id)).toEqual([id]);
    });

    it("retries the refused refresh only when retryCodes names 502", async () => {
      const { hub, sent } = recordingHub();
      const failure = await failureOf(
        hub.accounts.getAccountCredentials(
          { id },
          {
            retries: {
              strategy: "backoff",
              backoff: { initialInterval: 200, maxInterval: 200, maxElapsedTime: 1500 },
              retryCodes: [502],
            },
          },
        ),
      );
      expect(failure).toBeInstanceOf(BadGatewayResponse);
      expect(sent.length).toBeGreaterThan(1);
    });
  });
});

describe("errors shared by every operation", () => {
  it("401: UnauthorizedResponse for an unknown API key, and for none", async () => {
    for (const security of [{ username: "chk_not_a_key", password: "" }, undefined]) {
      const hub = hubFor({ security });
      for (const call of [
        () => hub.accounts.listLinkedAccounts(),
        () => hub.accounts.getAccountCredentials({ id: "acc_x" }),
      ]) {
        const failure = await failureOf(call());
        expect(failure).toBeInstanceOf(UnauthorizedResponse);
        expect((failure as UnauthorizedResponse).statusCode).toBe(401);
      }
    }
  });

  it("404: another project's account does not exist for this key", async () => {
    const id = await connect({ origin_owner_id: "tenant" });
    const other = hubFor({
      security: { username: await server.createApiKey("sdk-other-tenant"), password: "" },
    });
    await expect(other.accounts.getAccount({ id })).rejects.toBeInstanceOf(NotFoundResponse);
    await expect(other.accounts.deleteAccount({ id })).rejects.toBeInstanceOf(NotFoundResponse);
    expect((await other.accounts.listLinkedAccounts({ accountIds: [id] })).linkedAccounts).toEqual([]);
    expect((await hubFor().accounts.getAccount({ id })).linkedAccount.id).toBe(id);
  });
});

describe("the connect session's account", () => {
  it("is null while pending and names the linked account once completed", async () => {
    const hub = hubFor();
    const created = await hub.connectSessions.createConnectSession({
      originOwnerId: "session-owner",
      originOwnerName: "Session Inc",
      provider: "ashby",
      multiple: true,
    });
    const { token } = created.connectSessionTokenAuthLink;
    expect(created.connectSessionTokenAuthLink.account).toBeNull();
    const pending = await hub.connectSessions.authenticateConnectSession({ token });
    expect(pending.connectSession).toMatchObject({ status: ConnectSessionStatus.Pending, account: null });

    const submitted = await submitCredentials(server, token, "ashby", { api_key: "session-key" });
    expect(submitted.status).toBe(201);
    const completed = await hub.connectSessions.authenticateConnectSession({ token });
    expect(completed.connectSession.status).toBe(ConnectSessionStatus.Completed);
    expect(completed.connectSession.account).toEqual(submitted.body.account);
    const account = completed.connectSession.account;
    if (!account) throw new Error("expected the session's account");
    expect(account).toEqual({ id: expect.stringMatching(/^acc_/), provider: "ashby" });

    const { linkedAccount } = await hub.accounts.getAccount({ id: account.id });
    expect(linkedAccount).toMatchObject({ originOwnerId: "session-owner", originOwnerName: "Session Inc" });
  });
});

describe("the shared request core", () => {
  it("tells hooks each operation's name, method and path", async () => {
    const id = await connect({ origin_owner_id: "hooks" });
    const seen: string[] = [];
    const hub = hubFor({
      hooks: {
        beforeRequest: (request, context) =>
          void seen.push(`${context.operationId} ${request.method} ${new URL(request.url).pathname}`),
      },
    });
    await hub.accounts.listLinkedAccounts({ originOwnerId: "hooks" });
    await hub.accounts.getAccount({ id });
    await hub.accounts.updateAccount({ id, patchAccountExternalDto: { label: "hooked" } });
    await hub.accounts.getAccountMetaInfo({ id });
    await hub.accounts.getAccountCredentials({ id });
    await hub.accounts.deleteAccount({ id });
    expect(seen).toEqual([
      "listLinkedAccounts GET /accounts",
      `getAccount GET /accounts/${id}`,
      `updateAccount PATCH /accounts/${id}`,
      `getAccountMetaInfo GET /accounts/${id}/meta`,
      `getAccountCredentials GET /accounts/${id}/credentials`,
      `deleteAccount DELETE /accounts/${id}`,
    ]);
  });

  it("retries a PATCH whose answer was lost: the merge applied twice equals applied once", async () => {
    const id = await connect({ origin_owner_id: "lost-patch", metadata: { a: 1, b: 2 } });
    const bodies: string[] = [];
    const hub = hubFor({
      retryConfig: { strategy: "backoff", backoff: { initialInterval: 20 } },
      fetch: async (request) => {
        bodies.push(await request.clone().text());
        const response = await fetch(request);
        if (bodies.length === 1) throw new TypeError("socket hang up after the server answered");
        return response;
      },
    });
    const res = await hub.accounts.updateAccount({
      id,
      patchAccountExternalDto: { metadata: { b: null, c: 3 } },
    });
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect(res.linkedAccount.metadata).toEqual({ a: 1, c: 3 });
  });

  it("retries a DELETE whose answer was lost: the account is gone and the retry throws NotFoundResponse", async () => {
    const id = await connect({ origin_owner_id: "lost-delete" });
    let attempts = 0;
    const hub = hubFor({
      retryConfig: { strategy: "backoff", backoff: { initialInterval: 20 } },
      fetch: async (request) => {
        attempts += 1;
        const response = await fetch(request);
        if (attempts === 1) throw new TypeError("socket hang up after the server answered");
        return response;
      },
    });
    await expect(hub.accounts.deleteAccount({ id })).rejects.toBeInstanceOf(NotFoundResponse);
    expect(attempts).toBe(2);
    await expect(hubFor().accounts.getAccount({ id })).rejects.toBeInstanceOf(NotFoundResponse);
  });

  it("sends nothing when the AbortSignal has already fired", async () => {
    const { hub, sent } = recordingHub();
    const failure = await failureOf(
      hub.accounts.listLinkedAccounts({}, { signal: AbortSignal.abort(new Error("gone")) }),
    );
    expect(failure).toBeInstanceOf(RequestAbortedError);
    expect(((failure as RequestAbortedError).cause as Error).message).toBe("gone");
    expect(sent).toEqual([]);
  });

  it("never shows credentials to the debug logger", async () => {
    const id = await connect({ origin_owner_id: "logged" }, "ashby", { api_key: "logged-secret-key" });
    const lines: string[] = [];
    const hub = hubFor({
      debugLogger: { log: (message, details) => lines.push(`${message} ${inspect(details, { depth: 8 })}`) },
    });
    await hub.accounts.getAccountCredentials({ id });
    await hub.accounts.updateAccount({
      id,
      patchAccountExternalDto: { credentials: { api_key: "patched-secret" } },
    });
    const log = lines.join("\n");
    expect(log).toContain(`/accounts/${id}/credentials`);
    expect(log).toContain("[redacted]");
    expect(log).not.toContain("logged-secret-key");
    expect(log).not.toContain("patched-secret");
  });
});

describe("against a scripted server", () => {
  let stub: StubServer | undefined;
  afterEach(() => stub?.close());

  async function hubAnswering(
    script: (index: number) => StubAnswer,
    options: Partial<ConnectHubOptions> = {},
  ): Promise<ConnectHub> {
    stub = await startStubServer(script);
    return new ConnectHub({
      serverURL: stub.url,
      retryConfig: { strategy: "backoff", backoff: { initialInterval: 10, maxInterval: 20 } },
      ...options,
    });
  }

  const failWith = (status: number): StubAnswer => ({
    status,
    body: errorEnvelope(status, `status ${status}`),
  });
  const ok = (body: unknown): StubAnswer => ({ status: 200, body });

  it("retries reads, updates and deletes on 502 and 503", async () => {
    const calls: [string, (hub: ConnectHub) => Promise<unknown>, unknown][] = [
      ["GET", (hub) => hub.accounts.listLinkedAccounts(), [linkedAccountBody()]],
      ["GET", (hub) => hub.accounts.getAccount({ id: "acc_stub" }), linkedAccountBody()],
      [
        "PATCH",
        (hub) => hub.accounts.updateAccount({ id: "acc_stub", patchAccountExternalDto: { label: "x" } }),
        linkedAccountBody(),
      ],
      ["DELETE", (hub) => hub.accounts.deleteAccount({ id: "acc_stub" }), linkedAccountBody()],
    ];
    for (const [method, call, body] of calls) {
      await stub?.close();
      const hub = await hubAnswering((index) => [failWith(502), failWith(503)][index] ?? ok(body));
      expect(await call(hub)).toMatchObject({ statusCode: 200 });
      expect(stub?.requests.map((request) => request.method)).toEqual([method, method, method]);
      expect(new Set(stub?.requests.map((request) => request.body)).size).toBe(1);
    }
  });

  it("retries credentials on 503 but not on 502 by default", async () => {
    const credentials = {
      id: "acc_stub",
      provider: "ashby",
      auth_type: "api_key",
      credentials: {},
      expires_at: null,
    };
    let hub = await hubAnswering((index) => (index === 0 ? failWith(503) : ok(credentials)));
    expect((await hub.accounts.getAccountCredentials({ id: "acc_stub" })).statusCode).toBe(200);
    expect(stub?.requests).toHaveLength(2);

    await stub?.close();
    hub = await hubAnswering((index) => (index === 0 ? failWith(502) : ok(credentials)));
    await expect(hub.accounts.getAccountCredentials({ id: "acc_stub" })).rejects.toBeInstanceOf(
      BadGatewayResponse,
    );
    expect(stub?.requests).toHaveLength(1);
  });

  it("reads providerErrors of a refused refresh", async () => {
    const providerErrors = [
      { status: 400, url: "https://idp.test/token", raw: { error: "invalid_grant" }, headers: null },
    ];
    const hub = await hubAnswering(() => ({
      status: 502,
      body: errorEnvelope(502, "The provider refused the refresh", { provider_errors: providerErrors }),
    }));
    const failure = await failureOf(hub.accounts.getAccountCredentials({ id: "acc_stub" }));
    expect(failure).toBeInstanceOf(BadGatewayResponse);
    expect((failure as BadGatewayResponse).providerErrors).toEqual(providerErrors);
    expect(stub?.requests).toHaveLength(1);
  });

  it("throws RequestTimeoutError when no answer arrives within timeoutMs", async () => {
    const hub = await hubAnswering(() => ({ ...ok([]), delayMs: NEVER }), {
      retryConfig: { strategy: "none" },
    });
    await expect(hub.accounts.listLinkedAccounts({}, { timeoutMs: 100 })).rejects.toBeInstanceOf(
      RequestTimeoutError,
    );
  });

  it("refuses a list wrapped in an object (StackOne's docs page shape)", async () => {
    const hub = await hubAnswering(() => ok({ data: [linkedAccountBody()] }));
    const failure = await failureOf(hub.accounts.listLinkedAccounts());
    expect(failure).toBeInstanceOf(ResponseValidationError);
    expect((failure as ResponseValidationError).issues).toEqual(["the body must be a JSON array"]);
  });

  it("names the item and field of every problem in a list", async () => {
    const hub = await hubAnswering(() =>
      ok([
        linkedAccountBody(),
        linkedAccountBody({ updated_at: undefined, status_reasons: [{ code: 1, timestamp: "yesterday" }] }),
        "not an account",
      ]),
    );
    const failure = await failureOf(hub.accounts.listLinkedAccounts());
    expect((failure as ResponseValidationError).issues).toEqual([
      "[1].updated_at is required",
      "[1].status_reasons[0].code must be a string or null",
      "[1].status_reasons[0].timestamp must be an ISO-8601 date-time with Z or an offset",
      "[2] must be a JSON object",
      "[2].id is required",
      "[2].provider is required",
      "[2].status is required",
      "[2].origin_owner_id is required",
      "[2].origin_owner_name is required",
      "[2].created_at is required",
      "[2].updated_at is required",
    ]);
  });

  it("passes unknown enum values through and ignores unknown fields", async () => {
    const hub = await hubAnswering((index) =>
      index === 0
        ? ok(linkedAccountBody({ status: "paused", auth_type: "saml", type: "sandbox", shared: true }))
        : ok({ provider: "ashby", category: "payroll", models: { employees: {} } }),
    );
    const { linkedAccount } = await hub.accounts.getAccount({ id: "acc_stub" });
    expect(linkedAccount).toMatchObject({ status: "paused", authType: "saml", type: "sandbox" });
    expect(linkedAccount).not.toHaveProperty("shared");
    const { linkedAccountMeta } = await hub.accounts.getAccountMetaInfo({ id: "acc_stub" });
    expect(linkedAccountMeta).toEqual({ provider: "ashby", category: "payroll", models: { employees: {} } });
  });

  it("reports every problem of a credentials body", async () => {
    const hub = await hubAnswering(() =>
      ok({ id: "acc_stub", provider: "ashby", auth_type: "api_key", expires_at: "soon" }),
    );
    const failure = await failureOf(hub.accounts.getAccountCredentials({ id: "acc_stub" }));
    expect((failure as ResponseValidationError).issues).toEqual([
      "credentials is required",
      "expires_at must be an ISO-8601 date-time with Z or an offset or null",
    ]);
  });
});

describe("the accounts example", () => {
  it("runs against the server", async () => {
    const first = await connect({ origin_owner_id: "example-owner" }, "ashby", { api_key: "example-key" });
    const second = await connect({ origin_owner_id: "example-owner" }, "bamboohr", {
      subdomain: "acme",
      api_key: "k",
    });
    const outcome = await manageCustomerAccounts(server.url, apiKey, "example-owner");
    expect(outcome).toEqual({
      accountIds: [first, second],
      label: "Primary HR system",
      category: Categories.Ats,
      credentialKeys: ["api_key"],
      deletedId: first,
      goneStatus: 404,
    });
  });
});
