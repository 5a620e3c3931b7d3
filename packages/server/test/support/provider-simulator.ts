/**
 * A provider's API on a loopback port, one path per credential style, each accepting only the
 * right credential in that style (401 otherwise), as BambooHR (basic), Ashby (bearer), a
 * named header or a query parameter would. Writes an operator PROVIDERS_DIR declaring one
 * API-key provider per style, plus a `sim-plain` provider without any API declaration.
 * Every request is recorded, so tests can prove that nothing reached the provider.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./server.js";

export const SIMULATED_STYLES = ["bearer", "basic", "header", "query"] as const;
export type SimulatedStyle = (typeof SIMULATED_STYLES)[number];

export interface SimulatorRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface ProviderSimulator {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The credentials each style accepts; change them to make stored ones stop working. */
  accepted: {
    bearer: string;
    basic: { username: string; password: string };
    header: string;
    query: string;
    /** Access tokens the OAuth2 API accepts (the test IdP's, recorded as it issues them). */
    oauthTokens: Set<string>;
  };
  /** When set, every request answers this status instead. */
  forceStatus: number | undefined;
  /** Paths that answer 403 whatever the credential (a token without the scope they need). */
  forbiddenPaths: Set<string>;
  requests: SimulatorRequest[];
  /** An operator folder declaring `sim-bearer`, `sim-basic`, `sim-header`, `sim-query`, `sim-plain`. */
  providersDir: string;
  close(): Promise<void>;
}

export const OAUTH_TENANT_ID = "tenant-42";

export async function startProviderSimulator(): Promise<ProviderSimulator> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const simulator: ProviderSimulator = {
    origin,
    accepted: {
      bearer: "good-bearer-token",
      basic: { username: "good-user", password: "good-password" },
      header: "good-header-key",
      query: "good-query-key",
      oauthTokens: new Set(),
    },
    forceStatus: undefined,
    forbiddenPaths: new Set(),
    requests: [],
    providersDir: writeProvidersDir(origin),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", origin);
    simulator.requests.push({
      method: request.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
    });
    const answer = (status: number, body: unknown) =>
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (simulator.forceStatus !== undefined) return answer(simulator.forceStatus, { error: "forced" });
    if (simulator.forbiddenPaths.has(url.pathname)) return answer(403, { error: "forbidden" });
    const { accepted } = simulator;
    const authorization = request.headers.authorization ?? "";
    const allowed: Record<string, () => boolean> = {
      "/bearer/me": () => authorization === `Bearer ${accepted.bearer}`,
      "/basic/me": () =>
        authorization ===
        `Basic ${Buffer.from(`${accepted.basic.username}:${accepted.basic.password}`).toString("base64")}`,
      "/header/me": () => request.headers["x-api-key"] === accepted.header,
      "/query/me": () => url.searchParams.get("api_key") === accepted.query,
      "/oauth/me": () => accepted.oauthTokens.has(authorization.replace(/^Bearer /, "")),
      "/oauth/connections": () => accepted.oauthTokens.has(authorization.replace(/^Bearer /, "")),
    };
    const check = allowed[url.pathname];
    if (!check) return answer(404, { error: "not_found" });
    if (!check()) return answer(401, { error: "unauthorized" });
    if (url.pathname === "/oauth/connections") return answer(200, [{ tenantId: OAUTH_TENANT_ID }]);
    return answer(200, { id: "user-1", name: "Simulated User" });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return simulator;
}

const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" role="img" aria-label="Simulator"><rect width="40" height="40" rx="8" fill="#1d4ed8"/></svg>';

function writeProvidersDir(origin: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "connect-hub-simulators-"));
  mkdirSync(path.join(dir, "logos"));
  writeFileSync(path.join(dir, "logos", "simulator.svg"), LOGO);
  const secretField = (key: string, label: string) => ({
    key,
    label,
    type: "password",
    required: true,
    secret: true,
  });
  const base = (key: string, name: string) => ({
    key,
    name,
    categories: ["hris"],
    description: `A simulated provider (${name}) on loopback, for tests.`,
    website: "https://example.com",
    logo: "simulator.svg",
  });
  const apiOf = (style: SimulatedStyle, auth: Record<string, string>) => ({
    docs: "https://example.com/docs",
    baseUrl: `${origin}/${style}`,
    auth: { style, ...auth },
    verify: { method: "GET", path: "/me", docs: "https://example.com/docs/me" },
  });
  const files = [
    {
      ...base("sim-bearer", "Bearer Simulator"),
      auth: { type: "api_key", fields: [secretField("api_key", "API key")] },
      api: apiOf("bearer", { token: "{{api_key}}" }),
    },
    {
      ...base("sim-basic", "Basic Simulator"),
      auth: {
        type: "basic",
        fields: [
          { key: "username", label: "User name", type: "text", required: true, secret: false },
          secretField("password", "Password"),
        ],
      },
      api: apiOf("basic", { username: "{{username}}", password: "{{password}}" }),
    },
    {
      ...base("sim-header", "Header Simulator"),
      auth: { type: "api_key", fields: [secretField("api_key", "API key")] },
      api: apiOf("header", { name: "X-Api-Key", value: "{{api_key}}" }),
    },
    {
      ...base("sim-query", "Query Simulator"),
      auth: { type: "api_key", fields: [secretField("api_key", "API key")] },
      api: apiOf("query", { name: "api_key", value: "{{api_key}}" }),
    },
    {
      ...base("sim-plain", "Plain Simulator"),
      auth: { type: "api_key", fields: [secretField("api_key", "API key")] },
    },
  ];
  for (const file of files) writeFileSync(path.join(dir, `${file.key}.json`), JSON.stringify(file));
  return dir;
}

/** The values each style's connect form takes: the right ones, or wrong ones. */
export function formValues(
  simulator: ProviderSimulator,
  style: SimulatedStyle,
  right: boolean,
): Record<string, string> {
  const { accepted } = simulator;
  if (style === "basic") {
    return {
      username: accepted.basic.username,
      password: right ? accepted.basic.password : "wrong-password",
    };
  }
  return { api_key: right ? accepted[style] : `wrong-${style}-key` };
}
