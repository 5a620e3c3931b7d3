import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATEGORIES } from "../../src/connect-sessions/schema.js";
import {
  loadProviderCatalog,
  type ProviderCatalog,
  ProviderCatalogError,
  SHIPPED_PROVIDERS_DIR,
} from "../../src/providers/catalog.js";
import { anchoredPattern } from "../../src/providers/oauth-urls.js";
import type { ProviderDefinition } from "../../src/providers/schema.js";
import { acmeHr, LOGO_SVG, oauthProvider } from "./fixtures.js";

const tempRoot = await mkdtemp(path.join(os.tmpdir(), "providers-test-"));
afterAll(() => rm(tempRoot, { recursive: true, force: true }));

let folderCount = 0;
/** Writes an operator folder: objects as JSON, strings verbatim; every folder gets the Acme logo. */
async function operatorFolder(files: Record<string, unknown>): Promise<string> {
  const dir = path.join(tempRoot, `operator-${++folderCount}`);
  await mkdir(path.join(dir, "logos"), { recursive: true });
  await writeFile(path.join(dir, "logos", "acme-hr.svg"), LOGO_SVG);
  for (const [name, content] of Object.entries(files)) {
    const text = typeof content === "string" ? content : JSON.stringify(content, null, 2);
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

async function catalogProblems(dirs: string[]): Promise<readonly string[]> {
  const error = await loadProviderCatalog({ extraDirs: dirs }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ProviderCatalogError);
  return (error as ProviderCatalogError).problems;
}

let shipped: ProviderCatalog;
beforeAll(async () => {
  shipped = await loadProviderCatalog({});
});

describe("the shipped catalog", () => {
  it("loads at least 40 providers covering all 14 categories", () => {
    expect(shipped.list().length).toBeGreaterThanOrEqual(40);
    for (const category of CATEGORIES) {
      expect(shipped.byCategory(category).length, category).toBeGreaterThan(0);
    }
    expect(shipped.get("bamboohr")?.name).toBe("BambooHR");
    expect(shipped.get("no-such-provider")).toBeUndefined();
    const names = shipped.list().map((provider) => provider.name.toLowerCase());
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, "en")));
  });

  it("declares only https OAuth2 URLs, filled from each setup field's own placeholder", () => {
    const oauth = shipped.list().filter((provider) => provider.auth.type === "oauth2");
    expect(oauth.length).toBeGreaterThanOrEqual(20);
    for (const provider of oauth) {
      if (provider.auth.type !== "oauth2") continue;
      expect(provider.auth.authorizationUrl).toMatch(/^https:\/\//);
      expect(provider.auth.tokenUrl).toMatch(/^https:\/\//);
      const sample = Object.fromEntries((provider.auth.setupFields ?? []).map((f) => [f.key, f.placeholder]));
      const urls = shipped.resolveOAuthUrls(provider, sample);
      expect(new URL(urls.authorizationUrl).protocol, provider.key).toBe("https:");
      expect(new URL(urls.tokenUrl).protocol, provider.key).toBe("https:");
      expect(urls.authorizationUrl).not.toMatch(/[{}]/);
    }
  });

  it("has field patterns that compile and accept their own placeholder", () => {
    for (const provider of shipped.list()) {
      const { auth } = provider;
      const fields = auth.type === "oauth2" ? (auth.setupFields ?? []) : auth.fields;
      for (const field of fields) {
        if (field.pattern === undefined) continue;
        const pattern = anchoredPattern(field.pattern);
        if (field.placeholder && !field.placeholder.includes("...")) {
          expect(pattern.test(field.placeholder), `${provider.key}.${field.key}`).toBe(true);
        }
      }
    }
  });

  it("gives every provider an accessible SVG monogram from the shipped logos folder", async () => {
    for (const provider of shipped.list()) {
      expect(path.dirname(provider.logoPath)).toBe(path.join(SHIPPED_PROVIDERS_DIR, "logos"));
      const svg = await readFile(provider.logoPath, "utf8");
      expect(svg).toMatch(/^<svg [^>]*viewBox="[^"]+"/);
      expect(svg).toContain('role="img"');
      expect(svg).toContain(`<title>${provider.name.replaceAll("&", "&amp;")}</title>`);
    }
  });

  it("is frozen", () => {
    const provider = shipped.get("salesforce") as ProviderDefinition;
    expect(Object.isFrozen(provider)).toBe(true);
    expect(Object.isFrozen(provider.auth)).toBe(true);
  });
});

describe("operator folders", () => {
  it("add providers and override shipped ones by key", async () => {
    const dir = await operatorFolder({
      "acme-hr.json": acmeHr,
      "bamboohr.json": { ...acmeHr, key: "bamboohr", name: "BambooHR (sandbox)", logo: "bamboohr.svg" },
      "README.md": "not a provider file",
    });
    const catalog = await loadProviderCatalog({ extraDirs: [dir] });
    expect(catalog.list().length).toBe(shipped.list().length + 1);
    expect(catalog.get("acme-hr")?.logoPath).toBe(path.join(dir, "logos", "acme-hr.svg"));
    expect(catalog.get("bamboohr")?.name).toBe("BambooHR (sandbox)");
    expect(catalog.get("bamboohr")?.logoPath).toBe(shipped.get("bamboohr")?.logoPath);
    expect(catalog.byCategory("hris").map((provider) => provider.key)).toContain("acme-hr");
  });

  it("apply in order, the last folder winning", async () => {
    const first = await operatorFolder({ "acme-hr.json": { ...acmeHr, name: "First" } });
    const second = await operatorFolder({ "acme-hr.json": { ...acmeHr, name: "Second" } });
    const catalog = await loadProviderCatalog({ extraDirs: [first, second] });
    expect(catalog.get("acme-hr")?.name).toBe("Second");
  });
});

describe("invalid provider files", () => {
  const basicWithoutPassword = {
    ...acmeHr,
    auth: {
      type: "basic",
      fields: [{ key: "username", label: "User", type: "text", required: true, secret: false }],
    },
  };
  const cases: [string, unknown, RegExp][] = [
    ["bad JSON", "{ not json", /: is not valid JSON \(/],
    ["an unknown field", { ...acmeHr, colour: "red" }, /: colour is not a known field$/],
    ["a wrong type", oauthProvider({ tokenUrl: 42 }), /: auth\.tokenUrl must be a string$/],
    ["a missing field", { ...acmeHr, name: undefined }, /: name is required$/],
    [
      "an unknown category",
      { ...acmeHr, categories: ["payroll"] },
      /: categories\[0\] must be one of: ats, /,
    ],
    ["a missing auth type", { ...acmeHr, auth: { fields: [] } }, /: auth\.type is required$/],
    [
      "an unknown auth type",
      { ...acmeHr, auth: { type: "saml" } },
      /: auth\.type must be one of: oauth2, api_key, basic$/,
    ],
    [
      "an undeclared placeholder",
      oauthProvider({ authorizationUrl: "https://{{tenant}}.example.com/authorize" }),
      /: auth\.authorizationUrl uses \{\{tenant\}\}, which auth\.setupFields does not declare$/,
    ],
    ["basic auth without a password", basicWithoutPassword, /: auth\.fields must include a "password" field/],
    [
      "a key that is not the file name",
      { ...acmeHr, key: "other" },
      /: key "other" must equal the file name "acme-hr"$/,
    ],
    ["a missing logo", { ...acmeHr, logo: "nope.svg" }, /: logo "nope\.svg" is not in .*logos\//],
    [
      "a pattern that does not compile",
      { ...acmeHr, auth: { ...acmeHr.auth, fields: [{ ...acmeHr.auth.fields[0], pattern: "[a-z" }] } },
      /: auth\.fields\[0\]\.pattern does not compile: /,
    ],
    [
      "an overridden OAuth2 parameter",
      oauthProvider({ authorizationParams: { redirect_uri: "https://evil.example" } }),
      /: auth\.authorizationParams\.redirect_uri is set by the OAuth2 flow/,
    ],
  ];

  it.each(cases)("fail with a message naming the file and %s", async (_problem, content, expected) => {
    const dir = await operatorFolder({ "acme-hr.json": content });
    const problems = await catalogProblems([dir]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.startsWith(`${dir}/acme-hr.json: `)).toBe(true);
    expect(problems[0]).toMatch(expected);
  });

  it("reports every problem of every file at once", async () => {
    const dir = await operatorFolder({
      "acme-hr.json": { ...acmeHr, key: "other", logo: "nope.svg" },
      "broken.json": "[",
      "Upper.json": acmeHr,
    });
    const error = await loadProviderCatalog({ extraDirs: [dir, path.join(tempRoot, "missing")] }).catch(
      (thrown: ProviderCatalogError) => thrown,
    );
    expect(error).toBeInstanceOf(ProviderCatalogError);
    const { problems, message } = error as ProviderCatalogError;
    expect(problems).toEqual([
      expect.stringMatching(/\/Upper\.json: the file name must be a provider key/),
      expect.stringMatching(/\/acme-hr\.json: key "other" must equal the file name "acme-hr"$/),
      expect.stringMatching(/\/acme-hr\.json: logo "nope\.svg" is not in /),
      expect.stringMatching(/\/broken\.json: is not valid JSON/),
      expect.stringMatching(/\/missing: cannot read the folder \(ENOENT\)$/),
    ]);
    expect(message).toMatch(/^The provider catalog has 5 problems:\n {2}- /);
  });

  it("refuse a logo that is not a plain SVG", async () => {
    const dir = await operatorFolder({ "acme-hr.json": { ...acmeHr, logo: "evil.svg" } });
    await writeFile(path.join(dir, "logos", "evil.svg"), '<svg onload="alert(1)"></svg>');
    expect(await catalogProblems([dir])).toEqual([
      expect.stringMatching(/: logo "evil\.svg" contains script, event handlers or foreign content$/),
    ]);
  });
});
