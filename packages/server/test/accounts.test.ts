/** The Accounts API over real HTTP, with accounts made through the connect page's own API. */
import { readFileSync } from "node:fs";
import { StackOne } from "@stackone/stackone-client-ts";
import { NotFoundResponse } from "@stackone/stackone-client-ts/sdk/models/errors/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody } from "./support/http.js";
import { adminRequest, connectApiKeyAccount, createSession, submitCredentials } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";

// Every accounts operation on every database: SQLite always, PostgreSQL when reachable.
for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`accounts API on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    const admin = (method: string, path: string, body?: unknown, key = apiKey) =>
      adminRequest(server, key, method, path, body);

    beforeAll(async () => {
      server = await startTestServer({ dialect, env: { RATE_LIMIT_PER_MINUTE: "100000" } });
      apiKey = await server.createApiKey();
      for (const provider of ["ashby", "bamboohr", "greenhouse"]) {
        expect(
          (await admin("PUT", `/integrations/${provider}`, { enabled: true, verify_credentials: false }))
            .status,
        ).toBe(200);
      }
    });
    afterAll(() => server.close());

    describe("linking accounts through the connect page API", () => {
      it("creates an account carrying the session's owner, label, metadata and type", async () => {
        const id = await connectApiKeyAccount(
          server,
          apiKey,
          {
            origin_owner_id: "owner-a",
            origin_owner_name: "Owner A",
            origin_username: "jane@a.test",
            label: "primary",
            metadata: { plan: "gold" },
            type: "test",
          },
          "bamboohr",
          { subdomain: "acme", api_key: "bamboo-secret-987" },
        );
        const { status, body } = await admin("GET", `/accounts/${id}`);
        expect(status).toBe(200);
        expect(body).toMatchObject({
          id,
          provider: "bamboohr",
          provider_name: "BambooHR",
          status: "active",
          status_reasons: null,
          origin_owner_id: "owner-a",
          origin_owner_name: "Owner A",
          origin_username: "jane@a.test",
          label: "primary",
          metadata: { plan: "gold" },
          type: "test",
          setup_information: { subdomain: "acme" },
          auth_type: "api_key",
        });
        expect(JSON.stringify(body)).not.toContain("bamboo-secret-987");
        expect(body.created_at).toMatch(/Z$/);
        expect(body.updated_at).toMatch(/Z$/);
      });

      it("updates the same owner's account unless the session allows multiple", async () => {
        const owner = { origin_owner_id: "owner-b", origin_owner_name: "Owner B" };
        const first = await connectApiKeyAccount(server, apiKey, owner);
        const second = await connectApiKeyAccount(server, apiKey, owner, "ashby", { api_key: "rotated-key" });
        expect(second).toBe(first);
        const third = await connectApiKeyAccount(server, apiKey, { ...owner, multiple: true });
        expect(third).not.toBe(first);
        const credentials = await admin("GET", `/accounts/${first}/credentials`);
        expect(credentials.body.credentials).toEqual({ api_key: "rotated-key" });
      });

      it("re-authorizes the account named by account_id", async () => {
        const id = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "owner-c" });
        const renewed = await connectApiKeyAccount(
          server,
          apiKey,
          { origin_owner_id: "other", account_id: id, multiple: true },
          "ashby",
          {
            api_key: "renewed",
          },
        );
        expect(renewed).toBe(id);
        expect((await admin("GET", `/accounts/${id}/credentials`)).body.credentials).toEqual({
          api_key: "renewed",
        });
      });

      it("makes a session single-use and reports its account on authenticate", async () => {
        const session = await createSession(server, apiKey, { origin_owner_id: "owner-d" });
        const before = await admin("POST", "/connect_sessions/authenticate", { token: session.token });
        expect(before.body).toMatchObject({ status: "pending", account: null });
        const done = await submitCredentials(server, session.token, "ashby", { api_key: "k1" });
        expect(done.status).toBe(201);
        const after = await admin("POST", "/connect_sessions/authenticate", { token: session.token });
        expect(after.body).toMatchObject({ status: "completed", account: done.body.account });
        const again = await submitCredentials(server, session.token, "ashby", { api_key: "k2" });
        expect(again.status).toBe(409);
      });

      it("checks required fields and patterns on the server too", async () => {
        const { token } = await createSession(server, apiKey);
        expect((await submitCredentials(server, token, "bamboohr", { api_key: "x" })).body.message).toBe(
          "Company subdomain is required",
        );
        expect(
          (
            await submitCredentials(server, token, "bamboohr", {
              subdomain: "not a subdomain!",
              api_key: "x",
            })
          ).body.message,
        ).toBe("Company subdomain is not in the expected format");
        expect((await submitCredentials(server, token, "hubspot", { api_key: "x" })).status).toBe(404);
      });

      it("offers only the providers the session and project allow", async () => {
        const { token } = await createSession(server, apiKey, { categories: ["hris"] });
        const page = await fetch(`${server.url}/connect/api/session`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const model = await page.json();
        expect(model.providers.map((p: { key: string }) => p.key)).toEqual(["bamboohr"]);
        const single = await createSession(server, apiKey, { provider: "greenhouse" });
        const singleModel = await (
          await fetch(`${server.url}/connect/api/session`, {
            headers: { authorization: `Bearer ${single.token}` },
          })
        ).json();
        expect(singleModel.providers.map((p: { key: string }) => p.key)).toEqual(["greenhouse"]);
      });

      it("refuses cross-site form posts", async () => {
        const { token } = await createSession(server, apiKey);
        const response = await fetch(`${server.url}/connect/api/credentials`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            origin: "https://evil.example",
            "sec-fetch-site": "cross-site",
          },
          body: JSON.stringify({ provider: "ashby", values: { api_key: "x" } }),
        });
        expect(response.status).toBe(403);
      });
    });

    describe("GET /accounts", () => {
      let ids: string[];
      beforeAll(async () => {
        ids = [];
        for (let i = 0; i < 5; i++) {
          ids.push(
            await connectApiKeyAccount(
              server,
              apiKey,
              { origin_owner_id: `list-${i % 2}`, multiple: true },
              i < 3 ? "ashby" : "greenhouse",
              {
                api_key: `k${i}`,
              },
            ),
          );
        }
      });

      it("returns a bare array and filters by every contract parameter", async () => {
        const all = await admin("GET", "/accounts?page_size=100");
        expect(Array.isArray(all.body)).toBe(true);
        const filtered = async (query: string) =>
          ((await admin("GET", `/accounts?${query}`)).body as unknown as Array<{ id: string }>)
            .map((a) => a.id)
            .sort();
        expect(await filtered("origin_owner_id=list-0")).toEqual([ids[0], ids[2], ids[4]].sort());
        expect(await filtered("origin_owner_ids=list-0&origin_owner_ids=list-1")).toEqual([...ids].sort());
        expect(await filtered("origin_owner_ids=list-1&provider=greenhouse")).toEqual([ids[3]]);
        expect(await filtered("origin_owner_ids=list-0&origin_owner_ids=list-1&providers=ashby")).toEqual(
          ids.slice(0, 3).sort(),
        );
        expect(await filtered(`account_ids=${ids[1]}&account_ids=${ids[4]}`)).toEqual(
          [ids[1], ids[4]].sort(),
        );
        expect(await filtered("origin_owner_id=list-0&status=active&status=error")).toHaveLength(3);
        expect(await filtered("origin_owner_id=list-0&status=inactive")).toEqual([]);
      });

      it("pages with page and page_size (default 25)", async () => {
        const page = async (query: string) =>
          (
            (await admin("GET", `/accounts?origin_owner_ids=list-0&origin_owner_ids=list-1&${query}`))
              .body as unknown as Array<{ id: string }>
          ).map((a) => a.id);
        expect(await page("page_size=2&page=1")).toEqual(ids.slice(0, 2));
        expect(await page("page_size=2&page=2")).toEqual(ids.slice(2, 4));
        expect(await page("page_size=2&page=3")).toEqual(ids.slice(4));
        expect(await page("page_size=2&page=4")).toEqual([]);
        expect(await page("page_size=25")).toEqual(ids);
      });

      it.each([
        ["page_size=0", "page_size must be at least 1"],
        ["page_size=101", "page_size must be at most 100"],
        ["page=0", "page must be at least 1"],
        ["page=abc", "page must be an integer"],
        ["status=bogus", "status[0] must be one of"],
      ])("rejects %s", async (query, message) => {
        const response = await fetch(`${server.url}/accounts?${query}`, {
          headers: { authorization: `Basic ${btoa(`${apiKey}:`)}` },
        });
        expect(
          expectErrorBody(
            { status: response.status, headers: response.headers, body: await response.json() },
            400,
          ),
        ).toContain(message);
      });
    });

    describe("one account", () => {
      it("merges PATCH objects, ignores type and object labels, refuses a provider change", async () => {
        const id = await connectApiKeyAccount(server, apiKey, {
          origin_owner_id: "patch",
          metadata: { a: 1, b: 2 },
          type: "test",
          multiple: true,
        });
        const stackOneStyle = await admin("PATCH", `/accounts/${id}`, {
          metadata: {},
          origin_owner_name: "New Name",
          provider: "ashby",
          type: "production",
          label: {},
          credentials: {},
        });
        expect(stackOneStyle.status).toBe(200);
        expect(stackOneStyle.body).toMatchObject({
          origin_owner_name: "New Name",
          metadata: { a: 1, b: 2 },
          type: "test",
        });
        const merged = await admin("PATCH", `/accounts/${id}`, {
          metadata: { b: null, c: 3 },
          label: "renamed",
        });
        expect(merged.body).toMatchObject({ metadata: { a: 1, c: 3 }, label: "renamed" });
        const credentials = await admin("PATCH", `/accounts/${id}`, { credentials: { api_key: "patched" } });
        expect(credentials.status).toBe(200);
        expect(JSON.stringify(credentials.body)).not.toContain("patched");
        expect((await admin("GET", `/accounts/${id}/credentials`)).body.credentials).toEqual({
          api_key: "patched",
        });
        const moved = await admin("PATCH", `/accounts/${id}`, { provider: "greenhouse" });
        expect(moved.status).toBe(422);
        expect(moved.body.message).toContain("provider cannot change");
        expect((await admin("PATCH", `/accounts/${id}`, { origin_owner_id: 5 })).status).toBe(400);
      });

      it("answers meta and deletes with 200 and the deleted account", async () => {
        const id = await connectApiKeyAccount(server, apiKey, {
          origin_owner_id: "delete-me",
          multiple: true,
        });
        expect((await admin("GET", `/accounts/${id}/meta`)).body).toEqual({
          provider: "ashby",
          category: "ats",
          models: {},
        });
        const deleted = await admin("DELETE", `/accounts/${id}`);
        expect(deleted.status).toBe(200);
        expect(deleted.body).toMatchObject({ id, provider: "ashby" });
        for (const path of [`/accounts/${id}`, `/accounts/${id}/meta`, `/accounts/${id}/credentials`]) {
          const response = await admin("GET", path);
          expect(response.status).toBe(404);
          expect(response.body.message).toBe(`Account ${id} does not exist`);
        }
        expect((await admin("DELETE", `/accounts/${id}`)).status).toBe(404);
      });

      it("hides every account from other projects", async () => {
        const id = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "tenant", multiple: true });
        const otherKey = await server.createApiKey("tenant-other");
        for (const [method, path, body] of [
          ["GET", `/accounts/${id}`],
          ["GET", `/accounts/${id}/meta`],
          ["GET", `/accounts/${id}/credentials`],
          ["PATCH", `/accounts/${id}`, { label: "x" }],
          ["DELETE", `/accounts/${id}`],
        ] as const) {
          const response = await admin(method, path, body, otherKey);
          expect(response.status, `${method} ${path}`).toBe(404);
        }
        expect((await admin("GET", `/accounts?account_ids=${id}`, undefined, otherKey)).body).toEqual([]);
        expect((await admin("GET", `/accounts/${id}`)).status).toBe(200);
      });

      it("works through StackOne's official SDK", async () => {
        const id = await connectApiKeyAccount(server, apiKey, {
          origin_owner_id: "sdk-owner",
          multiple: true,
        });
        const stackone = new StackOne({
          serverURL: server.url,
          security: { username: apiKey, password: "" },
          retryConfig: { strategy: "none" },
        });
        const list = await stackone.accounts.listLinkedAccounts({ originOwnerId: "sdk-owner" });
        expect(list.statusCode).toBe(200);
        expect(list.classes?.map((a) => a.id)).toEqual([id]);
        const got = await stackone.accounts.getAccount({ id });
        expect(got.linkedAccount?.updatedAt).toBeInstanceOf(Date);
        const updated = await stackone.accounts.updateAccount({
          id,
          patchAccountExternalDto: { originOwnerName: "Via SDK" },
        });
        expect(updated.linkedAccount?.originOwnerName).toBe("Via SDK");
        const meta = await stackone.accounts.getAccountMetaInfo({ id });
        expect(meta.linkedAccountMeta?.provider).toBe("ashby");
        const deleted = await stackone.accounts.deleteAccount({ id });
        expect(deleted.statusCode).toBe(200);
        await expect(stackone.accounts.getAccount({ id })).rejects.toBeInstanceOf(NotFoundResponse);
      });
    });

    describe("credentials at rest", () => {
      it.skipIf(dialect !== "sqlite")(
        "stores no credential or client secret in clear in the database file",
        async () => {
          const secretValue = `api-key-${crypto.randomUUID()}`;
          const clientSecret = `client-secret-${crypto.randomUUID()}`;
          await admin("PUT", "/integrations/hubspot", {
            enabled: true,
            client_id: "hub-client",
            client_secret: clientSecret,
          });
          const id = await connectApiKeyAccount(
            server,
            apiKey,
            { origin_owner_id: "raw", multiple: true },
            "ashby",
            { api_key: secretValue },
          );
          expect((await admin("GET", `/accounts/${id}/credentials`)).body.credentials).toEqual({
            api_key: secretValue,
          });
          const raw = Buffer.concat(
            [server.databaseFile, `${server.databaseFile}-wal`].map((file) => {
              try {
                return readFileSync(file);
              } catch {
                return Buffer.alloc(0);
              }
            }),
          );
          expect(raw.includes(Buffer.from("hub-client"))).toBe(true);
          for (const secret of [
            secretValue,
            clientSecret,
            secretValue.slice(8, 30),
            clientSecret.slice(14, 36),
          ]) {
            expect(raw.includes(Buffer.from(secret)), `found ${secret.slice(0, 12)}...`).toBe(false);
          }
        },
      );
    });
  });
}
