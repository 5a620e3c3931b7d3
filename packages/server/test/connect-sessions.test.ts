import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../src/crypto/tokens.js";
import { expectErrorBody, postJson } from "./support/http.js";
import { adminRequest } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";

// The whole API, over real HTTP, on every database: SQLite always, PostgreSQL when reachable.
for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`connect sessions API on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    /** How far the server's clock runs ahead: expiry is tested by moving it, not by waiting. */
    let offsetMs = 0;
    const create = (body: unknown, key = apiKey, headers?: Record<string, string>) =>
      postJson(`${server.url}/connect_sessions`, body, { apiKey: key, ...(headers ? { headers } : {}) });
    const authenticate = (token: unknown, key = apiKey) =>
      postJson(`${server.url}/connect_sessions/authenticate`, { token }, { apiKey: key });

    beforeAll(async () => {
      server = await startTestServer({ dialect, clock: () => new Date(Date.now() + offsetMs) });
      apiKey = await server.createApiKey();
      // A session may name only a provider the project offers.
      await adminRequest(server, apiKey, "PUT", "/integrations/bamboohr", { verify_credentials: false });
    });
    afterAll(() => server.close());

    const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

    describe("POST /connect_sessions", () => {
      it("creates a session with every field round-tripped", async () => {
        const request = {
          origin_owner_id: "cust-123",
          origin_owner_name: "Acme Inc",
          origin_username: "jane@acme.test",
          provider: "bamboohr",
          provider_version: "1.0.0",
          categories: ["hris", "ats", "scheduling"],
          account_id: "acc_1",
          expires_in: 3600,
          metadata: { plan: "gold", nested: { seats: 12 }, tags: ["a"] },
          multiple: true,
          label: "primary",
          type: "test",
          integration_id: "int_1",
        };
        const before = Date.now();
        const response = await create(request);
        expect(response.status).toBe(201);
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        const body = response.body;
        const { expires_in: _lifetime, ...echoed } = request;
        expect(body).toMatchObject({ ...echoed, organization_id: expect.any(String), status: "pending" });
        expect(body.id).toEqual(expect.any(Number));
        expect(Number.isInteger(body.id)).toBe(true);
        expect(body.project_id).toMatch(/^proj_/);
        expect(body.created_at).toMatch(ISO_Z);
        expect(body.expires_at).toMatch(ISO_Z);
        const lifetime = Date.parse(body.expires_at as string) - Date.parse(body.created_at as string);
        expect(lifetime).toBe(3600 * 1000);
        expect(Date.parse(body.created_at as string)).toBeGreaterThanOrEqual(before - 5);
        expect(body.token).toMatch(/^chs_[A-Za-z0-9_-]{43}$/);
        expect(body.auth_link_url).toBe(`${server.config.publicUrl}/connect?token=${body.token}`);
        expect(body.external_trigger_token).toBeNull();
      });

      it("keeps API-key creates out of the audit log (they are listed as sessions)", async () => {
        const body = { origin_owner_id: "cust-audit", origin_owner_name: "Audited" };
        const created = await create(body, apiKey, { "idempotency-key": `audit-${crypto.randomUUID()}` });
        const plain = await create(body);
        for (const response of [created, plain]) {
          expect(response.status).toBe(201);
          const events = await adminRequest(
            server,
            apiKey,
            "GET",
            `/audit_events?action=connect_session.created&target_id=${response.body.id}`,
          );
          expect(events.status).toBe(200);
          expect(events.body).toEqual([]);
          const listed = await adminRequest(server, apiKey, "GET", `/connect_sessions/${response.body.id}`);
          expect(listed.body).toMatchObject({ id: response.body.id, origin_owner_id: "cust-audit" });
        }
      });

      it("applies the contract's defaults and nulls", async () => {
        const response = await create({ origin_owner_id: "cust-1", origin_owner_name: "Acme" });
        expect(response.status).toBe(201);
        const body = response.body;
        expect(body).toMatchObject({
          categories: null,
          provider: null,
          origin_username: null,
          account_id: null,
          label: null,
          metadata: null,
          integration_id: null,
          multiple: false,
          type: "production",
        });
        expect(Date.parse(body.expires_at as string) - Date.parse(body.created_at as string)).toBe(
          1800 * 1000,
        );
      });

      it("accepts explicit nulls on optional fields and ignores unknown fields", async () => {
        const response = await create({
          origin_owner_id: "cust-1",
          origin_owner_name: "Acme",
          expires_in: null,
          multiple: null,
          type: null,
          metadata: null,
          categories: null,
          shared: true,
          relink: false,
          connector_profile_id: "cp_1",
        });
        expect(response.status).toBe(201);
        expect(response.body).toMatchObject({ type: "production", multiple: false });
        expect(response.body).not.toHaveProperty("shared");
      });

      it("accepts StackOne's 4.28.0 body verbatim", async () => {
        const response = await create({
          expires_in: 1800,
          metadata: {},
          multiple: false,
          origin_owner_id: "o1",
          origin_owner_name: "Acme",
          type: "production",
        });
        expect(response.status).toBe(201);
        expect(response.body.metadata).toEqual({});
      });

      it.each([
        [{ origin_owner_name: "Acme" }, "origin_owner_id is required"],
        [{ origin_owner_id: "c" }, "origin_owner_name is required"],
        [{ origin_owner_id: "", origin_owner_name: "Acme" }, "origin_owner_id must not be empty"],
        [{ origin_owner_id: "   ", origin_owner_name: "Acme" }, "origin_owner_id must not be blank"],
        [{ origin_owner_id: "c", origin_owner_name: "" }, "origin_owner_name must not be empty"],
        [{ origin_owner_id: 17, origin_owner_name: "Acme" }, "origin_owner_id must be a string"],
        [{ origin_owner_id: "c", origin_owner_name: "A", expires_in: 0 }, "expires_in must be at least 1"],
        [{ origin_owner_id: "c", origin_owner_name: "A", expires_in: -5 }, "expires_in must be at least 1"],
        [
          { origin_owner_id: "c", origin_owner_name: "A", expires_in: 2592001 },
          "expires_in must be at most 2592000",
        ],
        [
          { origin_owner_id: "c", origin_owner_name: "A", expires_in: 1.5 },
          "expires_in must be an integer or null",
        ],
        [
          { origin_owner_id: "c", origin_owner_name: "A", expires_in: "60" },
          "expires_in must be an integer or null",
        ],
        [
          { origin_owner_id: "c", origin_owner_name: "A", categories: ["hris", "nope"] },
          "categories[1] must be one of",
        ],
        [
          { origin_owner_id: "c", origin_owner_name: "A", categories: "hris" },
          "categories must be an array or null",
        ],
        [
          { origin_owner_id: "c", origin_owner_name: "A", type: "staging" },
          "type must be one of: production, test",
        ],
        [{ origin_owner_id: "c", origin_owner_name: "A", multiple: "yes" }, "multiple must be a boolean"],
        [
          { origin_owner_id: "c", origin_owner_name: "A", metadata: [1] },
          "metadata must be a JSON object or null",
        ],
        [
          { origin_owner_id: "c", origin_owner_name: "A", metadata: "x" },
          "metadata must be a JSON object or null",
        ],
        [{ origin_owner_id: "c", origin_owner_name: "A", label: 5 }, "label must be a string or null"],
        [
          { origin_owner_id: "c", origin_owner_name: "A", provider: false },
          "provider must be a string or null",
        ],
        [
          { origin_owner_id: "c".repeat(256), origin_owner_name: "A" },
          "origin_owner_id must be at most 255 characters",
        ],
        [[1, 2], "Request body must be a JSON object"],
        ["null", "Request body must be a JSON object"],
      ])("rejects %j with a message that says what to fix", async (body, message) => {
        const response = await create(body);
        expect(expectErrorBody(response, 400)).toContain(message);
      });

      it("keeps __proto__ and constructor keys from polluting anything", async () => {
        const poisoned =
          '{"origin_owner_id":"c","origin_owner_name":"A","metadata":{"__proto__":{"polluted":true}}}';
        const response = await create(poisoned);
        expect(expectErrorBody(response, 400)).toContain("__proto__");
        const constructorPoisoned =
          '{"origin_owner_id":"c","origin_owner_name":"A","constructor":{"prototype":{"x":1}}}';
        expect(expectErrorBody(await create(constructorPoisoned), 400)).toContain("forbidden key");
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      });
    });

    describe("errors outside validation", () => {
      it("answers malformed JSON with 400", async () => {
        expect(expectErrorBody(await create("{not json"), 400)).toContain("not valid JSON");
      });

      it("answers an empty JSON body with 400", async () => {
        const response = await fetch(`${server.url}/connect_sessions`, {
          method: "POST",
          headers: { authorization: `Basic ${btoa(`${apiKey}:`)}`, "content-type": "application/json" },
        });
        expect(
          expectErrorBody(
            { status: response.status, headers: response.headers, body: await response.json() },
            400,
          ),
        ).toContain("empty");
      });

      it("answers a body over the documented limit with 413", async () => {
        const big = { origin_owner_id: "c", origin_owner_name: "A", metadata: { blob: "x".repeat(70_000) } };
        expect(expectErrorBody(await create(big), 413)).toContain("65536 bytes");
      });

      it.each(["text/plain", "application/x-www-form-urlencoded", "application/xml"])(
        "answers content type %s with 415",
        async (contentType) => {
          const response = await create("origin_owner_id=c", apiKey, { "content-type": contentType });
          expect(expectErrorBody(response, 415)).toContain("application/json");
        },
      );

      it.each([
        ["GET", "/nope"],
        ["POST", "/connect_session"],
        ["DELETE", "/connect_sessions"],
      ])("answers %s %s with 404 in the error envelope", async (method, path) => {
        const response = await fetch(`${server.url}${path}`, { method });
        const message = expectErrorBody(
          { status: response.status, headers: response.headers, body: await response.json() },
          404,
        );
        expect(message).toBe(`Route ${method} ${path} does not exist`);
      });
    });

    describe("authentication", () => {
      it.each([
        ["no header", {}],
        ["a wrong key", { authorization: `Basic ${btoa("chk_wrong:")}` }],
        ["a key without the prefix", { authorization: `Basic ${btoa("sk_live_123:")}` }],
        ["another scheme", { authorization: "Digest abc" }],
        ["garbage base64", { authorization: "Basic !!!" }],
      ])("answers %s with 401", async (_name, headers) => {
        const response = await postJson(
          `${server.url}/connect_sessions`,
          { origin_owner_id: "c", origin_owner_name: "A" },
          { headers },
        );
        expect(expectErrorBody(response, 401)).toMatch(/^Unauthorized/);
      });

      it("checks the key before the body", async () => {
        const response = await postJson(`${server.url}/connect_sessions`, "{bad", { headers: {} });
        expectErrorBody(response, 401);
      });

      it("accepts the key as a Bearer token too", async () => {
        const response = await postJson(
          `${server.url}/connect_sessions`,
          { origin_owner_id: "c", origin_owner_name: "A" },
          { headers: { authorization: `Bearer ${apiKey}` } },
        );
        expect(response.status).toBe(201);
      });
    });

    describe("POST /connect_sessions/authenticate", () => {
      it("returns the session without token or auth link", async () => {
        const created = await create({
          origin_owner_id: "cust-9",
          origin_owner_name: "Nine",
          label: "l",
          metadata: { k: 1 },
        });
        const response = await authenticate(created.body.token);
        expect(response.status).toBe(201);
        const { token: _token, auth_link_url: _link, ...session } = created.body;
        expect(response.body).toEqual(session);
        expect(response.body).not.toHaveProperty("token");
        expect(response.body).not.toHaveProperty("auth_link_url");
      });

      it("keeps the token valid for repeated use until it expires", async () => {
        const created = await create({ origin_owner_id: "c", origin_owner_name: "A" });
        for (let i = 0; i < 3; i++) expect((await authenticate(created.body.token)).status).toBe(201);
      });

      it("answers unknown, malformed and expired tokens alike with 401", async () => {
        const shortLived = await create({ origin_owner_id: "c", origin_owner_name: "A", expires_in: 1 });
        expect((await authenticate(shortLived.body.token)).status).toBe(201);
        offsetMs += 1001;
        const expired = await authenticate(shortLived.body.token);
        const unknown = await authenticate(`chs_${"A".repeat(43)}`);
        const malformed = await authenticate("bogus");
        const messages = [expired, unknown, malformed].map((r) => expectErrorBody(r, 401));
        expect(new Set(messages).size).toBe(1);
      });

      it("still accepts a token stored under its plain hash (issued before time-ordered keys), on the API and the page", async () => {
        const created = await create({ origin_owner_id: "cust-upgrade", origin_owner_name: "Upgraded" });
        expect(created.body.token).toMatch(/^chs_[A-Za-z0-9_-]{43}$/);
        // What an earlier version stored: a wholly random token, under the SHA-256 alone.
        const earlier = `chs_${randomBytes(32).toString("base64url")}`;
        await server.db.kysely
          .updateTable("connect_sessions")
          .set({ token_hash: hashToken(earlier) })
          .where("id", "=", created.body.id as number)
          .execute();
        const found = await authenticate(earlier);
        expect(found.status).toBe(201);
        expect(found.body.id).toBe(created.body.id);
        const page = await fetch(`${server.url}/connect/api/session`, {
          headers: { authorization: `Bearer ${earlier}` },
        });
        expect(page.status).toBe(200);
        expect((await authenticate(created.body.token)).status).toBe(401);
      });

      it("rejects a missing or empty token with 400", async () => {
        expect(
          expectErrorBody(await postJson(`${server.url}/connect_sessions/authenticate`, {}, { apiKey }), 400),
        ).toBe("token is required");
        expect(expectErrorBody(await authenticate(""), 400)).toBe("token must not be empty");
        expect(expectErrorBody(await authenticate(42), 400)).toBe("token must be a string");
      });
    });

    describe("tenancy", () => {
      it("hides another project's sessions behind the same 401", async () => {
        const otherKey = await server.createApiKey("other-project");
        const thirdKey = await server.createApiKey("default", "another-org");
        const mine = await create({ origin_owner_id: "c", origin_owner_name: "A" });
        const unknown = expectErrorBody(await authenticate(`chs_${"B".repeat(43)}`), 401);
        for (const key of [otherKey, thirdKey]) {
          expect(expectErrorBody(await authenticate(mine.body.token, key), 401)).toBe(unknown);
        }
        const theirs = await create({ origin_owner_id: "c", origin_owner_name: "A" }, otherKey);
        expect(theirs.body.project_id).not.toBe(mine.body.project_id);
        expect((await authenticate(theirs.body.token, otherKey)).status).toBe(201);
        expect((await authenticate(theirs.body.token)).status).toBe(401);
      });

      it("gives each organization its own organization_id", async () => {
        const otherOrgKey = await server.createApiKey("p", "org-two");
        const a = await create({ origin_owner_id: "c", origin_owner_name: "A" });
        const b = await create({ origin_owner_id: "c", origin_owner_name: "A" }, otherOrgKey);
        expect(a.body.organization_id).not.toBe(b.body.organization_id);
        expect(a.body.organization_id).toMatch(/^\d+$/);
      });
    });

    describe("idempotency", () => {
      const body = { origin_owner_id: "idem", origin_owner_name: "Idem Inc" };

      it("replays the first response for the same key and body", async () => {
        const key = `key-${crypto.randomUUID()}`;
        const first = await create(body, apiKey, { "idempotency-key": key });
        const again = await create({ origin_owner_name: "Idem Inc", origin_owner_id: "idem" }, apiKey, {
          "idempotency-key": key,
        });
        expect(first.status).toBe(201);
        expect(again.status).toBe(201);
        expect(again.body).toEqual(first.body);
        expect(again.headers.get("idempotent-replayed")).toBe("true");
        expect((await authenticate(again.body.token)).status).toBe(201);
      });

      it("creates exactly one session for concurrent duplicates", async () => {
        const key = crypto.randomUUID();
        const ownerId = `race-${key}`;
        const responses = await Promise.all(
          Array.from({ length: 8 }, () =>
            create({ ...body, origin_owner_id: ownerId }, apiKey, { "idempotency-key": key }),
          ),
        );
        expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
        expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
        const stored = await server.db.kysely
          .selectFrom("connect_sessions")
          .select("id")
          .where("origin_owner_id", "=", ownerId)
          .execute();
        expect(stored).toHaveLength(1);
      });

      it("refuses the same key with another body (422)", async () => {
        const key = crypto.randomUUID();
        await create(body, apiKey, { "idempotency-key": key });
        const other = await create({ ...body, label: "different" }, apiKey, { "idempotency-key": key });
        expect(expectErrorBody(other, 422)).toContain("different request");
      });

      it("scopes keys by project", async () => {
        const key = crypto.randomUUID();
        const otherKey = await server.createApiKey("idem-other");
        const mine = await create(body, apiKey, { "idempotency-key": key });
        const theirs = await create(body, otherKey, { "idempotency-key": key });
        expect(theirs.status).toBe(201);
        expect(theirs.body.id).not.toBe(mine.body.id);
      });

      it("rejects a malformed key", async () => {
        expect(
          expectErrorBody(await create(body, apiKey, { "idempotency-key": "has space" }), 400),
        ).toContain("Idempotency-Key");
      });
    });

    describe("secrets at rest", () => {
      // On PostgreSQL the same holds by the same code; the file check is SQLite's.
      it.skipIf(dialect !== "sqlite")(
        "keeps no usable token, API key or idempotency key in the database file",
        async () => {
          const key = await server.createApiKey("raw-search");
          const idempotencyKey = `idem-${crypto.randomUUID()}`;
          const created = await create({ origin_owner_id: "raw", origin_owner_name: "Raw" }, key, {
            "idempotency-key": idempotencyKey,
          });
          const token = created.body.token as string;
          await server.db.kysely.selectFrom("connect_sessions").select("id").execute();
          const files = [server.databaseFile, `${server.databaseFile}-wal`].map((file) => {
            try {
              return readFileSync(file);
            } catch {
              return Buffer.alloc(0);
            }
          });
          const raw = Buffer.concat(files);
          expect(raw.length).toBeGreaterThan(0);
          expect(raw.includes(Buffer.from("raw-search"))).toBe(true);
          for (const secret of [token, token.slice(4), key, key.slice(4), idempotencyKey]) {
            expect(raw.includes(Buffer.from(secret)), `found ${secret.slice(0, 8)}... in the file`).toBe(
              false,
            );
            expect(raw.includes(Buffer.from(secret.slice(8, 28))), "found a fragment of a secret").toBe(
              false,
            );
          }
        },
      );
    });
  });
}
