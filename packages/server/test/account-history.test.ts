/**
 * GET /accounts?search and GET /accounts/{id}/history on every database. The history's
 * promise is watched at the driver, as test/outbox-atomicity.test.ts watches the outbox: each
 * event's INSERT runs in the transaction of the change it describes, and when that COMMIT is
 * made to fail neither the change nor the event is left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsContext } from "../src/accounts/service.js";
import { loadSecretBox } from "../src/crypto/keyring.js";
import { type DriverProbe, driverProbe } from "./support/driver-probe.js";
import { expectErrorBody } from "./support/http.js";
import { adminRequest, connectApiKeyAccount, createSession, submitCredentials } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";
import { startTokenEndpoint, TOKEN_PROVIDER_KEY, type TokenEndpoint } from "./support/token-endpoint.js";

type Row = Record<string, unknown>;

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`account search and history on ${dialect}`, () => {
    let server: TestServer;
    let tokens: TokenEndpoint;
    let apiKey: string;
    let otherKey: string;
    const probe: DriverProbe = driverProbe();
    const admin = (method: string, path: string, body?: unknown, key = apiKey) =>
      adminRequest(server, key, method, path, body);
    const accounts: Record<string, string> = {};
    const history = async (id: string, query = "") => {
      const response = await admin("GET", `/accounts/${id}/history${query}`);
      expect(response.status).toBe(200);
      return response.body as unknown as Row[];
    };
    /**
     * Makes an account's OAuth2 token expired: impossible to refresh (its provider has no token
     * endpoint), or, `refreshable`, of the token endpoint's provider, which renews it.
     */
    const expireToken = async (id: string, { refreshable = false } = {}) => {
      const box = loadSecretBox(server.config, () => {});
      await server.db.kysely
        .updateTable("linked_accounts")
        .set({
          ...(refreshable ? { provider: TOKEN_PROVIDER_KEY } : {}),
          auth_type: "oauth2",
          credentials_sealed: box.sealJson(
            { access_token: "old", token_type: "Bearer", refresh_token: "refresh-1" },
            credentialsContext(id),
          ),
          credentials_expires_at: "2000-01-01T00:00:00.000Z",
        })
        .where("id", "=", id)
        .execute();
    };
    const expireRefreshableToken = (id: string) => expireToken(id, { refreshable: true });
    const refreshed = async (id: string) => {
      await expireRefreshableToken(id);
      const answer = await admin("GET", `/accounts/${id}/credentials`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    };

    beforeAll(async () => {
      tokens = await startTokenEndpoint();
      server = await startTestServer({
        dialect,
        wrapDriver: probe.wrap,
        env: { PROVIDERS_DIR: tokens.providersDir, OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true" },
      });
      apiKey = await server.createApiKey("history");
      otherKey = await server.createApiKey("history-other");
      for (const key of [apiKey, otherKey]) {
        const put = await admin(
          "PUT",
          "/integrations/ashby",
          { enabled: true, verify_credentials: false },
          key,
        );
        expect(put.status).toBe(200);
      }
      const oauthClient = { client_id: "history-client", client_secret: "history-secret" };
      expect((await admin("PUT", `/integrations/${TOKEN_PROVIDER_KEY}`, oauthClient)).status).toBe(200);
      accounts.acme = await connectApiKeyAccount(server, apiKey, {
        origin_owner_id: "org-ACME-1",
        origin_owner_name: "Acme Corp",
        label: "Payroll",
      });
      accounts.globex = await connectApiKeyAccount(server, apiKey, {
        origin_owner_id: "org-2",
        origin_owner_name: "Globex 100%",
        label: "hr_main",
      });
      accounts.initech = await connectApiKeyAccount(server, apiKey, {
        origin_owner_id: "org-3",
        origin_owner_name: "Initech",
        label: null,
      });
      accounts.foreign = await connectApiKeyAccount(server, otherKey, {
        origin_owner_id: "org-ACME-9",
        origin_owner_name: "Acme Elsewhere",
      });
    });
    afterAll(async () => {
      await server?.close();
      await tokens?.close();
    });

    describe("GET /accounts?search", () => {
      const found = async (query: string, key = apiKey) => {
        const response = await admin("GET", `/accounts?${query}`, undefined, key);
        expect(response.status).toBe(200);
        return (response.body as unknown as Row[]).map((account) => account.id);
      };

      it("matches a substring of the owner id, owner name or label, in either case", async () => {
        expect(await found("search=acme")).toEqual([accounts.acme]);
        expect(await found("search=CORP")).toEqual([accounts.acme]);
        expect(await found("search=payr")).toEqual([accounts.acme]);
        expect(await found("search=org-")).toEqual([accounts.acme, accounts.globex, accounts.initech]);
        expect(await found("search=initech")).toEqual([accounts.initech]);
        expect(await found("search=nobody")).toEqual([]);
      });

      it("takes % and _ literally", async () => {
        expect(await found(`search=${encodeURIComponent("100%")}`)).toEqual([accounts.globex]);
        expect(await found(`search=${encodeURIComponent("%")}`)).toEqual([accounts.globex]);
        expect(await found("search=_")).toEqual([accounts.globex]);
        expect(await found("search=r_m")).toEqual([accounts.globex]);
        expect(await found("search=!")).toEqual([]);
      });

      it("combines with the other filters and pages, and stays in the project", async () => {
        expect(await found("search=org&origin_owner_id=org-2")).toEqual([accounts.globex]);
        expect(await found("search=org&page_size=2&page=2")).toEqual([accounts.initech]);
        expect(await found("search=acme", otherKey)).toEqual([accounts.foreign]);
      });

      it("answers 400 naming the field for an empty or over-long search", async () => {
        for (const [query, message] of [
          ["search=", /^search must not be empty/],
          [`search=${"a".repeat(101)}`, /^search must be at most 100 characters/],
        ] as const) {
          const response = await fetch(`${server.url}/accounts?${query}`, {
            headers: { authorization: basicAuth(apiKey) },
          });
          const body = (await response.json()) as Row;
          expect(expectErrorBody({ status: response.status, headers: response.headers, body }, 400)).toMatch(
            message,
          );
        }
      });
    });

    describe("GET /accounts/{id}/history", () => {
      it("lists created, updated, reauthorized and refresh_failed, newest first, with statuses and reasons", async () => {
        const id = String(accounts.initech);
        expect(
          (await admin("PATCH", `/accounts/${id}`, { label: "Renamed", metadata: { a: 1 } })).status,
        ).toBe(200);
        const { token } = await createSession(server, apiKey, { origin_owner_id: "org-3", account_id: id });
        expect((await submitCredentials(server, token, "ashby", { api_key: "new-key" })).status).toBe(201);
        await expireToken(id);
        expect((await admin("GET", `/accounts/${id}/credentials`)).status).toBe(502);
        // Asking again while it stays in error for the same reason adds nothing.
        expect((await admin("GET", `/accounts/${id}/credentials`)).status).toBe(502);

        const events = await history(id);
        expect(events.map((event) => event.type)).toEqual([
          "refresh_failed",
          "reauthorized",
          "updated",
          "created",
        ]);
        const [failed, reauthorized, updated, created] = events as [Row, Row, Row, Row];
        expect(failed).toMatchObject({
          status_before: "active",
          status_after: "error",
          reason: { code: "refresh_unavailable" },
          details: null,
        });
        expect(reauthorized).toMatchObject({ status_before: "active", status_after: "active", reason: null });
        expect(updated).toMatchObject({ details: { fields: ["label", "metadata"] } });
        expect(created).toMatchObject({ status_before: null, status_after: "active" });
        expect(Number(failed.id)).toBeGreaterThan(Number(created.id));
        expect(Date.parse(String(created.occurred_at))).not.toBeNaN();
        // Never a secret: the history holds names of fields, not their values.
        expect(JSON.stringify(events)).not.toContain("new-key");

        expect((await history(id, "?page_size=3&page=1")).map((e) => e.type)).toHaveLength(3);
        expect((await history(id, "?page_size=3&page=2")).map((e) => e.type)).toEqual(["created"]);
      });

      it("folds a run of routine refreshes into one event that counts them; any other event ends the run", async () => {
        const id = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "org-refreshing" });
        const calls = tokens.calls();
        await refreshed(id);
        const [first] = await history(id);
        await refreshed(id);
        await refreshed(id);
        expect(tokens.calls()).toBe(calls + 3);
        const afterRun = await history(id);
        expect(afterRun.map((event) => event.type)).toEqual(["refreshed", "created"]);
        const [run] = afterRun as [Row];
        expect(run).toMatchObject({
          id: first?.id,
          status_before: "active",
          status_after: "active",
          details: { refreshes: 3, first_refreshed_at: first?.occurred_at },
        });
        expect(Date.parse(String(run.occurred_at))).toBeGreaterThanOrEqual(
          Date.parse(String(first?.occurred_at)),
        );

        // The fold is part of the refresh's transaction: when that commit fails, neither stays.
        let planted: number | undefined;
        probe.reset();
        probe.gateCommits((commit) => {
          if (
            planted === undefined &&
            commit.statements.some((statement) => /^update "account_events"/.test(statement.sql))
          ) {
            planted = commit.transaction;
            throw new Error("the commit failed (planted by the test)");
          }
        });
        try {
          await expireRefreshableToken(id);
          // A commit that fails for no reason the server knows is an internal error.
          expect((await admin("GET", `/accounts/${id}/credentials`)).status).toBe(500);
        } finally {
          probe.gateCommits(undefined);
        }
        expect(planted, "no transaction folded the refresh").toBeDefined();
        const credentialsUpdate = probe
          .matching(/^update "linked_accounts" set "credentials_sealed"/)
          .map((statement) => statement.transaction);
        expect(credentialsUpdate).toContain(planted);
        expect((await history(id))[0]).toMatchObject({ details: { refreshes: 3 } });

        expect((await admin("PATCH", `/accounts/${id}`, { label: "Between runs" })).status).toBe(200);
        await refreshed(id);
        const [next, updated] = (await history(id)) as [Row, Row];
        expect([next.type, updated.type]).toEqual(["refreshed", "updated"]);
        expect(next.details).toMatchObject({ refreshes: 1 });
        expect(Number(next.id)).toBeGreaterThan(Number(updated.id));
      });

      it("is 404 for another project's account and for an unknown one; deleted with the account", async () => {
        const foreign = await admin("GET", `/accounts/${accounts.foreign}/history`);
        expect(foreign.status).toBe(404);
        expect((await admin("GET", "/accounts/acc_nope/history")).status).toBe(404);
        const id = String(accounts.globex);
        expect((await admin("DELETE", `/accounts/${id}`)).status).toBe(200);
        expect((await admin("GET", `/accounts/${id}/history`)).status).toBe(404);
        const left = await server.db.kysely
          .selectFrom("account_events")
          .select("id")
          .where("account_id", "=", id)
          .execute();
        expect(left).toEqual([]);
      });

      it("answers 400 naming the field for bad page values", async () => {
        const response = await fetch(`${server.url}/accounts/${accounts.acme}/history?page_size=0`, {
          headers: { authorization: basicAuth(apiKey) },
        });
        const body = (await response.json()) as Row;
        expect(expectErrorBody({ status: response.status, headers: response.headers, body }, 400)).toMatch(
          /^page_size must be at least 1/,
        );
      });
    });

    describe("each history event is written in the transaction of its change", () => {
      const isHistoryInsert = (sql: string) => /^insert into "account_events"/.test(sql);
      let counter = 0;
      const triggers: Record<string, { change: RegExp; run(): Promise<unknown> }> = {
        created: {
          change: /^insert into "linked_accounts"/,
          run: async () => {
            const { token } = await createSession(server, apiKey, { origin_owner_id: `atomic-${++counter}` });
            return submitCredentials(server, token, "ashby", { api_key: `key-${counter}` });
          },
        },
        updated: {
          change: /^update "linked_accounts"/,
          run: () => admin("PATCH", `/accounts/${accounts.acme}`, { label: `label-${++counter}` }),
        },
        reauthorized: {
          change: /^update "linked_accounts"/,
          run: async () => {
            const session = { origin_owner_id: "org-ACME-1", account_id: accounts.acme };
            const { token } = await createSession(server, apiKey, session);
            return submitCredentials(server, token, "ashby", { api_key: `key-${++counter}` });
          },
        },
        refreshed: {
          change: /^update "linked_accounts" set "credentials_sealed"/,
          run: async () => {
            const id = await connectApiKeyAccount(server, apiKey, {
              origin_owner_id: `renewed-${++counter}`,
            });
            await expireRefreshableToken(id);
            return admin("GET", `/accounts/${id}/credentials`);
          },
        },
        refresh_failed: {
          change: /^update "linked_accounts" set "status"/,
          run: async () => {
            const id = await connectApiKeyAccount(server, apiKey, {
              origin_owner_id: `expiring-${++counter}`,
            });
            await expireToken(id);
            return admin("GET", `/accounts/${id}/credentials`);
          },
        },
      };
      const countEvents = async (type: string) =>
        (await server.db.kysely.selectFrom("account_events").select("id").where("type", "=", type).execute())
          .length;

      for (const [type, trigger] of Object.entries(triggers)) {
        it(`${type}: rolls back with its change, and commits in its change's transaction`, async () => {
          const before = await countEvents(type);
          probe.reset();
          let failed: number | undefined;
          probe.gateCommits((commit) => {
            if (
              failed === undefined &&
              commit.statements.some(
                (statement) => isHistoryInsert(statement.sql) && statement.parameters.includes(type),
              )
            ) {
              failed = commit.transaction;
              throw new Error("the commit failed (planted by the test)");
            }
          });
          try {
            await trigger.run();
          } finally {
            probe.gateCommits(undefined);
          }
          expect(failed, `no transaction wrote a ${type} event`).toBeDefined();
          expect(probe.events).toContain(`rollback ${failed}`);
          expect(await countEvents(type)).toBe(before);
          const changes = probe.matching(trigger.change);
          expect(changes.length).toBeGreaterThan(0);
          for (const change of changes) expect(change.transaction).toBe(failed);

          probe.reset();
          await trigger.run();
          const inserts = probe.statements.filter(
            (statement) => isHistoryInsert(statement.sql) && statement.parameters.includes(type),
          );
          expect(inserts).toHaveLength(1);
          const [insert] = inserts;
          expect(insert?.transaction, `${type} was written outside any transaction`).toBeDefined();
          expect(probe.events).toContain(`commit ${insert?.transaction}`);
          expect(probe.matching(trigger.change).map((change) => change.transaction)).toContain(
            insert?.transaction,
          );
          expect(await countEvents(type)).toBe(before + 1);
        });
      }
    });
  });
}
