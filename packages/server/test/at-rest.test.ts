/**
 * Secrets at rest are authenticated ciphertext bound to their row, on every database: each
 * sealed column holds a value that opens under its own row's context only, a copy moved onto
 * another row does not open (nor shows through the API), and a single flipped bit does not
 * open. Looking for plaintext substrings would pass a mere encoding; these checks do not.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSecretBox } from "../src/crypto/keyring.js";
import { SEALED_COLUMNS } from "../src/crypto/reseal.js";
import { type SecretBox, SecretBoxError } from "../src/crypto/secrets.js";
import { adminRequest, connectApiKeyAccount } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";

/** The sealed value with one bit of its ciphertext flipped (the `v1.<kid>.` prefix kept). */
function flipOneBit(sealed: string, byte: number): string {
  const [version, keyId, payload] = sealed.split(".");
  const data = Buffer.from(payload as string, "base64");
  data[byte % data.length] = (data[byte % data.length] as number) ^ 0x01;
  return `${version}.${keyId}.${data.toString("base64")}`;
}

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`secrets at rest on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    let box: SecretBox;
    const admin = (method: string, path: string, body?: unknown) =>
      adminRequest(server, apiKey, method, path, body);

    beforeAll(async () => {
      server = await startTestServer({ dialect });
      apiKey = await server.createApiKey();
      box = loadSecretBox(server.config, () => {});
      expect(
        (await admin("PUT", "/integrations/ashby", { enabled: true, verify_credentials: false })).status,
      ).toBe(200);
      // Two rows of every sealed column.
      for (const provider of ["hubspot", "asana"]) {
        const put = await admin("PUT", `/integrations/${provider}`, {
          enabled: true,
          client_id: `${provider}-client`,
          client_secret: `${provider}-secret-${crypto.randomUUID()}`,
        });
        expect(put.status).toBe(200);
      }
      for (const owner of ["owner-a", "owner-b"]) {
        await connectApiKeyAccount(server, apiKey, { origin_owner_id: owner }, "ashby", {
          api_key: `${owner}-key-${crypto.randomUUID()}`,
        });
      }
      for (const path of ["/a", "/b"]) {
        const created = await admin("POST", "/webhooks/endpoints", {
          url: `https://hooks.example.com${path}`,
        });
        expect(created.status).toBe(201);
        const rotated = await admin("POST", `/webhooks/endpoints/${created.body.id}/rotate-secret`, {});
        expect(rotated.status).toBe(200);
      }
    });
    afterAll(() => server.close());

    async function sealedRows(table: string, column: string): Promise<Array<{ id: string; sealed: string }>> {
      const rows = (await server.db.kysely
        // biome-ignore lint/suspicious/noExplicitAny: every sealed table, by name.
        .selectFrom(table as any)
        .select(["id", `${column} as sealed`])
        .orderBy("id")
        .execute()) as Array<{ id: string; sealed: string | null }>;
      return rows.filter((row): row is { id: string; sealed: string } => row.sealed !== null);
    }

    for (const { table, column, context } of SEALED_COLUMNS) {
      it(`${table}.${column} opens on its own row only, and not once a bit is flipped`, async () => {
        const rows = await sealedRows(table, column);
        expect(rows.length).toBeGreaterThanOrEqual(2);
        const [first, second] = rows as [{ id: string; sealed: string }, { id: string; sealed: string }];
        expect(first.sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9+/]+=*$/);
        expect(box.open(first.sealed, context(first.id)).length).toBeGreaterThan(0);
        // Moved to another row: authentication fails.
        expect(() => box.open(first.sealed, context(second.id))).toThrow(SecretBoxError);
        // Any flipped bit (IV, tag or ciphertext): authentication fails.
        for (const byte of [0, 12, 28, 40]) {
          expect(() => box.open(flipOneBit(first.sealed, byte), context(first.id))).toThrow(SecretBoxError);
        }
      });
    }

    it("never shows an account the credentials of the row its ciphertext was moved from", async () => {
      const [first, second] = (await sealedRows("linked_accounts", "credentials_sealed")) as [
        { id: string; sealed: string },
        { id: string; sealed: string },
      ];
      const original = (await admin("GET", `/accounts/${first.id}/credentials`)).body.credentials as {
        api_key: string;
      };
      expect(original.api_key).toMatch(/-key-/);
      await server.db.kysely
        .updateTable("linked_accounts")
        .set({ credentials_sealed: first.sealed })
        .where("id", "=", second.id)
        .execute();
      const moved = await admin("GET", `/accounts/${second.id}/credentials`);
      expect(moved.status).not.toBe(200);
      expect(JSON.stringify(moved.body)).not.toContain(original.api_key);

      await server.db.kysely
        .updateTable("linked_accounts")
        .set({ credentials_sealed: flipOneBit(first.sealed, 30) })
        .where("id", "=", first.id)
        .execute();
      const flipped = await admin("GET", `/accounts/${first.id}/credentials`);
      expect(flipped.status).not.toBe(200);
      expect(JSON.stringify(flipped.body)).not.toContain(original.api_key);
    });
  });
}
