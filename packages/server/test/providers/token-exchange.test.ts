/**
 * Client-credential providers (Marketo, OneLogin, Personio): the shipped declarations, moved
 * onto a loopback simulator written after each provider's docs, exchange only the right client
 * credentials in the provider's style, and the token they get opens the API. Tokens are
 * cached until shortly before they expire (injected clock), shared by concurrent callers, and
 * never reused for other credentials; the token request is confined like every other call.
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConnectionChecker } from "../../src/connections/checker.js";
import { OutboundClient, OutboundRequestError } from "../../src/outbound/client.js";
import {
  authorize,
  type ConnectionValues,
  ProviderApiError,
  verificationRequest,
} from "../../src/providers/api.js";
import { loadProviderCatalog, SHIPPED_PROVIDERS_DIR } from "../../src/providers/catalog.js";
import type { ProviderDefinition } from "../../src/providers/schema.js";
import {
  ExchangedTokenCache,
  forgetExchangedToken,
  type TokenExchangeDeps,
  TokenExchangeError,
  tokenExchangeRequest,
  withExchangedToken,
} from "../../src/providers/token-exchange.js";
import { checkRules, checkSchema } from "../../src/providers/validate.js";
import {
  type ExchangeSimulator,
  SIMULATED_EXCHANGES,
  type SimulatedExchange,
  startExchangeSimulator,
} from "../support/token-exchange-simulator.js";
import { acmeHr } from "./fixtures.js";

let simulator: ExchangeSimulator;
let outbound: OutboundClient;
const shipped = new Map<string, ProviderDefinition>();
let now: Date;

beforeAll(async () => {
  simulator = await startExchangeSimulator();
  outbound = new OutboundClient({ timeoutMs: 5000, maxResponseBytes: 100_000, allowPrivateNetworks: true });
  for (const provider of (await loadProviderCatalog({})).list()) shipped.set(provider.key, provider);
});
afterAll(async () => {
  await outbound.close();
  await simulator.close();
});

let deps: TokenExchangeDeps;
beforeEach(() => {
  now = new Date("2026-12-01T12:00:00.000Z");
  deps = { outbound, cache: new ExchangedTokenCache(() => now), allowLoopbackUrls: true };
  simulator.client = { id: "client-id-1", secret: "client-secret-1" };
  simulator.tokenAnswer = undefined;
  simulator.expiresIn = 3600;
  for (const key of SIMULATED_EXCHANGES) simulator.exchanges[key] = 0;
  simulator.apiCalls.length = 0;
});

/** Replaces the https origin (a per-tenant host included) of a URL template with `origin`. */
const onOrigin = (template: string, origin: string) => template.replace(/^https:\/\/[^/]+/, origin);

/** The shipped file with its hosts moved to the simulator, checked by the loader again. */
function onLoopback(key: SimulatedExchange): ProviderDefinition {
  const file = JSON.parse(
    readFileSync(path.join(SHIPPED_PROVIDERS_DIR, `${key}.json`), "utf8"),
  ) as ProviderDefinition;
  const api = file.api as NonNullable<ProviderDefinition["api"]>;
  const exchange = api.tokenExchange as NonNullable<typeof api.tokenExchange>;
  api.baseUrl = onOrigin(api.baseUrl, simulator.origin);
  exchange.url = onOrigin(exchange.url, simulator.origin);
  delete api.allowedHosts;
  const checked = checkSchema(file);
  if (!checked.ok) throw new Error(checked.problems.join("; "));
  const problems = checkRules(checked.definition, key, { allowLoopbackUrls: true });
  if (problems.length > 0) throw new Error(problems.join("; "));
  return checked.definition;
}

const FORM: Record<SimulatedExchange, Record<string, string>> = {
  marketo: { munchkin_id: "123-ABC-456" },
  onelogin: { subdomain: "acme" },
  personio: {},
};

function accountOf(key: SimulatedExchange, client = simulator.client): ConnectionValues {
  const credentials = { ...FORM[key], client_id: client.id, client_secret: client.secret };
  return { credentials, setupInformation: { ...FORM[key], client_id: client.id } };
}

