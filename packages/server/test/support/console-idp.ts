/**
 * An OpenID Connect provider (oidc-provider) for console sign-in tests, with its development
 * login and consent pages, a confidential client whose redirect URI is the console's callback,
 * and the accounts given (subject -> e-mail claims). `signIn` walks its pages over HTTP the way
 * a browser would (cookies per host, forms posted), from the console's start to its callback.
 */
import { createServer, type Server } from "node:http";
import Provider from "oidc-provider";
import { freePort } from "./server.js";

export interface IdentityClaims {
  email?: string;
  email_verified?: boolean;
}

export interface ConsoleIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export async function startConsoleIdentityProvider(
  redirectUri: string,
  accounts: Record<string, IdentityClaims>,
): Promise<ConsoleIdentityProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = "connect-hub-console";
  const clientSecret = `secret-${crypto.randomUUID()}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    scopes: ["openid", "email", "profile"],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) }),
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    issuer,
    clientId,
    clientSecret,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Cookies per host, as a browser keeps them (paths ignored: each test flow is short). */
export class CookieJar {
  private readonly byHost = new Map<string, Map<string, string>>();

  store(url: string, response: Response): void {
    const host = new URL(url).host;
    const jar = this.byHost.get(host) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = (pair ?? "").indexOf("=");
      const name = (pair ?? "").slice(0, eq);
      const value = (pair ?? "").slice(eq + 1);
      if (/max-age=0/i.test(line) || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    this.byHost.set(host, jar);
  }

  header(url: string): string {
    const jar = this.byHost.get(new URL(url).host);
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join("; ") : "";
  }

  get(url: string, name: string): string | undefined {
    return this.byHost.get(new URL(url).host)?.get(name);
  }
}

/**
 * From `GET /console/oidc/start` to the console callback's answer, logging in as `subject`
 * and consenting. Returns the callback's response (303 with a session, or a refusal page).
 */
export async function signInWithIdentityProvider(
  hubUrl: string,
  subject: string,
  jar = new CookieJar(),
): Promise<Response> {
  let url = `${hubUrl}/console/oidc/start`;
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) },
    });
    jar.store(url, response);
    if (url.startsWith(`${hubUrl}/console/oidc/callback`)) return response;
    const location = response.headers.get("location");
    if (location) {
      url = new URL(location, url).href;
      init = {};
      continue;
    }
    const page = await response.text();
    const action = /action="([^"]+)"/.exec(page)?.[1];
    if (response.status !== 200 || !action)
      throw new Error(`stuck at ${url}: ${response.status} ${page.slice(0, 300)}`);
    const form: Record<string, string> = page.includes('name="login"')
      ? { prompt: "login", login: subject, password: "any" }
      : { prompt: "consent" };
    url = new URL(action, url).href;
    init = {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    };
  }
  throw new Error("the sign-in did not reach the callback");
}
