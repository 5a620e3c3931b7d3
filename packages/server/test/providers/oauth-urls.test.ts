import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  loadProviderCatalog,
  type ProviderCatalog,
  ProviderSetupError,
} from "../../src/providers/catalog.js";
import type { ProviderDefinition } from "../../src/providers/schema.js";
import { oauthProvider } from "./fixtures.js";

let shipped: ProviderCatalog;
beforeAll(async () => {
  shipped = await loadProviderCatalog({});
});

describe("resolveOAuthUrls", () => {
  const zendesk = () => shipped.get("zendesk") as ProviderDefinition;
  const okta = () => shipped.get("okta") as ProviderDefinition;
  /** No field pattern: only the structural checks stand between a value and the URL. */
  const unpatterned = oauthProvider({
    authorizationUrl: "https://{{subdomain}}.example.com/authorize",
    tokenUrl: "https://{{subdomain}}.example.com/token",
    setupFields: [{ key: "subdomain", label: "Subdomain", type: "text", required: true, secret: false }],
  }) as ProviderDefinition;

  it("fills placeholders from setup values", () => {
    expect(shipped.resolveOAuthUrls(zendesk(), { subdomain: " Acme-Support " })).toEqual({
      authorizationUrl: "https://acme-support.zendesk.com/oauth/authorizations/new",
      tokenUrl: "https://acme-support.zendesk.com/oauth/tokens",
      scope: "read",
    });
    expect(shipped.resolveOAuthUrls(okta(), { domain: "acme.oktapreview.com" }).tokenUrl).toBe(
      "https://acme.oktapreview.com/oauth2/v1/token",
    );
    const zoho = shipped.resolveOAuthUrls(shipped.get("zoho-crm") as ProviderDefinition, {
      region: "com.au",
    });
    expect(zoho.authorizationUrl).toBe("https://accounts.zoho.com.au/oauth/v2/auth");
    expect(zoho.scope).toBe("ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ");
  });

  it.each([
    "acme/evil",
    "acme.evil.com#",
    "evil.com@acme",
    "acme?x=",
    "acme:8443",
    "..",
    "acme..evil",
    "acme%2Fevil",
    "acme evil",
    "-acme",
    "",
  ])("refuses the hostile or malformed subdomain %j, with or without a field pattern", (subdomain) => {
    expect(() => shipped.resolveOAuthUrls(zendesk(), { subdomain })).toThrow(ProviderSetupError);
    expect(() => shipped.resolveOAuthUrls(unpatterned, { subdomain })).toThrow(ProviderSetupError);
  });

  it.each(["localhost", "127.0.0.1", "10.0.0.1", "[::1]"])(
    "refuses a whole host that is local or an IP address: %j",
    (host) => {
      const wholeHost = oauthProvider({
        authorizationUrl: "https://{{host}}/authorize",
        tokenUrl: "https://{{host}}/token",
        setupFields: [{ key: "host", label: "Host", type: "text", required: true, secret: false }],
      }) as ProviderDefinition;
      expect(() => shipped.resolveOAuthUrls(wholeHost, { host })).toThrow(ProviderSetupError);
      expect(shipped.resolveOAuthUrls(wholeHost, { host: "acme.example.org" }).tokenUrl).toBe(
        "https://acme.example.org/token",
      );
    },
  );

  it.each(["evil.com", "localhost", "127.0.0.1", "acme.okta.com.evil.com", "acme.okta.com/x"])(
    "refuses an Okta domain outside Okta: %j",
    (domain) => {
      expect(() => shipped.resolveOAuthUrls(okta(), { domain })).toThrow(ProviderSetupError);
    },
  );

  it("refuses a provider that does not use OAuth2", () => {
    expect(() => shipped.resolveOAuthUrls(shipped.get("bamboohr") as ProviderDefinition, {})).toThrow(
      /does not use OAuth2/,
    );
  });

  const hostileText = fc.oneof(
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.string({ unit: fc.constantFrom(..."aZ09.-_/\\@?#:%& \t\n[]"), maxLength: 20 }),
  );

  it.each([
    ["zendesk (field pattern)", () => zendesk(), ".zendesk.com"],
    ["a provider without a field pattern", () => unpatterned, ".example.com"],
  ] as const)(
    "either keeps a host value inside the domain of %s or rejects it (property)",
    (_name, provider, suffix) => {
      fc.assert(
        fc.property(hostileText, (subdomain) => {
          let urls: { authorizationUrl: string; tokenUrl: string };
          try {
            urls = shipped.resolveOAuthUrls(provider(), { subdomain });
          } catch (error) {
            return error instanceof ProviderSetupError;
          }
          const expectedHost = `${subdomain.trim().toLowerCase()}${suffix}`;
          return [urls.authorizationUrl, urls.tokenUrl].every((href) => {
            const url = new URL(href);
            return (
              url.protocol === "https:" && url.username === "" && url.port === "" && url.host === expectedHost
            );
          });
        }),
        { numRuns: 2000 },
      );
    },
  );

  it("either keeps a path value inside its path segment or rejects it (property)", () => {
    const provider = oauthProvider({
      authorizationUrl: "https://login.example.com/{{tenant}}/authorize?x=1",
      tokenUrl: "https://login.example.com/{{tenant}}/token",
      setupFields: [{ key: "tenant", label: "Tenant", type: "text", required: true, secret: false }],
    }) as ProviderDefinition;
    fc.assert(
      fc.property(hostileText, (tenant) => {
        let urls: { authorizationUrl: string };
        try {
          urls = shipped.resolveOAuthUrls(provider, { tenant });
        } catch (error) {
          return error instanceof ProviderSetupError;
        }
        const url = new URL(urls.authorizationUrl);
        const segments = url.pathname.split("/");
        return (
          url.host === "login.example.com" &&
          segments.length === 3 &&
          segments[2] === "authorize" &&
          decodeURIComponent(segments[1] as string) === tenant.trim() &&
          url.search === "?x=1"
        );
      }),
      { numRuns: 2000 },
    );
  });
});
