/** The provider catalog, integrations and project settings over the admin API. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest } from "./support/hub.js";
import { startTestServer, type TestServer } from "./support/server.js";

let server: TestServer;
let apiKey: string;
const admin = (method: string, path: string, body?: unknown, key = apiKey) =>
  adminRequest(server, key, method, path, body);

beforeAll(async () => {
  server = await startTestServer();
  apiKey = await server.createApiKey();
});
afterAll(() => server.close());

describe("integrations", () => {
  it("lists the catalog", async () => {
    const { status, body } = await admin("GET", "/providers");
    expect(status).toBe(200);
    expect(body.length).toBeGreaterThanOrEqual(40);
    expect(body.find((p: Record<string, unknown>) => p.key === "bamboohr")).toMatchObject({
      name: "BambooHR",
      auth_type: "api_key",
      categories: ["hris"],
    });
  });

  it("enables key providers and requires an OAuth client for OAuth2 ones, never returning the secret", async () => {
    expect((await admin("PUT", "/integrations/bamboohr", {})).body).toMatchObject({
      enabled: true,
      ready: true,
    });
    const missing = await admin("PUT", "/integrations/hubspot", { enabled: true });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain("client_id and client_secret");
    const configured = await admin("PUT", "/integrations/hubspot", {
      client_id: "abc",
      client_secret: "very-secret",
      scopes: ["crm.objects.contacts.read"],
    });
    expect(configured.status).toBe(200);
    expect(configured.body).toMatchObject({ client_id: "abc", client_secret_set: true, ready: true });
    expect(JSON.stringify(configured.body)).not.toContain("very-secret");
    const disabled = await admin("PUT", "/integrations/hubspot", { enabled: false });
    expect(disabled.body).toMatchObject({ enabled: false, ready: false, client_secret_set: true });
    const list = await admin("GET", "/integrations");
    expect(list.body.map((i: Record<string, unknown>) => i.provider).sort()).toEqual(["bamboohr", "hubspot"]);
    expect(JSON.stringify(list.body)).not.toContain("very-secret");
  });

  it("refuses OAuth settings on key providers and unknown providers", async () => {
    expect((await admin("PUT", "/integrations/ashby", { client_id: "x" })).status).toBe(400);
    expect((await admin("PUT", "/integrations/nope", {})).status).toBe(404);
    const coerced = await admin("PUT", "/integrations/ashby", { enabled: "true" });
    expect(coerced.status).toBe(400);
    expect(coerced.body.message).toBe("enabled must be a boolean (true or false)");
    expect((await admin("GET", "/integrations/ashby")).status).toBe(404);
  });

  it("removes an integration and keeps it per project", async () => {
    await admin("PUT", "/integrations/greenhouse", {});
    const other = await server.createApiKey("integrations-other");
    expect((await admin("GET", "/integrations/greenhouse", undefined, other)).status).toBe(404);
    expect((await admin("DELETE", "/integrations/greenhouse")).body).toMatchObject({
      provider: "greenhouse",
    });
    expect((await admin("GET", "/integrations/greenhouse")).status).toBe(404);
  });
});

describe("project settings", () => {
  it("keeps exact allowed origins and rejects anything else", async () => {
    const updated = await admin("PATCH", "/project", {
      allowed_origins: ["https://app.example.com", "http://localhost:3000"],
    });
    expect(updated.status).toBe(200);
    expect(updated.body.allowed_origins).toEqual(["https://app.example.com", "http://localhost:3000"]);
    for (const bad of [
      "https://app.example.com/",
      "https://app.example.com/path",
      "*",
      "javascript:alert(1)",
      "app.example.com",
    ]) {
      const response = await admin("PATCH", "/project", { allowed_origins: [bad] });
      expect(response.status, bad).toBe(400);
    }
    expect((await admin("GET", "/project")).body.allowed_origins).toEqual([
      "https://app.example.com",
      "http://localhost:3000",
    ]);
  });

  it("sets frame-ancestors on the connect page from the allowed origins", async () => {
    const session = await admin("POST", "/connect_sessions", {
      origin_owner_id: "c",
      origin_owner_name: "A",
    });
    const page = await fetch(session.body.auth_link_url as string);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors https://app.example.com http://localhost:3000");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("x-frame-options")).toBeNull();
    const html = await page.text();
    expect(html).not.toContain(session.body.token as string);
    expect(html).not.toMatch(/<script>(?!<)/);
    const expired = await fetch(`${server.url}/connect?token=chs_${"x".repeat(43)}`);
    expect(expired.status).toBe(401);
    expect(expired.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await expired.text()).toContain("This link has expired");
  });
});
