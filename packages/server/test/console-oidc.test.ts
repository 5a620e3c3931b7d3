/**
 * Console sign-in with OpenID Connect against a real oidc-provider: the allow-list (domain,
 * exact e-mail, subject; verified e-mails only), the session it opens, refusals, and the
 * configuration that refuses an issuer without an allow-list.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { cookiePair } from "./support/console.js";
import {
  type ConsoleIdentityProvider,
  signInWithIdentityProvider,
  startConsoleIdentityProvider,
} from "./support/console-idp.js";
import { freePort, startTestServer, type TestServer } from "./support/server.js";

let idp: ConsoleIdentityProvider;
let hub: TestServer;

beforeAll(async () => {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  idp = await startConsoleIdentityProvider(`${publicUrl}/console/oidc/callback`, {
    alice: { email: "Alice@Example.com", email_verified: true },
    bob: { email: "bob@partner.example", email_verified: false },
    dave: { email: "dave@partner.example", email_verified: true },
    "1234": {},
    mallory: { email: "mallory@evil.example", email_verified: true },
  });
  hub = await startTestServer({
    port,
    env: {
      PUBLIC_URL: publicUrl,
      CONSOLE_OIDC_ISSUER: idp.issuer,
      CONSOLE_OIDC_CLIENT_ID: idp.clientId,
      CONSOLE_OIDC_CLIENT_SECRET: idp.clientSecret,
      CONSOLE_OIDC_ALLOW: "admin:@example.com,viewer:@partner.example,admin:sub:1234",
      CONSOLE_OIDC_NAME: "Sign in with Test IdP",
    },
  });
});
afterAll(async () => {
  await hub?.close();
  await idp?.close();
});

const sessionOf = async (response: Response) => {
  const cookie = cookiePair(response);
  const answer = await fetch(`${hub.url}/console/session`, { headers: { cookie } });
  return (await answer.json()) as Record<string, unknown>;
};

describe("console sign-in with OpenID Connect", () => {
  it("tells the sign-in page about the button", async () => {
    expect(await (await fetch(`${hub.url}/console/config`)).json()).toEqual({
      oidc: { enabled: true, name: "Sign in with Test IdP" },
    });
  });

  it("starts with PKCE S256, state and nonce, bound to the browser by a Lax cookie", async () => {
    const start = await fetch(`${hub.url}/console/oidc/start`, { redirect: "manual" });
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get("location") as string);
    expect(location.origin).toBe(idp.issuer);
    expect(location.searchParams.get("code_challenge_method")).toBe("S256");
    for (const name of ["code_challenge", "state", "nonce"])
      expect(location.searchParams.get(name)).toBeTruthy();
    expect(location.searchParams.get("redirect_uri")).toBe(`${hub.config.publicUrl}/console/oidc/callback`);
    expect(start.headers.getSetCookie().join()).toMatch(
      /^connect_hub_console_oidc=[^;]+; Max-Age=600; Path=\/console\/oidc; HttpOnly; SameSite=Lax$/,
    );
  });

  it("opens an all-projects admin session for a verified e-mail of an allowed domain", async () => {
    const callback = await signInWithIdentityProvider(hub.url, "alice");
    expect(callback.status).toBe(303);
    expect(callback.headers.get("location")).toBe("/console/");
    expect(await sessionOf(callback)).toMatchObject({
      operator: { email: "Alice@Example.com", subject: "alice", method: "oidc" },
      role: "admin",
      project: null,
    });
  });

  it("maps a subject and a partner domain to their roles", async () => {
    expect(await sessionOf(await signInWithIdentityProvider(hub.url, "1234"))).toMatchObject({
      operator: { subject: "1234", method: "oidc" },
      role: "admin",
    });
    expect(await sessionOf(await signInWithIdentityProvider(hub.url, "dave"))).toMatchObject({
      role: "viewer",
    });
  });

  it("refuses an unverified e-mail and an identity not on the list, with a page and no session", async () => {
    for (const [subject, reason] of [
      ["bob", "bob@partner.example (e-mail not verified) is not on the console allow-list of this server"],
      ["mallory", "mallory@evil.example is not on the console allow-list of this server"],
    ] as const) {
      const refused = await signInWithIdentityProvider(hub.url, subject);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toContain("text/html");
      expect(await refused.text()).toContain(reason);
      expect(refused.headers.getSetCookie().join()).not.toContain("connect_hub_console=");
    }
  });

  it("refuses a callback without the browser's state cookie, or with a forged state", async () => {
    const noCookie = await fetch(`${hub.url}/console/oidc/callback?code=x&state=y`);
    expect(noCookie.status).toBe(401);
    expect(await noCookie.text()).toContain("began in another browser");
    const start = await fetch(`${hub.url}/console/oidc/start`, { redirect: "manual" });
    const cookie = (start.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
    const forged = await fetch(
      `${hub.url}/console/oidc/callback?code=x&state=forged&iss=${encodeURIComponent(idp.issuer)}`,
      {
        headers: { cookie },
      },
    );
    expect(forged.status).toBe(401);
    expect(await forged.text()).toContain("did not confirm the sign-in");
  });
});

describe("console OIDC configuration", () => {
  const base = {
    CONSOLE_OIDC_ISSUER: "https://login.example.com",
    CONSOLE_OIDC_CLIENT_ID: "id",
    CONSOLE_OIDC_CLIENT_SECRET: "secret",
  };
  it("refuses an issuer without an allow-list, a bad entry, or plain http off loopback", () => {
    expect(() => loadConfig(base)).toThrow(/CONSOLE_OIDC_ALLOW is not/);
    expect(() => loadConfig({ ...base, CONSOLE_OIDC_ALLOW: "owner:@example.com" })).toThrow(
      /CONSOLE_OIDC_ALLOW: "owner:@example.com"/,
    );
    expect(() =>
      loadConfig({
        ...base,
        CONSOLE_OIDC_ISSUER: "http://login.example.com",
        CONSOLE_OIDC_ALLOW: "admin:@example.com",
      }),
    ).toThrow(/must be https/);
    expect(() =>
      loadConfig({ CONSOLE_OIDC_ISSUER: "https://login.example.com", CONSOLE_OIDC_ALLOW: "admin:@x.com" }),
    ).toThrow(/CONSOLE_OIDC_CLIENT_ID/);
    expect(
      loadConfig({ ...base, CONSOLE_OIDC_ALLOW: "admin:@example.com, viewer:sub:42" }).console.oidc?.allow,
    ).toEqual([
      { role: "admin", kind: "domain", value: "example.com" },
      { role: "viewer", kind: "subject", value: "42" },
    ]);
  });

  it("the sign-in page hides the button without an issuer", async () => {
    const plain = await startTestServer();
    try {
      expect(await (await fetch(`${plain.url}/console/config`)).json()).toEqual({ oidc: { enabled: false } });
      expect((await fetch(`${plain.url}/console/oidc/start`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
