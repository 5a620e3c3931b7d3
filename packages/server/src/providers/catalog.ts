/**
 * The provider catalog: every provider the connect page can offer, loaded once at start from
 * declarative files, one per provider (`<key>.json`, logos in `logos/` beside them).
 *
 * Contract:
 * - The shipped folder (`packages/server/providers/`) is read first, then each operator folder
 *   in the order given. A file whose key is already loaded replaces the earlier provider
 *   whole: this is how an operator overrides a shipped provider (say, a sandbox token URL).
 * - Every file is validated (schema, then cross-field rules, then its logo). Any problem in
 *   any file stops the start with one `ProviderCatalogError` that lists them all, each
 *   prefixed with the file it is in: an operator fixes everything in one pass, and a broken
 *   catalog never serves half its providers.
 * - An operator's logo is looked up in its own `logos/` folder first, then in the shipped one.
 * - Loaded providers are deeply frozen; OAuth2 providers always have `scopeSeparator` set.
 * - The sandbox providers (`providers/sandbox/`) are loaded only when asked for, right after
 *   the shipped folder. Their files write this server's own address as `{{connect_hub_url}}`,
 *   replaced by PUBLIC_URL when they are read; they alone are marked `sandbox`, which is what
 *   lets their calls reach this server even on loopback (see `outbound/client.ts`).
 */
import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Category } from "../connect-sessions/schema.js";
import { OWN_URL_PLACEHOLDER } from "../sandbox/constants.js";
import { type ResolvedOAuthUrls, resolveOAuthUrls, type SetupValues } from "./oauth-urls.js";
import type { ProviderDefinition } from "./schema.js";
import { checkRules, checkSchema } from "./validate.js";

export { ProviderSetupError, type ResolvedOAuthUrls, type SetupValues } from "./oauth-urls.js";

/** `packages/server/providers/`, from both `src/providers/` and `dist/providers/`. */
export const SHIPPED_PROVIDERS_DIR = fileURLToPath(new URL("../../providers/", import.meta.url));
/** The sandbox providers' files, served by this server itself. */
export const SANDBOX_PROVIDERS_DIR = path.join(SHIPPED_PROVIDERS_DIR, "sandbox");

const LOGOS_FOLDER = "logos";
const MAX_LOGO_BYTES = 64 * 1024;
const PROVIDER_FILE = /^([a-z0-9]+(?:-[a-z0-9]+)*)\.json$/;

export type CatalogProvider = Readonly<ProviderDefinition> & {
  /** Absolute path of the provider's SVG logo. */
  readonly logoPath: string;
  /** A sandbox provider, backed by this server's own `/sandbox/` routes. */
  readonly sandbox?: boolean;
};

export interface ProviderCatalog {
  /** Every provider, sorted by display name. */
  list(): readonly CatalogProvider[];
  get(key: string): CatalogProvider | undefined;
  byCategory(category: Category): readonly CatalogProvider[];
  /**
   * The provider's OAuth2 URLs with their `{{placeholders}}` filled from the end user's setup
   * values, plus the default scope string. Throws `ProviderSetupError` for a value that is
   * missing, malformed or would change the URL's host (see `oauth-urls.ts`).
   */
  resolveOAuthUrls(provider: ProviderDefinition, setupValues: SetupValues): ResolvedOAuthUrls;
}

