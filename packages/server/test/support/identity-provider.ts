/**
 * A real OAuth 2.0 / OpenID Connect authorization server (panva's oidc-provider) on a free
 * loopback port, with its development login and consent pages, one confidential client for
 * Connect Hub, short-lived access tokens and refresh tokens. Also writes an operator provider
 * folder that declares it to Connect Hub's catalog, and can start a Connect Hub wired to it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import Provider from "oidc-provider";
import type { Clock } from "../../src/time.js";
import { adminRequest } from "./hub.js";
import { freePort, startTestServer, type TestServer } from "./server.js";

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** An operator PROVIDERS_DIR declaring the provider as `test-idp`. */
  providersDir: string;
  /** Grants seen at the token endpoint, by grant type. */
  grants: { authorization_code: number; refresh_token: number };
  close(): Promise<void>;
}

export const TEST_PROVIDER_KEY = "test-idp";

export interface IdentityProviderExtras {
  /** Fields added to every token response beside the tokens (Salesforce's `instance_url`). */
  tokenFields?: Record<string, string>;
  /** Query parameters added to the redirect back to Connect Hub (QuickBooks' `realmId`). */
  callbackParams?: Record<string, string>;
  /** Told every access token issued, so a simulated API can accept exactly those. */
  onAccessToken?: (token: string) => void;
  /** Merged into the `test-idp` provider file (`api`, `connectionMetadata`). */
  providerFile?: Record<string, unknown>;
}

export async function startIdentityProvider(
  options: {
    redirectUri: string;
    accessTokenTtlSeconds?: number;
  } & IdentityProviderExtras,
): Promise<TestIdentityProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = "connect-hub";
  const clientSecret = `secret-${crypto.randomUUID()}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    scopes: ["openid", "offline_access", "profile"],
    issueRefreshToken: async () => true,
    ttl: { AccessToken: options.accessTokenTtlSeconds ?? 3600 },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  });
  const grants = { authorization_code: 0, refresh_token: 0 };
  provider.on("grant.success", (ctx) => {
    const grantType = (ctx.oidc.params as { grant_type?: string } | undefined)?.grant_type;
    if (grantType === "authorization_code" || grantType === "refresh_token") grants[grantType] += 1;
  });
  // Koa middleware around oidc-provider's own: extra token fields and callback parameters.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path === "/token" && ctx.status === 200 && body && typeof body.access_token === "string") {
      options.onAccessToken?.(body.access_token);
      if (options.tokenFields) ctx.body = { ...body, ...options.tokenFields };
    }
    const location = String(ctx.response.get("location") ?? "");
    if (options.callbackParams && location.startsWith(options.redirectUri)) {
      const url = new URL(location);
      for (const [name, value] of Object.entries(options.callbackParams)) url.searchParams.set(name, value);
      ctx.set("location", url.href);
    }
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));

  const providersDir = mkdtempSync(path.join(tmpdir(), "connect-hub-providers-"));
  mkdirSync(path.join(providersDir, "logos"));
  writeFileSync(
    path.join(providersDir, "logos", "test-idp.svg"),
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" role="img" aria-label="Test IdP"><rect width="40" height="40" rx="8" fill="#5b21b6"/></svg>',
  );
  writeFileSync(
    path.join(providersDir, `${TEST_PROVIDER_KEY}.json`),
    JSON.stringify({
      key: TEST_PROVIDER_KEY,
      name: "Test Identity Provider",
      categories: ["iam", "hris"],
      description: "A local OpenID Connect server for tests.",
      website: "https://example.com",
      logo: "test-idp.svg",
      auth: {
        type: "oauth2",
        authorizationUrl: `${issuer}/auth`,
        tokenUrl: `${issuer}/token`,
        scopes: ["openid", "offline_access"],
        pkce: true,
        issuer,
        authorizationParams: { prompt: "consent" },
        tokenAuthMethod: "client_secret_basic",
        refresh: true,
      },
      ...options.providerFile,
    }),
  );
  return {
    issuer,
    clientId,
    clientSecret,
    providersDir,
    grants,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface HubWithIdentityProvider {
  hub: TestServer;
  idp: TestIdentityProvider;
  /** A key of the hub's default project, whose `test-idp` integration is configured. */
  apiKey: string;
  close(): Promise<void>;
}

/**
 * A test server on 127.0.0.1 (its PUBLIC_URL known before the authorization server registers
 * its redirect URI), with the test provider in its catalog and enabled for one project.
 */
export async function startHubWithIdentityProvider(
  options: {
    accessTokenTtlSeconds?: number;
    clock?: Clock;
    env?: Record<string, string>;
    idp?: IdentityProviderExtras;
    /** More operator folders (provider simulators) beside the identity provider's. */
    providersDirs?: string[];
  } = {},
): Promise<HubWithIdentityProvider> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const idp = await startIdentityProvider({
    redirectUri: `${publicUrl}/connect/oauth/callback`,
    ...(options.accessTokenTtlSeconds ? { accessTokenTtlSeconds: options.accessTokenTtlSeconds } : {}),
    ...options.idp,
  });
  const hub = await startTestServer({
    port,
    ...(options.clock ? { clock: options.clock } : {}),
    env: {
      PUBLIC_URL: publicUrl,
      PROVIDERS_DIR: [idp.providersDir, ...(options.providersDirs ?? [])].join(","),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      ...options.env,
    },
  });
  const apiKey = await hub.createApiKey();
  const configured = await adminRequest(hub, apiKey, "PUT", `/integrations/${TEST_PROVIDER_KEY}`, {
    client_id: idp.clientId,
    client_secret: idp.clientSecret,
  });
  if (configured.status !== 200)
    throw new Error(`test-idp not configured: ${JSON.stringify(configured.body)}`);
  return {
    hub,
    idp,
    apiKey,
    close: async () => {
      await hub.close();
      await idp.close();
    },
  };
}