/** Exchanges, then makes the provider's verification request with the token. */
async function verifyWith(provider: ProviderDefinition, values: ConnectionValues): Promise<number> {
  const exchanged = await withExchangedToken(provider, values, deps);
  const request = verificationRequest(provider, exchanged, { allowLoopbackUrls: true });
  if (!request) throw new Error(`${provider.key} declares no verification`);
  return (await outbound.request(request.url.href, { method: request.method, headers: request.headers }))
    .status;
}

describe.each(SIMULATED_EXCHANGES)("the shipped %s declaration", (key) => {
  it("exchanges the client credentials in the documented style, and the token opens the API", async () => {
    const provider = onLoopback(key);
    expect(await verifyWith(provider, accountOf(key))).toBe(200);
    expect(simulator.exchanges[key]).toBe(1);
    expect(simulator.apiCalls).toEqual([
      expect.objectContaining({ provider: key, token: expect.stringMatching(`^${key}-token-`) }),
    ]);
  });

  it("reads a refused client secret as refused credentials, and calls no API", async () => {
    const provider = onLoopback(key);
    const values = accountOf(key, { id: "client-id-1", secret: "wrong-secret-value" });
    const failure = await withExchangedToken(provider, values, deps).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TokenExchangeError);
    expect(failure).toMatchObject({ result: "refused", statusCode: 401 });
    expect((failure as Error).message).toContain(provider.name);
    expect((failure as Error).message).not.toContain("wrong-secret-value");
    expect(simulator.apiCalls).toHaveLength(0);
  });

  it("keeps the token until shortly before it expires, then exchanges again", async () => {
    const provider = onLoopback(key);
    const values = accountOf(key);
    const first = await withExchangedToken(provider, values, deps);
    now = new Date(now.getTime() + 30 * 60_000);
    const cached = await withExchangedToken(provider, values, deps);
    expect(cached.credentials.access_token).toBe(first.credentials.access_token);
    expect(simulator.exchanges[key]).toBe(1);
    // Marketo and OneLogin say 3600 s; Personio's answer has no lifetime, its file says 3600 s.
    now = new Date(now.getTime() + 30 * 60_000 - 30_000);
    simulator.expire();
    const renewed = await withExchangedToken(provider, values, deps);
    expect(simulator.exchanges[key]).toBe(2);
    expect(renewed.credentials.access_token).not.toBe(first.credentials.access_token);
    expect(await verifyWith(provider, values)).toBe(200);
  });
});

describe("verification of a client-credential provider", () => {
  it("exchanges first, then verifies; a refused secret reads as refused credentials", async () => {
    const checker = new ConnectionChecker(outbound, { allowLoopbackUrls: true });
    const provider = onLoopback("marketo") as Parameters<ConnectionChecker["verify"]>[0];
    expect(await checker.verify(provider, accountOf("marketo"))).toMatchObject({ result: "verified" });
    const wrong = accountOf("marketo", { id: "client-id-1", secret: "wrong-secret-value" });
    const refused = await checker.verify(provider, wrong);
    expect(refused).toMatchObject({ result: "refused", statusCode: 401 });
    expect(refused?.message).toContain("Marketo Engage refused these credentials");
    expect(refused?.message).not.toContain("wrong-secret-value");
  });
});

