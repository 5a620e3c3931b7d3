import { describe, expect, it } from "vitest";
import {
  apiBaseUrl,
  authorize,
  type ConnectionValues,
  ProviderApiError,
  readJsonPointer,
  resolveProviderUrl,
  verificationRequest,
} from "../../src/providers/api.js";
import type { ProviderDefinition } from "../../src/providers/schema.js";
import { checkRules, checkSchema } from "../../src/providers/validate.js";
import { acmeHr, oauthProvider } from "./fixtures.js";

const subdomainField = {
  key: "subdomain",
  label: "Subdomain",
  type: "text",
  required: true,
  secret: false,
  pattern: "[a-z0-9-]+",
};
const apiKeyField = { key: "api_key", label: "API key", type: "password", required: true, secret: true };

function definition(file: Record<string, unknown>): ProviderDefinition {
  const checked = checkSchema(structuredClone(file));
  if (!checked.ok) throw new Error(checked.problems.join("; "));
  const problems = checkRules(checked.definition, checked.definition.key, { allowLoopbackUrls: true });
  if (problems.length) throw new Error(problems.join("; "));
  return checked.definition;
}

function problemsOf(file: Record<string, unknown>): string[] {
  const checked = checkSchema(structuredClone(file));
  return checked.ok ? checkRules(checked.definition, checked.definition.key) : checked.problems;
}

const perTenant = definition({
  ...acmeHr,
  auth: { type: "api_key", fields: [subdomainField, apiKeyField] },
  api: {
    docs: "https://docs.example.com/api",
    baseUrl: "https://{{subdomain}}.acme-hr.example.com/api/v1",
    allowedHosts: ["*.acme-hr.example.com", "files.example.net"],
    auth: { style: "basic", username: "{{api_key}}", password: "x" },
    headers: { Accept: "application/json" },
    verify: { method: "GET", path: "/users/me" },
  },
});
const account: ConnectionValues = {
  credentials: { subdomain: "acme", api_key: "k-123" },
  setupInformation: { subdomain: "acme" },
};

const salesforceLike = definition({
  ...oauthProvider({}),
  connectionMetadata: [{ key: "instance_url", from: "token_response", field: "instance_url", format: "url" }],
  api: {
    docs: "https://docs.example.com/api",
    baseUrl: "{{instance_url}}/services/data/v61.0",
    allowedHosts: ["*.my.salesforce.com"],
    auth: { style: "bearer" },
  },
});
const oauthAccount = (instanceUrl: string): ConnectionValues => ({
  credentials: { access_token: "at-1" },
  setupInformation: { instance_url: instanceUrl },
});

