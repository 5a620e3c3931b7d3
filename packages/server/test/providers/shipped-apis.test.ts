/**
 * The API declarations of the shipped providers: every one cites its documentation, every
 * per-tenant host is confined to the provider's own domains, and the requests built from the
 * files (verification, post-grant metadata) carry credentials only where the auth style puts
 * them and only to the provider's hosts.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  apiBaseUrl,
  type ConnectionValues,
  hostIsTemplated,
  isAllowedTarget,
  metadataRequest,
  ProviderApiError,
  verificationRequest,
} from "../../src/providers/api.js";
import { type CatalogProvider, loadProviderCatalog } from "../../src/providers/catalog.js";
import type { ProviderDefinition, ProviderField } from "../../src/providers/schema.js";
import { checkRules, checkSchema } from "../../src/providers/validate.js";
import { acmeHr } from "./fixtures.js";

/** Providers with `api` but no verification request: nothing is callable with a GET or a bodiless POST. */
const WITHOUT_VERIFY = ["linear", "workday"];

/** Realistic values of connection metadata that choose a host, keyed by provider and key. */
const METADATA_SAMPLES: Record<string, Record<string, string>> = {
  docusign: { base_uri: "https://na2.docusign.net", account_id: "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab" },
  mailchimp: { dc: "us6" },
  pipedrive: { api_domain: "https://acme.pipedrive.com" },
  salesforce: { instance_url: "https://acme.my.salesforce.com" },
};

let providers: readonly CatalogProvider[];
beforeAll(async () => {
  providers = (await loadProviderCatalog({})).list();
});

const withApi = () => providers.filter((provider) => provider.api !== undefined);
const fieldsOf = (provider: ProviderDefinition): readonly ProviderField[] =>
  provider.auth.type === "oauth2" ? (provider.auth.setupFields ?? []) : provider.auth.fields;

/** A value a user could type into the field: its placeholder when that is an example. */
function sampleValue(field: ProviderField): string {
  if (field.placeholder !== undefined && !field.placeholder.includes("...")) return field.placeholder;
  return field.secret ? `secret-${field.key}-value` : `${field.key}-value`;
}

/** A freshly connected account: form values, and every metadata value unless `withoutMetadata`. */
function accountOf(provider: ProviderDefinition, withoutMetadata = false): ConnectionValues {
  const credentials: Record<string, string> = { access_token: "secret-access-token" };
  const setupInformation: Record<string, string> = {};
  for (const field of fieldsOf(provider)) {
    credentials[field.key] = sampleValue(field);
    if (!field.secret) setupInformation[field.key] = sampleValue(field);
  }
  if (!withoutMetadata) {
    for (const item of provider.connectionMetadata ?? []) {
      setupInformation[item.key] = METADATA_SAMPLES[provider.key]?.[item.key] ?? `${item.key}-1234`;
    }
  }
  return { credentials, setupInformation };
}

const secretsOf = (account: ConnectionValues) =>
  Object.values(account.credentials).filter(
    (value): value is string => typeof value === "string" && value.startsWith("secret-"),
  );

