/**
 * One rule on both databases for inputs they would treat differently or badly: a NUL
 * character anywhere answers 400 naming the field (PostgreSQL refuses it in text, SQLite would
 * store it), and JSON deeper than a few dozen levels, or a free-form object larger than its
 * bound, answers 400 instead of being stored (or overflowing the stack).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FREE_FORM_MAX_BYTES, MAX_JSON_DEPTH } from "../src/http/input-guards.js";
import { expectErrorBody, type JsonResponse } from "./support/http.js";
import { adminRequest, connectApiKeyAccount, createSession } from "./support/hub.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";

const NUL = "\u0000";

/** `{"a":{"a":...{}}}`, `levels` objects deep. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`edge input rules on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    let accountId: string;
    const send = async (method: string, path: string, body?: unknown): Promise<JsonResponse> => {
      const response = await adminRequest(server, apiKey, method, path, body);
      return {
        status: response.status,
        headers: new Headers({ "content-type": "application/json" }),
        body: response.body,
      };
    };
    const owner = { origin_owner_id: "o-1", origin_owner_name: "Owner" };

    beforeAll(async () => {
      server = await startTestServer({ dialect, env: { RATE_LIMIT_PER_MINUTE: "100000" } });
      apiKey = await server.createApiKey();
      expect(
        (await send("PUT", "/integrations/ashby", { enabled: true, verify_credentials: false })).status,
      ).toBe(200);
      accountId = await connectApiKeyAccount(server, apiKey);
    });
    afterAll(() => server.close());

    const nulCases: [label: string, method: string, path: () => string, body: unknown, field: string][] = [
      [
        "owner id",
        "POST",
        () => "/connect_sessions",
        { ...owner, origin_owner_id: `a${NUL}b` },
        "origin_owner_id",
      ],
      [
        "owner name",
        "POST",
        () => "/connect_sessions",
        { ...owner, origin_owner_name: `${NUL}` },
        "origin_owner_name",
      ],
      ["label", "POST", () => "/connect_sessions", { ...owner, label: `x${NUL}` }, "label"],
      [
        "a metadata value",
        "POST",
        () => "/connect_sessions",
        { ...owner, metadata: { plan: { tier: `g${NUL}` } } },
        "metadata.plan.tier",
      ],
      [
        "a metadata key",
        "POST",
        () => "/connect_sessions",
        { ...owner, metadata: { [`k${NUL}`]: 1 } },
        "metadata has a key",
      ],
      [
        "an array item",
        "POST",
        () => "/connect_sessions",
        { ...owner, categories: ["hris", `a${NUL}`] },
        "categories[1]",
      ],
      ["an unknown field", "POST", () => "/connect_sessions", { ...owner, extra: `${NUL}` }, "extra"],
      ["a PATCH label", "PATCH", () => `/accounts/${accountId}`, { label: `l${NUL}` }, "label"],
      [
        "a PATCH metadata value",
        "PATCH",
        () => `/accounts/${accountId}`,
        { metadata: { a: NUL } },
        "metadata.a",
      ],
      [
        "a webhook description",
        "POST",
        () => "/webhooks/endpoints",
        { url: "https://example.com/h", description: NUL },
        "description",
      ],
      ["a path id", "GET", () => "/accounts/abc%00def", undefined, "path parameter id"],
      [
        "a query parameter",
        "GET",
        () => "/accounts?origin_owner_id=a%00",
        undefined,
        "query parameter origin_owner_id",
      ],
      [
        "a repeated query parameter",
        "GET",
        () => "/accounts?providers=ashby&providers=%00",
        undefined,
        "query parameter providers",
      ],
      ["an integration path", "PUT", () => "/integrations/ash%00by", { enabled: true }, "path parameter"],
    ];
    for (const [label, method, path, body, field] of nulCases) {
      it(`refuses a NUL in ${label} with 400 naming ${field}`, async () => {
        const message = expectErrorBody(await send(method, path(), body), 400);
        expect(message).toContain(field);
        expect(message).toContain("NUL");
      });
    }

    it("refuses a NUL on the connect page's credential form", async () => {
      const { token } = await createSession(server, apiKey);
      const response = await fetch(`${server.url}/connect/api/credentials`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          origin: new URL(server.config.publicUrl).origin,
          "sec-fetch-site": "same-origin",
        },
        body: JSON.stringify({ provider: "ashby", values: { api_key: `k${NUL}` } }),
      });
      const answer = { status: response.status, headers: response.headers, body: await response.json() };
      expect(expectErrorBody(answer, 400)).toContain("values.api_key");
    });

    it("never lets an attacker's request fail the honest ones committed beside it", async () => {
      const honest = Array.from({ length: 24 }, (_, i) =>
        send("POST", "/connect_sessions", { origin_owner_id: `honest-${i}`, origin_owner_name: "H" }),
      );
      const hostile = Array.from({ length: 6 }, () =>
        send("POST", "/connect_sessions", { origin_owner_id: `evil${NUL}`, origin_owner_name: "E" }),
      );
      const [good, bad] = await Promise.all([Promise.all(honest), Promise.all(hostile)]);
      expect(good.map((response) => response.status)).toEqual(Array(24).fill(201));
      expect(bad.map((response) => response.status)).toEqual(Array(6).fill(400));
    });

    it("stores metadata a few dozen levels deep and refuses deeper, naming the field", async () => {
      const fits = await send("POST", "/connect_sessions", {
        ...owner,
        metadata: nested(MAX_JSON_DEPTH - 1),
      });
      expect(fits.status).toBe(201);
      const deep = await send("POST", "/connect_sessions", { ...owner, metadata: nested(MAX_JSON_DEPTH) });
      expect(expectErrorBody(deep, 400)).toMatch(/^metadata is nested too deeply/);
      const patch = await send("PATCH", `/accounts/${accountId}`, {
        metadata: { a: nested(MAX_JSON_DEPTH) },
      });
      expect(expectErrorBody(patch, 400)).toMatch(/^metadata is nested too deeply/);
    });

    it("answers JSON nested thousands of levels deep with 400, on every body route", async () => {
      const deep = `{"metadata":${"[".repeat(5000)}${"]".repeat(5000)}}`;
      const { token } = await createSession(server, apiKey);
      for (const [method, path, headers] of [
        ["POST", "/connect_sessions", {}],
        ["PATCH", `/accounts/${accountId}`, {}],
        ["PUT", "/integrations/ashby", {}],
        ["POST", "/webhooks/endpoints", {}],
        [
          "POST",
          "/connect/api/credentials",
          { authorization: `Bearer ${token}`, "sec-fetch-site": "same-origin" },
        ],
        [
          "POST",
          "/connect/oauth/start",
          { authorization: `Bearer ${token}`, "sec-fetch-site": "same-origin" },
        ],
      ] as const) {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            authorization: `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}`,
            "content-type": "application/json",
            ...headers,
          },
          body: deep,
        });
        const answer = { status: response.status, headers: response.headers, body: await response.json() };
        expect(expectErrorBody(answer, 400), path).toContain("nested too deeply");
      }
    });

    it("bounds the size of metadata, PATCH merges included", async () => {
      const big = { blob: "x".repeat(FREE_FORM_MAX_BYTES) };
      const create = await send("POST", "/connect_sessions", { ...owner, metadata: big });
      expect(expectErrorBody(create, 400)).toContain(`metadata must be at most ${FREE_FORM_MAX_BYTES} bytes`);
      const half = "y".repeat(FREE_FORM_MAX_BYTES / 2);
      expect((await send("PATCH", `/accounts/${accountId}`, { metadata: { one: half } })).status).toBe(200);
      const merged = await send("PATCH", `/accounts/${accountId}`, { metadata: { two: half } });
      expect(expectErrorBody(merged, 400)).toContain("once merged");
      const account = await send("GET", `/accounts/${accountId}`);
      expect(Object.keys(account.body.metadata as object)).toEqual(["one"]);
    });
  });
}