describe("provider API declarations", () => {
  it("fills the base URL from non-secret values and applies each auth style", () => {
    const url = resolveProviderUrl(perTenant, account, { path: "/employees?fields=a,b" });
    expect(url.href).toBe("https://acme.acme-hr.example.com/api/v1/employees?fields=a,b");
    expect(resolveProviderUrl(perTenant, account, { path: "/User?$top=1&$filter=a%20eq%201" }).search).toBe(
      "?$top=1&$filter=a%20eq%201",
    );
    expect(authorize(perTenant, account, url)).toEqual({
      Accept: "application/json",
      authorization: `Basic ${Buffer.from("k-123:x").toString("base64")}`,
    });
    const header = definition({
      ...acmeHr,
      api: {
        docs: "https://docs.example.com",
        baseUrl: "https://api.example.com",
        auth: { style: "header", name: "X-Api-Key", value: "Token token={{api_key}}" },
      },
    });
    const values = { credentials: { api_key: "s3" }, setupInformation: null };
    expect(authorize(header, values, new URL("https://api.example.com/x"))).toEqual({
      "x-api-key": "Token token=s3",
    });
    const query = definition({
      ...acmeHr,
      api: {
        docs: "https://docs.example.com",
        baseUrl: "https://api.example.com",
        auth: { style: "query", name: "apikey", value: "{{api_key}}" },
      },
    });
    const queried = resolveProviderUrl(query, values, { path: "/me?$top=1&apikey=forged&APIKEY=x" });
    expect(authorize(query, values, queried)).toEqual({});
    expect(queried.href).toBe("https://api.example.com/me?$top=1&APIKEY=x&apikey=s3");
    expect(authorize(salesforceLike, oauthAccount("https://acme.my.salesforce.com"), queried)).toEqual({
      authorization: "Bearer at-1",
    });
  });

  it("builds the verification request", () => {
    const request = verificationRequest(perTenant, account);
    expect(request?.method).toBe("GET");
    expect(request?.url.href).toBe("https://acme.acme-hr.example.com/api/v1/users/me");
  });

  it("confines every call to the provider's hosts", () => {
    const refused = (values: ConnectionValues, target: { path?: string; url?: string }) => {
      try {
        resolveProviderUrl(perTenant, values, target);
      } catch (error) {
        expect(error).toBeInstanceOf(ProviderApiError);
        return (error as ProviderApiError).problem;
      }
      return "sent";
    };
    expect(refused(account, { url: "https://evil.example.org/steal" })).toBe("host_not_allowed");
    expect(refused(account, { url: "http://acme.acme-hr.example.com/api/v1/x" })).toBe("host_not_allowed");
    expect(refused(account, { url: "https://acme.acme-hr.example.com:8443/x" })).toBe("host_not_allowed");
    expect(refused(account, { url: "https://user:pw@acme.acme-hr.example.com/x" })).toBe("host_not_allowed");
    expect(refused(account, { url: "https://files.example.net/download/1" })).toBe("sent");
    expect(refused(account, { path: "//evil.example.org/x" })).toBe("invalid_path");
    expect(refused(account, { path: "https://evil.example.org/x" })).toBe("invalid_path");
    for (const path of ["/../admin", "/a/%2e%2e/b", "/a/.%2E/b", "/a/%2fb", "/a\\..\\b", "/."]) {
      expect(refused(account, { path })).toBe("invalid_path");
    }
    // A value edited through the API cannot move the host: the field pattern and the host
    // rules refuse it, and so would allowedHosts.
    for (const subdomain of ["evil.example.org#", "evil.example.org/", "a@b", "x:1"]) {
      expect(refused({ credentials: { api_key: "k" }, setupInformation: { subdomain } }, {})).toBe(
        "invalid_value",
      );
    }
    expect(refused({ credentials: { api_key: "k" }, setupInformation: {} }, {})).toBe("missing_value");
  });

  it("takes a whole origin from metadata only within allowedHosts", () => {
    expect(apiBaseUrl(salesforceLike, oauthAccount("https://acme.my.salesforce.com")).href).toBe(
      "https://acme.my.salesforce.com/services/data/v61.0",
    );
    for (const origin of [
      "https://attacker.example.org",
      "https://acme.my.salesforce.com.attacker.example.org",
      "http://acme.my.salesforce.com",
      "https://acme.my.salesforce.com/path",
      "https://acme.my.salesforce.com:444",
      "https://x@acme.my.salesforce.com",
      "not a url",
    ]) {
      expect(() => apiBaseUrl(salesforceLike, oauthAccount(origin)), origin).toThrow(ProviderApiError);
    }
  });

  it("reads RFC 6901 pointers", () => {
    const document = { a: [{ "b/c": { "d~e": 5 } }] };
    expect(readJsonPointer(document, "/a/0/b~1c/d~0e")).toBe(5);
    expect(readJsonPointer(document, "/a/01")).toBeUndefined();
    expect(readJsonPointer(document, "/constructor")).toBeUndefined();
    expect(readJsonPointer(document, "")).toBe(document);
  });

  it("refuses files that could leak secrets or reach any host", () => {
    const api = (overrides: Record<string, unknown>) => ({
      ...acmeHr,
      auth: { type: "api_key", fields: [subdomainField, apiKeyField] },
      api: {
        docs: "https://docs.example.com",
        baseUrl: "https://api.example.com",
        auth: { style: "bearer", token: "{{api_key}}" },
        ...overrides,
      },
    });
    expect(problemsOf(api({}))).toEqual([]);
    expect(problemsOf(api({ baseUrl: "https://api.example.com/{{api_key}}" }))).toEqual([
      "api.baseUrl uses {{api_key}}, which is not a non-secret field or connection metadata key of acme-hr",
    ]);
    expect(problemsOf(api({ baseUrl: "https://{{subdomain}}.example.com" }))).toEqual([
      "api.baseUrl takes its host from a value, so api.allowedHosts must list the provider's hosts",
    ]);
    expect(problemsOf(api({ baseUrl: "http://api.example.com" }))).toEqual([
      "api.baseUrl must be an https URL",
    ]);
    expect(problemsOf(api({ auth: { style: "bearer", token: "{{nope}}" } }))).toEqual([
      "api.auth.token uses {{nope}}, which is not a credential value of acme-hr",
    ]);
    expect(problemsOf(api({ auth: { style: "digest" } }))).toEqual([
      "api.auth.style must be one of: bearer, basic, header, query",
    ]);
    expect(
      problemsOf({ ...api({}), connectionMetadata: [{ key: "realm", from: "callback", param: "realmId" }] }),
    ).toEqual(["connectionMetadata[0] comes from the OAuth2 callback, but acme-hr is not OAuth2"]);
  });
});