describe("an exchanged token", () => {
  it("is fetched once for concurrent callers (single flight)", async () => {
    const provider = onLoopback("onelogin");
    const tokens = await Promise.all(
      Array.from({ length: 5 }, () => withExchangedToken(provider, accountOf("onelogin"), deps)),
    );
    expect(new Set(tokens.map((values) => values.credentials.access_token)).size).toBe(1);
    expect(simulator.exchanges.onelogin).toBe(1);
  });

  it("is never reused for other credentials, and a forgotten one is fetched again", async () => {
    const provider = onLoopback("marketo");
    await withExchangedToken(provider, accountOf("marketo"), deps);
    simulator.client = { id: "client-id-2", secret: "client-secret-2" };
    const other = await withExchangedToken(provider, accountOf("marketo"), deps);
    expect(simulator.exchanges.marketo).toBe(2);
    forgetExchangedToken(provider, accountOf("marketo"), deps);
    const again = await withExchangedToken(provider, accountOf("marketo"), deps);
    expect(simulator.exchanges.marketo).toBe(3);
    expect(again.credentials.access_token).not.toBe(other.credentials.access_token);
  });

  it("uses the answer's lifetime: a short one is renewed sooner", async () => {
    const provider = onLoopback("marketo");
    simulator.expiresIn = 120;
    await withExchangedToken(provider, accountOf("marketo"), deps);
    now = new Date(now.getTime() + 61_000);
    await withExchangedToken(provider, accountOf("marketo"), deps);
    expect(simulator.exchanges.marketo).toBe(2);
  });

  it("fails, naming the provider, when the answer has no token; nothing is cached", async () => {
    const provider = onLoopback("personio");
    simulator.tokenAnswer = { status: 200, body: { success: true, data: {} } };
    await expect(withExchangedToken(provider, accountOf("personio"), deps)).rejects.toMatchObject({
      name: "TokenExchangeError",
      result: "failed",
      statusCode: 200,
    });
    simulator.tokenAnswer = { status: 503, body: { error: "down" } };
    await expect(withExchangedToken(provider, accountOf("personio"), deps)).rejects.toMatchObject({
      result: "failed",
      statusCode: 503,
    });
    simulator.tokenAnswer = undefined;
    expect(await verifyWith(provider, accountOf("personio"))).toBe(200);
  });

  it("reports an unreachable token endpoint as the outbound client's error", async () => {
    const provider = onLoopback("personio");
    const closed = structuredClone(provider);
    const api = closed.api as NonNullable<ProviderDefinition["api"]>;
    // Port 9 (discard) on loopback: nothing listens there.
    api.baseUrl = "http://127.0.0.1:9/v1";
    (api.tokenExchange as NonNullable<typeof api.tokenExchange>).url = "http://127.0.0.1:9/v1/auth";
    await expect(withExchangedToken(closed, accountOf("personio"), deps)).rejects.toBeInstanceOf(
      OutboundRequestError,
    );
  });

  it("leaves the values of a provider without a token exchange unchanged, sending nothing", async () => {
    const jumpcloud = shipped.get("jumpcloud") as ProviderDefinition;
    const values = { credentials: { api_key: "k" }, setupInformation: null };
    expect(await withExchangedToken(jumpcloud, values, deps)).toBe(values);
  });
});

describe("the token request", () => {
  it("is confined to the provider's hosts: a templated host must be allowed, others must match the base URL", () => {
    const marketo = shipped.get("marketo") as ProviderDefinition;
    const request = tokenExchangeRequest(marketo, accountOf("marketo"));
    expect(request?.url.origin).toBe("https://123-abc-456.mktorest.com");
    expect(request?.url.searchParams.get("client_secret")).toBe("client-secret-1");
    for (const hostile of ["evil.example", "123-ABC-456.evil", "x.mktorest.com.evil.example"]) {
      const values = accountOf("marketo");
      const edited = { ...values, setupInformation: { ...values.setupInformation, munchkin_id: hostile } };
      expect(() => tokenExchangeRequest(marketo, edited), hostile).toThrow(ProviderApiError);
    }
    const personio = structuredClone(shipped.get("personio")) as ProviderDefinition;
    const api = personio.api as NonNullable<ProviderDefinition["api"]>;
    (api.tokenExchange as NonNullable<typeof api.tokenExchange>).url = "https://auth.evil.example/v1/auth";
    try {
      tokenExchangeRequest(personio, accountOf("personio"));
      expect.unreachable("the request was built");
    } catch (error) {
      expect((error as ProviderApiError).problem).toBe("host_not_allowed");
    }
  });

  it("puts the stored secret only where the style says: never into the API call's URL", async () => {
    const provider = onLoopback("onelogin");
    const exchanged = await withExchangedToken(provider, accountOf("onelogin"), deps);
    const request = verificationRequest(provider, exchanged, { allowLoopbackUrls: true });
    expect(request?.url.href).not.toContain("client-secret-1");
    expect(Object.values(request?.headers ?? {}).join(" ")).not.toContain("client-secret-1");
    const url = new URL(`${simulator.origin}/api/2/users`);
    expect(authorize(provider, exchanged, url).authorization).toMatch(/^Bearer onelogin-token-/);
  });
});

