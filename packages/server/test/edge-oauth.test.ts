/**
 * A callback replayed from another browser must not spoil the real user's connection: the
 * browser binding is checked before the OAuth state is consumed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession } from "./support/hub.js";
import {
  startHubWithIdentityProvider,
  TEST_PROVIDER_KEY,
  type TestIdentityProvider,
} from "./support/identity-provider.js";
import type { TestServer } from "./support/server.js";

/**
 * Walks oidc-provider's development login and consent pages as a browser would (a cookie jar,
 * redirects followed by hand, each form submitted) until it redirects to `callbackPrefix`.
 */
async function authorize(authorizationUrl: string, callbackPrefix: string): Promise<URL> {
  const jar = new Map<string, string>();
  const remember = (response: Response) => {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ""] = cookie.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const cookies = () => [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      method: form ? "POST" : "GET",
      redirect: "manual",
      headers: {
        cookie: cookies(),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(form ? { body: form.toString() } : {}),
    });
    remember(response);
    form = undefined;
    const location = response.headers.get("location");
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(callbackPrefix)) return next;
      url = next.href;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form and no redirect at ${url}: ${response.status}`);
    form = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/<input[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?/g)) {
      form.set(name as string, value ?? (name === "login" ? "jane" : "secret"));
    }
    url = new URL(action, url).href;
  }
  throw new Error("the authorization server never redirected back");
}

describe("a callback replayed from another browser", () => {
  let hub: TestServer;
  let idp: TestIdentityProvider;
  let apiKey: string;
  beforeAll(async () => {
    ({ hub, idp, apiKey } = await startHubWithIdentityProvider());
  });
  afterAll(async () => {
    await hub.close();
    await idp.close();
  });

  it("is refused, and the real browser's callback still completes the connection", async () => {
    const { token } = await createSession(hub, apiKey);
    const started = await fetch(`${hub.url}/connect/oauth/start`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ provider: TEST_PROVIDER_KEY }),
    });
    expect(started.status).toBe(201);
    const realCookie = (started.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const { authorization_url } = (await started.json()) as { authorization_url: string };
    const callback = await authorize(authorization_url, `${hub.url}/connect/oauth/callback`);
    expect(callback.searchParams.get("code")).toBeTruthy();

    const open = async (cookie?: string) => {
      const response = await fetch(callback, { headers: cookie ? { cookie } : {} });
      return { status: response.status, html: await response.text() };
    };
    // Another browser (its own binding cookie, or none) replays the very same callback URL.
    const foreign = await open(`connect_hub_oauth=chb_${"B".repeat(43)}`);
    expect(foreign.status).toBe(400);
    expect(foreign.html).toContain("This authorization was started elsewhere");
    expect((await open()).html).toContain("This authorization was started elsewhere");

    const real = await open(realCookie);
    expect(real.html).toContain("is connected");
    expect(real.status).toBe(200);
    expect(idp.grants.authorization_code).toBe(1);

    // Once used, the state is gone for everyone.
    expect((await open(realCookie)).html).toContain("This authorization has expired");
  });
});
