/**
 * (The proxy tests' upstream; verification tests use provider-simulator.ts.)
 * Provider simulators: one real HTTP server on loopback answering as several providers, each
 * under its own path prefix and accepting only the right credential in its declared style
 * (a named header, basic auth, a query parameter, a bearer API key, an OAuth2 access token),
 * with an OAuth2 token endpoint that refreshes tokens. Every request is recorded, so a test can
 * prove that none was made. Also writes the operator PROVIDERS_DIR that declares them.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
}

export type SimulatorHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export interface ProviderSimulator {
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The OAuth2 access token the API accepts now; refresh grants replace it. */
  oauth: {
    accessToken: string;
    refreshToken: string;
    refreshes: number;
    clientId: string;
    clientSecret: string;
  };
  /** Answers `<prefix>/<path>` (after the credential check) with a test's own handler. */
  handle(pathAfterPrefix: string, handler: SimulatorHandler): void;
  close(): Promise<void>;
}

/** The credential each API-key simulator accepts. */
export const SIMULATOR_KEYS = {
  header: "hdr-key-123",
  basic: { username: "basic-user", password: "basic-pass" },
  query: "qry-key-123",
  bearer: "bearer-key-123",
};

const PREFIXES = ["sim-header", "sim-basic", "sim-query", "sim-bearer", "sim-oauth"] as const;

function credentialAccepted(prefix: string, request: IncomingMessage, url: URL, oauthToken: string): boolean {
  const authorization = request.headers.authorization;
  switch (prefix) {
    case "sim-header":
      return request.headers["x-api-key"] === SIMULATOR_KEYS.header && authorization === undefined;
    case "sim-basic": {
      const { username, password } = SIMULATOR_KEYS.basic;
      return authorization === `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    }
    case "sim-query":
      return url.searchParams.get("apikey") === SIMULATOR_KEYS.query && authorization === undefined;
    case "sim-bearer":
      return authorization === `Bearer ${SIMULATOR_KEYS.bearer}`;
    case "sim-oauth":
      return authorization === `Bearer ${oauthToken}`;
    default:
      return false;
  }
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startProviderSimulator(): Promise<ProviderSimulator> {
  const requests: RecordedRequest[] = [];
  const handlers = new Map<string, SimulatorHandler>();
  const oauth = {
    accessToken: "at-0",
    refreshToken: "rt-0",
    refreshes: 0,
    clientId: "sim-client",
    clientSecret: "sim-secret",
  };

  const server: Server = createServer(async (request, response) => {
    requests.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers });
    const url = new URL(request.url ?? "/", "http://simulator");
    if (url.pathname === "/oauth/token" && request.method === "POST") {
      const form = new URLSearchParams(await readBody(request));
      const client = `Basic ${Buffer.from(`${oauth.clientId}:${oauth.clientSecret}`).toString("base64")}`;
      if (request.headers.authorization !== client) return json(response, 401, { error: "invalid_client" });
      if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== oauth.refreshToken) {
        return json(response, 400, { error: "invalid_grant" });
      }
      oauth.refreshes += 1;
      oauth.accessToken = `at-${oauth.refreshes}`;
      oauth.refreshToken = `rt-${oauth.refreshes}`;
      return json(response, 200, {
        access_token: oauth.accessToken,
        refresh_token: oauth.refreshToken,
        token_type: "Bearer",
        expires_in: 3600,
      });
    }
    const [, prefix = "", ...rest] = url.pathname.split("/");
    if (!(PREFIXES as readonly string[]).includes(prefix))
      return json(response, 404, { error: "no such API" });
    if (!credentialAccepted(prefix, request, url, oauth.accessToken)) {
      return json(response, 401, { error: "invalid credentials" }, { "www-authenticate": "Bearer" });
    }
    const after = `/${rest.join("/")}`;
    const custom = handlers.get(after);
    if (custom) return custom(request, response);
    if (after === "/v1/me") return json(response, 200, { id: "user-1", provider: prefix });
    if (after === "/v1/echo") {
      const body = await readBody(request);
      return json(response, 200, {
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: request.headers,
        body,
      });
    }
    return json(response, 404, { error: "not found", path: url.pathname });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("simulator did not start");
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    oauth,
    handle: (pathAfterPrefix, handler) => handlers.set(pathAfterPrefix, handler),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const secretField = (key: string, label: string) => ({
  key,
  label,
  type: "password",
  required: true,
  secret: true,
});

/** An operator PROVIDERS_DIR declaring the simulator's providers, plus one with no `api`. */
export function writeSimulatorProviders(simulatorUrl: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "connect-hub-sim-providers-"));
  mkdirSync(path.join(dir, "logos"));
  writeFileSync(
    path.join(dir, "logos", "sim.svg"),
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" role="img" aria-label="Sim"><rect width="40" height="40" fill="#0f766e"/></svg>',
  );
  const provider = (key: string, name: string, auth: unknown, api?: Record<string, unknown>) => ({
    key,
    name,
    categories: ["hris"],
    description: "A provider simulator for tests.",
    website: "https://example.com",
    logo: "sim.svg",
    auth,
    ...(api
      ? { api: { docs: "https://example.com/docs", baseUrl: `${simulatorUrl}/${key}/v1`, ...api } }
      : {}),
  });
  const apiKeyAuth = { type: "api_key", fields: [secretField("api_key", "API key")] };
  const files = [
    provider("sim-header", "Sim Header", apiKeyAuth, {
      auth: { style: "header", name: "X-Api-Key", value: "{{api_key}}" },
      headers: { Accept: "application/json", "X-Api-Version": "2" },
    }),
    provider(
      "sim-basic",
      "Sim Basic",
      { type: "basic", fields: [secretField("username", "User"), secretField("password", "Password")] },
      { auth: { style: "basic", username: "{{username}}", password: "{{password}}" } },
    ),
    provider("sim-query", "Sim Query", apiKeyAuth, {
      auth: { style: "query", name: "apikey", value: "{{api_key}}" },
    }),
    provider("sim-bearer", "Sim Bearer", apiKeyAuth, { auth: { style: "bearer", token: "{{api_key}}" } }),
    provider(
      "sim-oauth",
      "Sim OAuth",
      {
        type: "oauth2",
        authorizationUrl: `${simulatorUrl}/oauth/authorize`,
        tokenUrl: `${simulatorUrl}/oauth/token`,
        scopes: [],
        pkce: true,
        refresh: true,
        tokenAuthMethod: "client_secret_basic",
      },
      { auth: { style: "bearer" } },
    ),
    provider("sim-noapi", "Sim Without API", apiKeyAuth),
  ];
  for (const file of files) writeFileSync(path.join(dir, `${file.key}.json`), JSON.stringify(file));
  return dir;
}
