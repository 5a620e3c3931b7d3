import type { IncomingMessage, ServerResponse } from "node:http";
import { validate } from "@readme/openapi-parser";
import helmet from "helmet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

/** What helmet sets with its defaults, captured from one run of its middleware. */
function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader() {},
  };
  helmet()({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

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

    // Every header helmet sets by default is there, from helmet itself (not a list kept here),
    // with helmet's value unless the page needs its own: its CSP, its opener policy, no
    // referrer (SECURITY.md), HSTS over https only, and no X-Frame-Options on the embeddable
    // page (its CSP frame-ancestors names the allowed origins).
    const own = new Set(["content-security-policy", "cross-origin-opener-policy", "referrer-policy"]);
    const helmetDefaults = helmetHeaders();
    expect(Object.keys(helmetDefaults).length).toBeGreaterThanOrEqual(12);
    for (const [name, value] of Object.entries(helmetDefaults)) {
      if (name === "strict-transport-security" || name === "x-frame-options") continue;
      expect(html.headers.has(name), `${name} missing on the connect page`).toBe(true);
      if (!own.has(name)) expect(html.headers.get(name), name).toBe(value);
    }
    expect(html.headers.get("referrer-policy")).toBe("no-referrer");
    expect(html.headers.has("strict-transport-security")).toBe(false);
    const docs = await fetch(`${server.url}/docs/`);
    expect(docs.headers.get("content-type")).toContain("text/html");
    for (const [name, value] of Object.entries(helmetDefaults)) {
      if (name === "strict-transport-security") continue;
      expect(docs.headers.has(name), `${name} missing on /docs`).toBe(true);
      if (!own.has(name))
        expect(docs.headers.get(name), name).toBe(value === "SAMEORIGIN" ? docs.headers.get(name) : value);
    }
  });
});
