/**
 * The connect page never exposes a session's sequential id: `/connect?session=<id>` would let
 * anyone enumerate ids and read each project's allowed origins from `frame-ancestors`. The
 * page keeps an opaque reference (the id sealed with the server key) in its address instead.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest, createSession } from "./support/hub.js";
import { startTestServer, type TestServer } from "./support/server.js";

describe("the connect page's session reference", () => {
  let server: TestServer;
  let apiKey: string;
  const origin = "https://app.customer.example";
  beforeAll(async () => {
    server = await startTestServer();
    apiKey = await server.createApiKey();
    expect(
      (await adminRequest(server, apiKey, "PATCH", "/project", { allowed_origins: [origin] })).status,
    ).toBe(200);
  });
  afterAll(() => server.close());

  const frameAncestors = async (query: string) => {
    const response = await fetch(`${server.url}/connect?${query}`);
    expect(response.status).toBe(200);
    return /frame-ancestors ([^;]*)/.exec(response.headers.get("content-security-policy") ?? "")?.[1];
  };

  it("tells a sequential id nothing, and the page's own reference its origins", async () => {
    const session = await createSession(server, apiKey);
    for (const guess of [session.id, session.id - 1, 1, 2, 3]) {
      expect(await frameAncestors(`session=${guess}`)).toBe("'none'");
    }

    const model = await (
      await fetch(`${server.url}/connect/api/session`, {
        headers: { authorization: `Bearer ${session.token}` },
      })
    ).json();
    expect(model.session).not.toHaveProperty("id");
    expect(JSON.stringify(model.session)).not.toContain(`:${session.id},`);
    const ref = model.session.page_ref as string;
    expect(ref).toMatch(/^v1\./);
    expect(await frameAncestors(`session=${encodeURIComponent(ref)}`)).toBe(origin);

    // A tampered or foreign reference is refused like a guess.
    const tampered = `${ref.slice(0, -4)}AAA=`;
    expect(await frameAncestors(`session=${encodeURIComponent(tampered)}`)).toBe("'none'");
    // Two page loads of one session give different references (fresh nonce), both valid.
    const again = await (
      await fetch(`${server.url}/connect/api/session`, {
        headers: { authorization: `Bearer ${session.token}` },
      })
    ).json();
    expect(again.session.page_ref).not.toBe(ref);
    expect(await frameAncestors(`session=${encodeURIComponent(again.session.page_ref)}`)).toBe(origin);
  });

  it("still serves the page's script the reference, not the id", async () => {
    const script = await (await fetch(`${server.url}/connect/assets/connect.js`)).text();
    expect(script).toContain("model.session.page_ref");
    expect(script).not.toContain("model.session.id");
  });
});
