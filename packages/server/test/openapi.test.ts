import { validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("API description", () => {
  it("serves a valid OpenAPI 3.1 document generated from the route schemas", async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = await response.json();
    expect(document.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(document));
    expect(result.valid, JSON.stringify(result)).toBe(true);
    const create = document.paths["/connect_sessions"].post;
    expect(create.operationId).toBe("stackone_create_connect_session");
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "429"]));
    const body = create.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["origin_owner_id", "origin_owner_name"]);
    expect(body.properties.categories).toBeDefined();
    expect(document.paths["/connect_sessions/authenticate"].post.operationId).toBe(
      "stackone_authenticate_connect_session",
    );
  });

  it("serves a readable API reference at /docs", async () => {
    const response = await fetch(`${server.url}/docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(await response.text()).toContain("swagger");
  });

  it("answers /healthz", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("sends security headers: the API set on JSON, helmet's full set on HTML", async () => {
    for (const path of ["/healthz", "/nope"]) {
      const json = await fetch(`${server.url}${path}`);
      expect(json.headers.get("content-type")).toMatch(/^application\/json/);
      expect(json.headers.get("x-content-type-options")).toBe("nosniff");
      expect(json.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(json.headers.get("referrer-policy")).toBe("no-referrer");
      expect(json.headers.get("x-frame-options")).toBe("DENY");
      expect(json.headers.get("cache-control")).toBe("no-store");
    }
    const html = await fetch(`${server.url}/connect?token=chs_x`);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = html.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(html.headers.get("x-content-type-options")).toBe("nosniff");
    // The connect page must keep its opener to post the result back to it.
    expect(html.headers.get("cross-origin-opener-policy")).toBe("unsafe-none");
  });
});