export class ProviderCatalogError extends Error {
  override readonly name = "ProviderCatalogError";
  constructor(readonly problems: readonly string[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`The provider catalog has ${count}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}

export interface LoadProviderCatalogOptions {
  /** Operator folders of provider files, read after the shipped one (later ones win). */
  readonly extraDirs?: readonly string[];
  /**
   * Accept plain-http OAuth2 URLs on loopback hosts (a development or test identity provider
   * on this machine). Off in production: the server ties it to OUTBOUND_ALLOW_PRIVATE_NETWORKS.
   */
  readonly allowLoopbackUrls?: boolean;
  /**
   * Load the sandbox providers, pointing at this PUBLIC_URL. It must be https or a loopback
   * http address (the quick start's `http://localhost:4000`).
   */
  readonly sandboxPublicUrl?: string;
}

interface ProviderFolder {
  readonly dir: string;
  /** How problems name the folder: `providers` for the shipped one, else as configured. */
  readonly label: string;
  /** The sandbox folder: `{{connect_hub_url}}` becomes this URL, and loopback is accepted. */
  readonly ownUrl?: string;
}

export async function loadProviderCatalog(
  options: LoadProviderCatalogOptions = {},
): Promise<ProviderCatalog> {
  const shipped: ProviderFolder = { dir: SHIPPED_PROVIDERS_DIR, label: "providers" };
  const folders: ProviderFolder[] = [
    shipped,
    ...(options.sandboxPublicUrl
      ? [{ dir: SANDBOX_PROVIDERS_DIR, label: "providers/sandbox", ownUrl: options.sandboxPublicUrl }]
      : []),
    ...(options.extraDirs ?? []).map((dir) => ({
      dir: path.resolve(dir),
      label: dir.replace(/[\\/]+$/, ""),
    })),
  ];
  const problems: string[] = [];
  const providers = new Map<string, CatalogProvider>();
  for (const folder of folders) {
    const fileNames = await providerFileNames(folder, problems);
    const loaded = await Promise.all(
      fileNames.map((fileName) =>
        loadProviderFile(
          folder,
          fileName,
          shipped,
          options.allowLoopbackUrls === true || folder.ownUrl !== undefined,
        ),
      ),
    );
    for (const { provider, fileProblems } of loaded) {
      problems.push(...fileProblems);
      if (provider) providers.set(provider.key, provider);
    }
  }
  if (problems.length > 0) throw new ProviderCatalogError(problems);
  return createCatalog([...providers.values()], options.allowLoopbackUrls === true);
}

async function providerFileNames(folder: ProviderFolder, problems: string[]): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder.dir, { withFileTypes: true });
  } catch (error) {
    problems.push(
      `${folder.label}: cannot read the folder (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
    return [];
  }
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json"))
    .map((entry) => entry.name)
    .sort();
}

interface LoadedFile {
  readonly provider?: CatalogProvider;
  /** Each prefixed with the file's label, e.g. `providers/okta.json: auth.tokenUrl is required`. */
  readonly fileProblems: string[];
}

async function loadProviderFile(
  folder: ProviderFolder,
  fileName: string,
  shipped: ProviderFolder,
  allowLoopbackUrls: boolean,
): Promise<LoadedFile> {
  const failed = (found: string[]): LoadedFile => ({
    fileProblems: found.map((problem) => `${folder.label}/${fileName}: ${problem}`),
  });
  const fileKey = PROVIDER_FILE.exec(fileName)?.[1];
  if (fileKey === undefined) {
    return failed(["the file name must be a provider key (lowercase letters, digits, hyphens) plus .json"]);
  }
  let parsed: unknown;
  try {
    let text = await readFile(path.join(folder.dir, fileName), "utf8");
    if (folder.ownUrl !== undefined) {
      text = text.replaceAll(OWN_URL_PLACEHOLDER, JSON.stringify(folder.ownUrl).slice(1, -1));
    }
    parsed = JSON.parse(text);
  } catch (error) {
    return failed([`is not valid JSON (${(error as Error).message})`]);
  }
  const schema = checkSchema(parsed);
  if (!schema.ok) return failed(schema.problems);
  const logo = await findLogo(schema.definition.logo, folder, shipped);
  const problems = [...checkRules(schema.definition, fileKey, { allowLoopbackUrls }), ...logo.problems];
  if (problems.length > 0 || logo.path === undefined) return failed(problems);
  const sandbox = folder.ownUrl !== undefined ? { sandbox: true } : {};
  return {
    provider: deepFreeze({ ...schema.definition, logoPath: logo.path, ...sandbox }),
    fileProblems: [],
  };
}

async function findLogo(
  fileName: string,
  folder: ProviderFolder,
  shipped: ProviderFolder,
): Promise<{ path?: string; problems: string[] }> {
  const candidates = [...new Set([folder.dir, shipped.dir])].map((dir) =>
    path.join(dir, LOGOS_FOLDER, fileName),
  );
  for (const candidate of candidates) {
    const size = await stat(candidate).then(
      (stats) => (stats.isFile() ? stats.size : undefined),
      () => undefined,
    );
    if (size === undefined) continue;
    if (size > MAX_LOGO_BYTES) return { problems: [`logo "${fileName}" is larger than 64 KiB`] };
    const problem = svgProblem(await readFile(candidate, "utf8"));
    return problem ? { problems: [`logo "${fileName}" ${problem}`] } : { path: candidate, problems: [] };
  }
  const where =
    folder === shipped
      ? `${shipped.label}/${LOGOS_FOLDER}/`
      : `${folder.label}/${LOGOS_FOLDER}/ or ${shipped.label}/${LOGOS_FOLDER}/`;
  return { problems: [`logo "${fileName}" is not in ${where}`] };
}

/**
 * Logos are served to end users' browsers, where an SVG opened directly is a document that
 * can run script: accept only a plain `<svg>` without script, event handlers or foreign
 * content.
 */
function svgProblem(text: string): string | undefined {
  const body = text
    .replace(/^\uFEFF/, "")
    .replace(/<\?xml[^>]*\?>/, "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .trim();
  if (!/^<svg[\s>]/.test(body) || !/<\/svg>$/.test(body)) return "is not an SVG file";
  if (/<script|<foreignObject|javascript:|\son[a-z]+\s*=/i.test(body)) {
    return "contains script, event handlers or foreign content";
  }
  return undefined;
}

function createCatalog(providers: CatalogProvider[], allowLoopbackUrls: boolean): ProviderCatalog {
  const sorted = Object.freeze(
    [...providers].sort(
      (a, b) => a.name.localeCompare(b.name, "en", { sensitivity: "base" }) || a.key.localeCompare(b.key),
    ),
  );
  const byKey = new Map(sorted.map((provider) => [provider.key, provider]));
  return Object.freeze({
    list: () => sorted,
    get: (key: string) => byKey.get(key),
    byCategory: (category: Category) => sorted.filter((provider) => provider.categories.includes(category)),
    resolveOAuthUrls: (provider: ProviderDefinition, setupValues: SetupValues) =>
      resolveOAuthUrls(provider, setupValues, {
        // The sandbox's URLs are this server's own, loopback in the quick start.
        allowLoopbackUrls: allowLoopbackUrls || byKey.get(provider.key)?.sandbox === true,
      }),
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const property of Object.values(value)) deepFreeze(property);
    Object.freeze(value);
  }
  return value;
}
