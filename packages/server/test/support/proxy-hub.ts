/**
 * A Connect Hub wired to the provider simulators for proxy tests: the simulators' operator
 * PROVIDERS_DIR, loopback allowed, metrics on, logs captured; with helpers to connect accounts
 * (API-key forms through the connect page's API, OAuth2 accounts stored with chosen tokens)
 * and to call both proxy routes.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { PassThrough } from "node:stream";
import { AccountService } from "../../src/accounts/service.js";
import { loadSecretBox } from "../../src/crypto/keyring.js";
import { loadProviderCatalog } from "../../src/providers/catalog.js";
import { TenancyService } from "../../src/tenancy/service.js";
import { type JsonResponse, postJson } from "./http.js";
import { adminRequest, connectApiKeyAccount } from "./hub.js";
import { type ProviderSimulator, startProviderSimulator, writeSimulatorProviders } from "./proxy-upstream.js";
import { basicAuth, startTestServer, type TestServer } from "./server.js";

export interface ProxyHub {
  server: TestServer;
  simulator: ProviderSimulator;
  apiKey: string;
  providersDir: string;
  /** Log lines written so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  connect(provider: string, values: Record<string, string>): Promise<string>;
  /** An OAuth2 account of `sim-oauth` stored with these tokens, as a completed grant leaves one. */
  oauthAccount(tokens: { accessToken: string; refreshToken?: string; expiresAt: string }): Promise<string>;
  unified(accountId: string, body: unknown, apiKey?: string): Promise<JsonResponse>;
  /** A raw request over node:http, so the path (`..`) and headers go out exactly as written. */
  raw(
    method: string,
    path: string,
    options?: { accountId?: string; headers?: Record<string, string>; body?: string | Buffer },
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

let owners = 0;

export async function startProxyHub(env: Record<string, string> = {}): Promise<ProxyHub> {
  const simulator = await startProviderSimulator();
  const providersDir = writeSimulatorProviders(simulator.url);
  const logStream = new PassThrough();
  const lines: string[] = [];
  logStream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
  const server = await startTestServer({
    logStream,
    env: {
      PROVIDERS_DIR: providersDir,
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      METRICS_ENABLED: "true",
      RATE_LIMIT_PER_MINUTE: "100000",
      ...env,
    },
  });
  const apiKey = await server.createApiKey();
  const configured = await adminRequest(server, apiKey, "PUT", "/integrations/sim-oauth", {
    client_id: simulator.oauth.clientId,
    client_secret: simulator.oauth.clientSecret,
  });
  if (configured.status !== 200) throw new Error(`sim-oauth not configured: ${JSON.stringify(configured)}`);
  for (const provider of ["sim-header", "sim-basic", "sim-query", "sim-bearer", "sim-noapi"]) {
    const enabled = await adminRequest(server, apiKey, "PUT", `/integrations/${provider}`, { enabled: true });
    if (enabled.status !== 200) throw new Error(`${provider} not enabled: ${JSON.stringify(enabled)}`);
  }
  const catalog = await loadProviderCatalog({ extraDirs: [providersDir], allowLoopbackUrls: true });
  const accounts = new AccountService(
    server.db.kysely,
    catalog,
    loadSecretBox(server.config, () => {}),
    () => new Date(),
  );
  const principal = await new TenancyService(server.db.kysely).authenticateApiKey(apiKey);
  if (!principal) throw new Error("no principal");

  return {
    server,
    simulator,
    apiKey,
    providersDir,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    connect: (provider, values) =>
      connectApiKeyAccount(server, apiKey, { origin_owner_id: `owner-${++owners}` }, provider, values),
    oauthAccount: async ({ accessToken, refreshToken, expiresAt }) => {
      const { accountId } = await accounts.linkFromSession(
        server.db.kysely,
        {
          projectId: principal.projectId,
          originOwnerId: `owner-${++owners}`,
          originOwnerName: "OAuth Owner",
          originUsername: null,
          accountId: null,
          multiple: false,
          label: null,
          metadata: null,
          type: null,
        },
        {
          provider: "sim-oauth",
          authType: "oauth2",
          credentials: {
            access_token: accessToken,
            token_type: "Bearer",
            expires_at: expiresAt,
            ...(refreshToken ? { refresh_token: refreshToken } : {}),
          },
          credentialsExpiresAt: expiresAt,
          setupInformation: null,
        },
      );
      return accountId;
    },
    unified: (accountId, body, key = apiKey) =>
      postJson(`${server.url}/unified/proxy`, body, { apiKey: key, headers: { "x-account-id": accountId } }),
    raw: (method, path, options = {}) =>
      new Promise((resolve, reject) => {
        const { hostname, port } = new URL(server.url);
        const request = httpRequest(
          {
            hostname,
            port,
            path,
            method,
            // A new connection each time: on a loaded machine a pooled one may already be closed.
            agent: false,
            headers: {
              authorization: basicAuth(apiKey),
              ...(options.accountId ? { "x-account-id": options.accountId } : {}),
              ...options.headers,
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () =>
              resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: Buffer.concat(chunks).toString("utf8"),
              }),
            );
            response.on("error", reject);
          },
        );
        request.on("error", reject);
        request.end(options.body);
      }),
    close: async () => {
      await server.close();
      await simulator.close();
    },
  };
}
