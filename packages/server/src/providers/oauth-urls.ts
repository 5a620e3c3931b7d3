/**
 * OAuth2 URL templates: `{{field}}` placeholders filled from the values the end user typed
 * into a provider's setup fields (an Okta domain, a Zendesk subdomain).
 *
 * Placeholders are an SSRF and open-redirect surface: the browser is sent to the
 * authorization URL, and the server posts authorization codes and client secrets to the token
 * URL. A value therefore never changes the structure of the URL around it:
 * - in the host, a value must be hostname labels (letters, digits, inner hyphens, single
 *   dots), so it cannot bring `/`, `@`, `?`, `#`, `:`, `%`, `..` or whitespace and become a
 *   path, userinfo, a port or another host;
 * - anywhere else it is percent-encoded and may not be `.` or contain `..` (no dot segments);
 * - the filled URL must parse back as https with exactly the host that was built, and that
 *   host may not be an IP address or a single label such as `localhost`;
 * - a value must also match its field's own pattern: this is how the shipped files pin a
 *   whole-host placeholder to the provider's domains (Okta's `{{domain}}` to `*.okta.com`).
 */
import type { ProviderDefinition } from "./schema.js";
import { DEFAULT_SCOPE_SEPARATOR } from "./schema.js";

const HTTPS = "https://";
const PLACEHOLDER = /\{\{([a-zA-Z0-9_]+)\}\}/g;
const HOSTNAME_LABELS = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const MAX_SETUP_VALUE_LENGTH = 253;

/** The end user gave a setup value that is missing, malformed or unsafe to put in a URL. */
export class ProviderSetupError extends Error {
  override readonly name = "ProviderSetupError";
  constructor(
    message: string,
    /** The setup field at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface ResolvedOAuthUrls {
  readonly authorizationUrl: string;
  readonly tokenUrl: string;
  /** The default scopes joined with the provider's separator ("" when it has none). */
  readonly scope: string;
}

export type SetupValues = Readonly<Record<string, string | undefined>>;

/** The field keys a URL template refers to, in order of appearance. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1] as string);
}

/** Where the authority (host and port) of an `https://` template ends. */
export function authorityEnd(template: string): number {
  const start = HTTPS.length;
  const end = template.slice(start).search(/[/?#]/);
  return end === -1 ? template.length : start + end;
}

/** Fills an OAuth2 provider's URLs; throws `ProviderSetupError` for any unusable value. */
export function resolveOAuthUrls(
  provider: ProviderDefinition,
  setupValues: SetupValues,
  options: { allowLoopbackUrls?: boolean } = {},
): ResolvedOAuthUrls {
  const { auth } = provider;
  if (auth.type !== "oauth2") {
    throw new ProviderSetupError(`${provider.key} does not use OAuth2 (its auth type is ${auth.type})`);
  }
  const values = checkedSetupValues(provider, setupValues);
  return Object.freeze({
    authorizationUrl: fillTemplate(auth.authorizationUrl, values, options.allowLoopbackUrls === true),
    tokenUrl: fillTemplate(auth.tokenUrl, values, options.allowLoopbackUrls === true),
    scope: auth.scopes.join(auth.scopeSeparator ?? DEFAULT_SCOPE_SEPARATOR),
  });
}

function checkedSetupValues(provider: ProviderDefinition, setupValues: SetupValues): Map<string, string> {
  const values = new Map<string, string>();
  const fields = provider.auth.type === "oauth2" ? (provider.auth.setupFields ?? []) : [];
  for (const field of fields) {
    const raw = Object.hasOwn(setupValues, field.key) ? setupValues[field.key] : undefined;
    const value = typeof raw === "string" ? raw.trim() : "";
    if (value === "") {
      if (field.required) throw new ProviderSetupError(`${field.label} is required`, field.key);
      continue;
    }
    if (value.length > MAX_SETUP_VALUE_LENGTH) {
      throw new ProviderSetupError(`${field.label} is too long`, field.key);
    }
    if (field.pattern !== undefined && !anchoredPattern(field.pattern).test(value)) {
      throw new ProviderSetupError(`${field.label} is not in the expected format`, field.key);
    }
    values.set(field.key, value);
  }
  return values;
}

/** A field's pattern as the connect page's input applies it: the whole value must match. */
export function anchoredPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, "u");
}

function fillTemplate(template: string, values: ReadonlyMap<string, string>, allowLoopback: boolean): string {
  const fill = (part: string, render: (key: string, value: string) => string) =>
    part.replace(PLACEHOLDER, (_match, key: string) => {
      const value = values.get(key);
      if (value === undefined) throw new ProviderSetupError(`a value for ${key} is required`, key);
      return render(key, value);
    });
  if (allowLoopback && !template.startsWith(HTTPS)) {
    const url = new URL(template);
    if (isLoopbackUrl(url) && placeholdersOf(template).length === 0) return url.href;
  }
  const hostEnd = authorityEnd(template);
  const authority = fill(template.slice(HTTPS.length, hostEnd), hostPart);
  const rest = fill(template.slice(hostEnd), encodedPart);
  return checkedUrl(`${HTTPS}${authority}${rest}`, authority);
}

/** A value placed in a URL's host: hostname labels only, lowercased. */
export function hostPart(key: string, value: string): string {
  if (!HOSTNAME_LABELS.test(value)) {
    throw new ProviderSetupError(`${key} may contain only letters, digits, hyphens and single dots`, key);
  }
  return value.toLowerCase();
}

/** A value placed after the host: percent-encoded, never a dot segment. */
export function encodedPart(key: string, value: string): string {
  if (value === "." || value.includes("..")) {
    throw new ProviderSetupError(`${key} may not be "." or contain ".."`, key);
  }
  try {
    return encodeURIComponent(value);
  } catch {
    throw new ProviderSetupError(`${key} is not valid text`, key);
  }
}

function checkedUrl(filled: string, expectedAuthority: string): string {
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw new ProviderSetupError("the setup values do not form a valid URL");
  }
  const unchanged =
    url.protocol === "https:" &&
    url.username === "" &&
    url.password === "" &&
    url.host === expectedAuthority.toLowerCase();
  if (!unchanged || !isPublicHostname(url.hostname)) {
    throw new ProviderSetupError("the setup values change the provider's host");
  }
  return url.href;
}

/** `http://` on this machine only: 127.0.0.1, ::1 or localhost. */
export function isLoopbackUrl(url: URL): boolean {
  return url.protocol === "http:" && ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
}

/** At least two labels and a non-numeric last label: rules out `localhost` and IPv4 literals. */
export function isPublicHostname(hostname: string): boolean {
  const labels = hostname.split(".");
  const last = labels[labels.length - 1] ?? "";
  return labels.length >= 2 && labels.every((label) => label.length > 0) && !/^\d+$/.test(last);
}
