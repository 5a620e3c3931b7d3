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

  it("sends security headers", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
