/**
 * Token endpoints and APIs of the providers that exchange client credentials for a token, on
 * one loopback port, each written after the provider's public documentation (not after our
 * provider file, so a file that drifts from the docs fails):
 * - Marketo: `GET /identity/oauth/token?grant_type=client_credentials&client_id=..&client_secret=..`
 *   answers `{access_token, token_type, expires_in, scope}`; the API is under `/rest`.
 * - OneLogin: `POST /auth/oauth2/v2/token`, HTTP basic client auth, JSON body
 *   `{"grant_type": "client_credentials"}`; answers `{access_token, expires_in, ...}`; API `/api/2`.
 * - Personio: `POST /v1/auth` with `client_id` and `client_secret` in a JSON (or form) body;
 *   answers `{success, data: {token}}`; API `/v1/company/...`.
 * A wrong client id or secret answers 401 (Personio: 400 for missing fields). The API accepts
 * only a token this simulator issued and has not expired (`expire()`), else 401.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { freePort } from "./server.js";

export const SIMULATED_EXCHANGES = ["marketo", "onelogin", "personio"] as const;
export type SimulatedExchange = (typeof SIMULATED_EXCHANGES)[number];

export interface ExchangeSimulator {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The client credentials every token endpoint accepts. */
  client: { id: string; secret: string };
  /** `expires_in` in the next token answers (Marketo, OneLogin). */
  expiresIn: number;
  /** Token requests received, per provider. */
  exchanges: Record<SimulatedExchange, number>;
  /** API requests received, with the bearer token they carried. */
  apiCalls: { provider: SimulatedExchange; path: string; token: string }[];
  /** When set, token endpoints answer this status and body instead. */
  tokenAnswer: { status: number; body: unknown } | undefined;
  /** Makes every token issued so far stop working at the API. */
  expire(): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(request: IncomingMessage, text: string): Record<string, unknown> {
  const type = request.headers["content-type"] ?? "";
  if (type.startsWith("application/json")) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  return {};
}

export async function startExchangeSimulator(): Promise<ExchangeSimulator> {
  const port = await freePort();
  const issued = new Set<string>();
  let serial = 0;
  const simulator: ExchangeSimulator = {
    origin: `http://127.0.0.1:${port}`,
    client: { id: "client-id-1", secret: "client-secret-1" },
    expiresIn: 3600,
    exchanges: { marketo: 0, onelogin: 0, personio: 0 },
    apiCalls: [],
    tokenAnswer: undefined,
    expire: () => issued.clear(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const issue = (provider: SimulatedExchange) => {
    serial += 1;
    const token = `${provider}-token-${serial}`;
    issued.add(token);
    return token;
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", simulator.origin);
    const text = await readBody(request);
    const answer = (status: number, body: unknown) =>
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    const { client } = simulator;
    const tokenEndpoint = (
      provider: SimulatedExchange,
      accepted: boolean,
      body: (token: string) => unknown,
    ) => {
      simulator.exchanges[provider] += 1;
      if (simulator.tokenAnswer) return answer(simulator.tokenAnswer.status, simulator.tokenAnswer.body);
      if (!accepted) return answer(401, { error: "invalid_client" });
      return answer(200, body(issue(provider)));
    };

    if (request.method === "GET" && url.pathname === "/identity/oauth/token") {
      const query = url.searchParams;
      return tokenEndpoint(
        "marketo",
        query.get("grant_type") === "client_credentials" &&
          query.get("client_id") === client.id &&
          query.get("client_secret") === client.secret,
        (token) => ({
          access_token: token,
          token_type: "bearer",
          expires_in: simulator.expiresIn,
          scope: "api@example.com",
        }),
      );
    }
    if (request.method === "POST" && url.pathname === "/auth/oauth2/v2/token") {
      const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`;
      return tokenEndpoint(
        "onelogin",
        request.headers.authorization === basic &&
          parseBody(request, text).grant_type === "client_credentials",
        (token) => ({
          access_token: token,
          token_type: "bearer",
          expires_in: simulator.expiresIn,
          refresh_token: "unused",
          account_id: 1234,
          created_at: "2026-12-01T00:00:00.000Z",
        }),
      );
    }
    if (request.method === "POST" && url.pathname === "/v1/auth") {
      const body = parseBody(request, text);
      if (body.client_id === undefined || body.client_secret === undefined) {
        simulator.exchanges.personio += 1;
        return answer(400, { success: false, error: { code: 400, message: "missing credentials" } });
      }
      return tokenEndpoint(
        "personio",
        body.client_id === client.id && body.client_secret === client.secret,
        (token) => ({ success: true, data: { token } }),
      );
    }

    const apis: [string, SimulatedExchange][] = [
      ["/rest/", "marketo"],
      ["/api/2/", "onelogin"],
      ["/v1/company/", "personio"],
    ];
    const api = apis.find(([prefix]) => url.pathname.startsWith(prefix));
    if (!api) return answer(404, { error: "not_found" });
    const token = (request.headers.authorization ?? "").replace(/^Bearer /, "");
    simulator.apiCalls.push({ provider: api[1], path: url.pathname, token });
    if (!issued.has(token) || !token.startsWith(`${api[1]}-token-`)) {
      return answer(401, { error: "invalid_token" });
    }
    return answer(200, { success: true, data: [] });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return simulator;
}
