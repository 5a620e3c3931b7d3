/**
 * Key rotation end to end: values sealed under an old ENCRYPTION_KEY are re-sealed under the
 * new one by `connect-hub secrets reseal`, after which the old key can be dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsContext } from "../src/accounts/service.js";
import { SEALED_COLUMNS } from "../src/crypto/reseal.js";
import { SecretBox } from "../src/crypto/secrets.js";
import { adminRequest, connectApiKeyAccount } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { cli } from "./support/process.js";
import { startTestServer, type TestServer } from "./support/server.js";

const oldKey = Buffer.alloc(32, 3);
const newKey = Buffer.alloc(32, 4);

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`connect-hub secrets reseal on ${dialect}`, () => {
    let server: TestServer;
    let accountId: string;

    beforeAll(async () => {
      server = await startTestServer({
        dialect,
        env: { ENCRYPTION_KEY: `old:${oldKey.toString("base64")}` },
      });
      const apiKey = await server.createApiKey();
      await adminRequest(server, apiKey, "PUT", "/integrations/ashby", { verify_credentials: false });
      await adminRequest(server, apiKey, "PUT", "/integrations/hubspot", {
        client_id: "c",
        client_secret: "s3cret",
      });
      accountId = await connectApiKeyAccount(server, apiKey, { origin_owner_id: "reseal" }, "ashby", {
        api_key: "sealed-under-old",
      });
      const endpoint = await adminRequest(server, apiKey, "POST", "/webhooks/endpoints", {
        url: "https://hooks.example.com/in",
      });
      await adminRequest(server, apiKey, "POST", `/webhooks/endpoints/${endpoint.body.id}/rotate-secret`, {});
    });
    afterAll(() => server.close());

    it("re-seals every value under the new key, so the old key can go", async () => {
      const both = `new:${newKey.toString("base64")},old:${oldKey.toString("base64")}`;
      const run = await cli({ DATABASE_URL: server.databaseUrl, ENCRYPTION_KEY: both }, "secrets", "reseal");
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain("re-sealed 1 values of linked_accounts.credentials_sealed");
      expect(run.stderr).toContain("re-sealed 1 values of integrations.client_secret_sealed");
      expect(run.stderr).toContain("re-sealed 1 values of webhook_endpoints.secret_sealed");
      expect(run.stderr).toContain("re-sealed 1 values of webhook_endpoints.previous_secret_sealed");

      for (const { table, column } of SEALED_COLUMNS) {
        const values = await server.db.kysely
          .selectFrom(table)
          .select(column as never)
          .execute();
        for (const row of values as Array<Record<string, string | null>>) {
          const value = row[column];
          if (value !== null && value !== undefined) expect(value.startsWith("v1.new.")).toBe(true);
        }
      }
      const onlyNew = new SecretBox([{ id: "new", key: newKey }]);
      const account = await server.db.kysely
        .selectFrom("linked_accounts")
        .select("credentials_sealed")
        .where("id", "=", accountId)
        .executeTakeFirstOrThrow();
      expect(onlyNew.openJson(account.credentials_sealed, credentialsContext(accountId))).toEqual({
        api_key: "sealed-under-old",
      });

      const again = await cli(
        { DATABASE_URL: server.databaseUrl, ENCRYPTION_KEY: both },
        "secrets",
        "reseal",
      );
      expect(again.stderr).toContain("re-sealed 0 values of linked_accounts.credentials_sealed");
    });
  });
}

describe("the list of sealed columns", () => {
  it("names every sealed column but the ten-minute OAuth verifiers", async () => {
    const server = await startTestServer();
    try {
      const sealed = (await server.db.kysely.introspection.getTables())
        .flatMap((table) => table.columns.map((column) => `${table.name}.${column.name}`))
        .filter((name) => name.endsWith("_sealed") && name !== "oauth_states.code_verifier_sealed");
      expect(SEALED_COLUMNS.map(({ table, column }) => `${table}.${column}`).sort()).toEqual(sealed.sort());
    } finally {
      await server.close();
    }
  });
});