describe("the loader's rules for api.tokenExchange", () => {
  const clientFields = [
    { key: "region", label: "Region", type: "text", required: true, secret: false, pattern: "[a-z]{2}" },
    { key: "client_id", label: "Client ID", type: "text", required: true, secret: false },
    { key: "client_secret", label: "Client secret", type: "password", required: true, secret: true },
  ];
  const exchange = {
    docs: "https://docs.example.com/token",
    url: "https://{{region}}.acme-hr.example.com/oauth/token",
    method: "POST",
    clientAuth: "basic",
    clientId: "{{client_id}}",
    clientSecret: "{{client_secret}}",
    params: { grant_type: "client_credentials" },
    tokenPointer: "/access_token",
  };
  const file = (api: Record<string, unknown>, auth: Record<string, unknown> = {}) => ({
    ...acmeHr,
    auth: { type: "api_key", fields: clientFields, ...auth },
    api: {
      docs: "https://docs.example.com",
      baseUrl: "https://{{region}}.acme-hr.example.com/v1",
      allowedHosts: ["*.acme-hr.example.com"],
      auth: { style: "bearer" },
      tokenExchange: exchange,
      ...api,
    },
  });
  const problemsOf = (value: Record<string, unknown>) => {
    const checked = checkSchema(structuredClone(value));
    return checked.ok ? checkRules(checked.definition, "acme-hr") : checked.problems;
  };

  it("accepts a well-formed exchange, and lets auth send {{access_token}} only with one", () => {
    expect(problemsOf(file({}))).toEqual([]);
    const withoutExchange = file({ tokenExchange: undefined });
    delete (withoutExchange.api as Record<string, unknown>).tokenExchange;
    expect(problemsOf(withoutExchange)).toEqual([
      "api.auth.token uses {{access_token}}, which is not a credential value of acme-hr",
    ]);
  });

  it("names each misuse", () => {
    expect(
      problemsOf(file({ tokenExchange: { ...exchange, url: "https://{{client_secret}}.example.com/t" } })),
    ).toEqual(
      expect.arrayContaining([
        "api.tokenExchange.url uses {{client_secret}}, which is not a non-secret field of acme-hr",
      ]),
    );
    expect(problemsOf(file({ tokenExchange: { ...exchange, clientSecret: "{{access_token}}" } }))).toEqual([
      "api.tokenExchange.clientSecret uses {{access_token}}, which is not a form value of acme-hr",
    ]);
    expect(problemsOf(file({ tokenExchange: { ...exchange, clientId: "{{nope}}" } }))).toEqual([
      "api.tokenExchange.clientId uses {{nope}}, which is not a form value of acme-hr",
    ]);
    expect(problemsOf(file({ auth: { style: "bearer", token: "{{client_secret}}" } }))).toEqual([
      "api.tokenExchange yields {{access_token}}, so api.auth must send it",
    ]);
    expect(
      problemsOf(
        file({ tokenExchange: { ...exchange, method: "GET", clientAuth: "body", bodyFormat: "json" } }),
      ),
    ).toEqual([
      "api.tokenExchange.bodyFormat needs method POST (a GET has no body)",
      'api.tokenExchange.clientAuth "body" needs method POST (a GET has no body)',
    ]);
    expect(problemsOf(file({ tokenExchange: { ...exchange, clientAuth: "cookie" } }))).toEqual([
      "api.tokenExchange.clientAuth must be one of: basic, body, query",
    ]);
    expect(problemsOf(file({ tokenExchange: { ...exchange, tokenUrl: "x" } }))).toEqual([
      "api.tokenExchange.tokenUrl is not a known field",
    ]);
    const oauth = {
      ...file({}),
      auth: {
        type: "oauth2",
        authorizationUrl: "https://login.example.com/authorize",
        tokenUrl: "https://login.example.com/token",
        scopes: [],
        pkce: true,
        refresh: true,
        setupFields: [clientFields[0]],
      },
    };
    expect(problemsOf(oauth)).toEqual(
      expect.arrayContaining([
        "api.tokenExchange is for credential forms; an OAuth2 provider has auth.tokenUrl",
      ]),
    );
  });
});