/** The names in the base URL's host: a leading origin placeholder or those in the authority. */
function hostPlaceholders(baseUrl: string): string[] {
  const authority = baseUrl.replace(/^https:\/\//, "").split(/[/?#]/)[0] ?? "";
  return [...authority.matchAll(/\{\{([a-zA-Z0-9_]+)\}\}/g)].map((match) => match[1] as string);
}

/**
 * Whether the base URL filled from `account` stays on the provider's declared hosts: either
 * the values are refused, or the URL is https on the default port and on an allowed host.
 */
function staysConfined(provider: ProviderDefinition, account: ConnectionValues): boolean {
  let url: URL;
  try {
    url = apiBaseUrl(provider, account);
  } catch (error) {
    return error instanceof ProviderApiError;
  }
  const allowed = (provider.api?.allowedHosts ?? []).some((pattern) =>
    pattern.startsWith("*.") ? url.hostname.endsWith(pattern.slice(1)) : url.hostname === pattern,
  );
  return url.protocol === "https:" && url.port === "" && allowed;
}

/** Fills one host value into a copy of the account, as an edit through the API could. */
function withValue(account: ConnectionValues, key: string, value: string): ConnectionValues {
  return {
    credentials: { ...account.credentials, [key]: value },
    setupInformation: { ...account.setupInformation, [key]: value },
  };
}

const HOSTILE_HOST_VALUES = [
  "evil.example",
  "acme.evil.example",
  "evil.example#",
  "evil.example/x",
  "acme@evil.example",
  "acme.evil.example:443",
  "127.0.0.1",
  "localhost",
  "169.254.169.254",
  "acme.okta.com.evil.example",
  "https://evil.example",
  "https://acme.my.salesforce.com.evil.example",
  "https://acme.api-us1.com.evil.example",
  "http://acme.api-us1.com",
  "https://acme.api-us1.com:8443",
  "https://user@acme.api-us1.com",
  "https://acme.pipedrive.com/path",
  "",
];

describe("the shipped providers' API declarations", () => {
  it("exist for every shipped provider, citing https documentation", () => {
    expect(providers).toHaveLength(50);
    expect(providers.filter((provider) => !provider.api).map((provider) => provider.key)).toEqual([]);
    // Client credentials exchanged for a token first (providers/token-exchange.ts).
    expect(
      withApi()
        .filter((provider) => provider.api?.tokenExchange)
        .map((provider) => provider.key),
    ).toEqual(["marketo", "onelogin", "personio"]);
    expect(
      withApi()
        .filter((provider) => !provider.api?.verify)
        .map((provider) => provider.key),
    ).toEqual(WITHOUT_VERIFY);
    for (const provider of withApi()) {
      const api = provider.api as NonNullable<ProviderDefinition["api"]>;
      expect(api.docs, provider.key).toMatch(/^https:\/\/[^/]+\//);
      if (api.verify) expect(api.verify.docs, provider.key).toMatch(/^https:\/\/[^/]+\//);
      if (api.tokenExchange) expect(api.tokenExchange.docs, provider.key).toMatch(/^https:\/\/[^/]+\//);
      for (const item of provider.connectionMetadata ?? []) {
        expect(item.docs, `${provider.key}.${item.key}`).toMatch(/^https:\/\/[^/]+\//);
      }
    }
  });

  it("confine every per-tenant host to the provider's own domains", () => {
    const perTenant = withApi().filter((provider) => hostIsTemplated(provider.api?.baseUrl ?? ""));
    expect(perTenant.map((provider) => provider.key)).toEqual(
      expect.arrayContaining(["activecampaign", "freshdesk", "okta", "salesforce", "sap-successfactors"]),
    );
    for (const provider of perTenant) {
      const api = provider.api as NonNullable<ProviderDefinition["api"]>;
      // No entry as broad as a public suffix: `*.com` would admit every host.
      for (const pattern of api.allowedHosts ?? []) {
        expect(pattern.replace(/^\*\./, "").split(".").length, `${provider.key}: ${pattern}`).toBeGreaterThan(
          1,
        );
      }
      const account = accountOf(provider);
      const filled = apiBaseUrl(provider, account);
      expect(isAllowedTarget(provider, filled, filled), provider.key).toBe(true);
      for (const key of hostPlaceholders(api.baseUrl)) {
        const field = fieldsOf(provider).find((candidate) => candidate.key === key);
        if (field) {
          // A form field that chooses a host is checked by its own pattern before anything else.
          expect(field.secret, `${provider.key}.${key}`).toBe(false);
          expect(field.pattern, `${provider.key}.${key} needs a strict pattern`).toBeDefined();
        } else {
          expect(
            METADATA_SAMPLES[provider.key]?.[key],
            `add a sample ${key} for ${provider.key}`,
          ).toBeDefined();
        }
        for (const hostile of HOSTILE_HOST_VALUES) {
          expect(
            staysConfined(provider, withValue(account, key, hostile)),
            `${provider.key}.${key} = ${JSON.stringify(hostile)}`,
          ).toBe(true);
        }
      }
    }
  });

  it("never let an arbitrary host value lead outside the declared hosts", () => {
    const perTenant = withApi().filter((provider) => hostIsTemplated(provider.api?.baseUrl ?? ""));
    const hostValue = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.domain(),
      fc.domain().map((domain) => `acme.${domain}`),
    );
    for (const provider of perTenant) {
      const account = accountOf(provider);
      fc.assert(
        fc.property(
          fc.constantFrom(...hostPlaceholders(provider.api?.baseUrl ?? "")),
          hostValue,
          (key, value) => staysConfined(provider, withValue(account, key, value)),
        ),
        { numRuns: 150 },
      );
    }
  });

  it("build each verification request with the credentials only where the auth style puts them", () => {
    for (const provider of withApi().filter((candidate) => candidate.api?.verify)) {
      const account = accountOf(provider);
      const request = verificationRequest(provider, account);
      expect(request, provider.key).toBeDefined();
      if (!request) continue;
      const base = apiBaseUrl(provider, account);
      expect(isAllowedTarget(provider, base, request.url), provider.key).toBe(true);
      const secrets = secretsOf(account);
      const headerText = Object.values(request.headers).join("\n");
      const decoded = headerText.replace(/Basic (\S+)/, (_all, encoded: string) =>
        Buffer.from(encoded, "base64").toString("utf8"),
      );
      if (provider.api?.auth.style !== "query") {
        for (const secret of secrets) expect(request.url.href, provider.key).not.toContain(secret);
      }
      // The credential is applied: some secret (the token, the key, the password) is sent.
      expect(
        secrets.some((secret) => decoded.includes(secret) || request.url.href.includes(secret)),
        provider.key,
      ).toBe(true);
    }
  });

  it("make each post-grant metadata request before the values it fetches exist", () => {
    const items = withApi().flatMap((provider) =>
      (provider.connectionMetadata ?? []).flatMap((item) =>
        item.from === "request" ? [{ provider, item }] : [],
      ),
    );
    expect(items.map(({ provider, item }) => `${provider.key}.${item.key}`)).toEqual(
      expect.arrayContaining(["xero.tenant_id", "jira.cloud_id", "hubspot.hub_id", "mailchimp.dc"]),
    );
    for (const { provider, item } of items) {
      const request = metadataRequest(provider, item, accountOf(provider, true));
      expect(request.url.href, `${provider.key}.${item.key}`).toBe(item.url);
      expect(request.headers.authorization ?? "", provider.key).toMatch(/secret-access-token$/);
    }
  });
});

describe("a post-grant metadata request", () => {
  const file = {
    ...acmeHr,
    auth: {
      type: "oauth2",
      authorizationUrl: "https://login.example.com/authorize",
      tokenUrl: "https://login.example.com/token",
      scopes: [],
      pkce: true,
      refresh: true,
    },
    connectionMetadata: [
      {
        key: "region",
        from: "request",
        method: "GET",
        url: "https://login.example.com/me",
        pointer: "/region",
      },
      { key: "leak", from: "request", method: "GET", url: "https://evil.example.org/me", pointer: "/x" },
    ],
    api: {
      docs: "https://docs.example.com",
      baseUrl: "https://{{region}}.api.example.com/v1",
      allowedHosts: ["*.api.example.com", "login.example.com"],
      auth: { style: "bearer" },
    },
  };
  const checked = checkSchema(structuredClone(file));
  if (!checked.ok) throw new Error(checked.problems.join("; "));
  const problems = checkRules(checked.definition, "acme-hr");
  if (problems.length > 0) throw new Error(problems.join("; "));
  const provider = checked.definition;
  const [region, leak] = provider.connectionMetadata as [never, never];
  const fresh = { credentials: { access_token: "at" }, setupInformation: {} };

  it("goes to a declared host while the base URL still lacks the value", () => {
    expect(metadataRequest(provider, region, fresh).url.href).toBe("https://login.example.com/me");
  });

  it("is refused before any connection when its host is not declared, with or without the value", () => {
    for (const values of [fresh, { ...fresh, setupInformation: { region: "eu" } }]) {
      try {
        metadataRequest(provider, leak, values);
        expect.unreachable("the request was built");
      } catch (error) {
        expect((error as ProviderApiError).problem).toBe("host_not_allowed");
      }
    }
  });
});
