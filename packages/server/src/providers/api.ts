/**
 * How a provider's API is called with a linked account's credentials: the base URL (filled
 * from the account's non-secret values), the hosts a call may reach, and where the credentials
 * go (bearer token, basic auth, a named header, a query parameter). Verification, connection
 * metadata requests and the proxy all build their requests here, so that one set of rules
 * decides where stored credentials may be sent.
 *
 * Contract:
 * - Only non-secret values (setup information, non-secret form fields, connection metadata)
 *   fill URLs; secrets only ever reach the credential slot of `auth` (the loader checks files).
 * - A request goes only to the filled base URL's host or to a host matching `allowedHosts`.
 *   When the base URL's host itself comes from a value, that host must match `allowedHosts`:
 *   a value edited through the API, or returned by a tampered token response, can never send
 *   credentials to another host.
 * - Paths are relative to the base URL and may not contain dot segments (raw or encoded), so
 *   `../` cannot climb out of the base path.
 * - Plain http is accepted only for loopback hosts when `allowLoopbackUrls` is set (tests and
 *   local simulators); the outbound client's guard still applies to every call.
 */
import {
  anchoredPattern,
  encodedPart,
  hostPart,
  isPublicHostname,
  ProviderSetupError,
} from "./oauth-urls.js";
import type { ConnectionMetadataItem, ProviderApi, ProviderDefinition, ProviderField } from "./schema.js";

const PLACEHOLDER = /\{\{([a-zA-Z0-9_]+)\}\}/g;
const LEADING_PLACEHOLDER = /^\{\{([a-zA-Z0-9_]+)\}\}/;
const LOOPBACK_HOSTNAMES = new Set(["127.0.0.1", "[::1]", "localhost"]);

export type ProviderApiProblem =
  | "no_api"
  | "missing_value"
  | "invalid_value"
  | "host_not_allowed"
  | "invalid_path";

/** A call that cannot be built; nothing was sent. `message` is safe to show (no secrets). */
export class ProviderApiError extends Error {
  override readonly name = "ProviderApiError";
  constructor(
    message: string,
    readonly problem: ProviderApiProblem,
  ) {
    super(message);
  }
}

/** The values of one linked account, as stored (credentials decrypted). */
export interface ConnectionValues {
  readonly credentials: Readonly<Record<string, unknown>>;
  readonly setupInformation: Readonly<Record<string, unknown>> | null;
}

export interface ProviderApiOptions {
  /** Accept plain-http loopback URLs (tests and local simulators). */
  readonly allowLoopbackUrls?: boolean;
}

export interface ProviderRequest {
  readonly method: string;
  readonly url: URL;
  /** The provider's static headers and the credential header, if its style uses one. */
  readonly headers: Record<string, string>;
}

/** The provider's API declaration, or a `no_api` error naming the provider. */
export function providerApi(provider: ProviderDefinition): ProviderApi {
  if (!provider.api) {
    throw new ProviderApiError(`${provider.name} has no declared API in the catalog`, "no_api");
  }
  return provider.api;
}

/** The fields whose values may fill URLs: not secret. */
function publicFieldsOf(provider: ProviderDefinition): ProviderField[] {
  const fields = provider.auth.type === "oauth2" ? (provider.auth.setupFields ?? []) : provider.auth.fields;
  return fields.filter((field) => !field.secret);
}

/** Names a URL template may use: non-secret fields and connection metadata keys. */
export function publicValueNames(provider: ProviderDefinition): Set<string> {
  return new Set([
    ...publicFieldsOf(provider).map((field) => field.key),
    ...(provider.connectionMetadata ?? []).map((item) => item.key),
  ]);
}

/** Names an `auth` template may use: every credential value, plus the public ones. */
export function credentialValueNames(provider: ProviderDefinition): Set<string> {
  const names = publicValueNames(provider);
  if (provider.auth.type === "oauth2") names.add("access_token");
  else for (const field of provider.auth.fields) names.add(field.key);
  // The token the stored client credentials are exchanged for (providers/token-exchange.ts).
  if (provider.api?.tokenExchange) names.add("access_token");
  return names;
}

function stringValue(source: Readonly<Record<string, unknown>> | null, key: string): string | undefined {
  if (!source || !Object.hasOwn(source, key)) return undefined;
  const value = source[key];
  if (typeof value === "string") return value.trim() === "" ? undefined : value.trim();
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A public value: setup information first (it holds metadata), then the non-secret fields. */
function publicValue(provider: ProviderDefinition, values: ConnectionValues, key: string): string {
  if (!publicValueNames(provider).has(key)) {
    throw new ProviderApiError(`${key} is not a non-secret value of ${provider.name}`, "invalid_value");
  }
  const value = stringValue(values.setupInformation, key) ?? stringValue(values.credentials, key);
  if (value === undefined) {
    throw new ProviderApiError(
      `the account has no ${key}, which ${provider.name}'s API needs`,
      "missing_value",
    );
  }
  const field = publicFieldsOf(provider).find((candidate) => candidate.key === key);
  if (field?.pattern !== undefined && !anchoredPattern(field.pattern).test(value)) {
    throw new ProviderApiError(`the account's ${key} is not in the expected format`, "invalid_value");
  }
  return value;
}

/** Fills a template's placeholders after the authority: percent-encoded, no dot segments. */
function fillEncoded(provider: ProviderDefinition, values: ConnectionValues, template: string): string {
  return template.replace(PLACEHOLDER, (_match, key: string) => {
    try {
      return encodedPart(key, publicValue(provider, values, key));
    } catch (error) {
      if (error instanceof ProviderSetupError) throw new ProviderApiError(error.message, "invalid_value");
      throw error;
    }
  });
}

function isLoopback(url: URL): boolean {
  return url.protocol === "http:" && LOOPBACK_HOSTNAMES.has(url.hostname);
}

function matchesHostPattern(hostname: string, pattern: string): boolean {
  if (pattern.startsWith("*."))
    return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
  return hostname === pattern;
}

function matchesAllowedHosts(api: ProviderApi, url: URL): boolean {
  return (api.allowedHosts ?? []).some((pattern) => matchesHostPattern(url.hostname, pattern));
}

/** Whether the base URL's host is chosen by a value rather than written in the file. */
export function hostIsTemplated(baseUrl: string): boolean {
  if (LEADING_PLACEHOLDER.test(baseUrl)) return true;
  const afterScheme = baseUrl.replace(/^https?:\/\//, "");
  const authority = afterScheme.slice(0, afterScheme.search(/[/?#]|$/));
  return authority.includes("{{");
}

/** An https origin (or loopback http when allowed) with the default port, from a value. */
function originValue(
  provider: ProviderDefinition,
  values: ConnectionValues,
  key: string,
  options: ProviderApiOptions,
): string {
  const raw = publicValue(provider, values, key);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ProviderApiError(`the account's ${key} is not a URL`, "invalid_value");
  }
  const loopback = options.allowLoopbackUrls === true && isLoopback(url);
  const plain = url.username === "" && url.password === "" && url.search === "" && url.hash === "";
  const https = url.protocol === "https:" && url.port === "" && isPublicHostname(url.hostname);
  if (!plain || !(https || loopback) || (url.pathname !== "/" && url.pathname !== "")) {
    throw new ProviderApiError(`the account's ${key} must be an https origin`, "invalid_value");
  }
  return url.origin;
}

/** The provider's base URL for this account, confined to its declared hosts. */
export function apiBaseUrl(
  provider: ProviderDefinition,
  values: ConnectionValues,
  options: ProviderApiOptions = {},
): URL {
  const api = providerApi(provider);
  const template = api.baseUrl;
  let filled: string;
  const leading = LEADING_PLACEHOLDER.exec(template);
  if (leading) {
    const origin = originValue(provider, values, leading[1] as string, options);
    filled = origin + fillEncoded(provider, values, template.slice(leading[0].length));
  } else {
    const schemeEnd = template.indexOf("://") + 3;
    const rest = template.slice(schemeEnd);
    const authorityLength = rest.search(/[/?#]|$/);
    const authority = rest.slice(0, authorityLength).replace(PLACEHOLDER, (_match, key: string) => {
      try {
        return hostPart(key, publicValue(provider, values, key));
      } catch (error) {
        if (error instanceof ProviderSetupError) throw new ProviderApiError(error.message, "invalid_value");
        throw error;
      }
    });
    filled =
      template.slice(0, schemeEnd) + authority + fillEncoded(provider, values, rest.slice(authorityLength));
  }
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw new ProviderApiError(`${provider.name}'s base URL is not valid for this account`, "invalid_value");
  }
  if (url.protocol !== "https:" && !(options.allowLoopbackUrls === true && isLoopback(url))) {
    throw new ProviderApiError(`${provider.name}'s base URL must be https`, "host_not_allowed");
  }
  if (url.username !== "" || url.password !== "") {
    throw new ProviderApiError(`${provider.name}'s base URL may not carry credentials`, "invalid_value");
  }
  if (hostIsTemplated(template) && !matchesAllowedHosts(api, url)) {
    throw new ProviderApiError(
      `the account's values lead to ${url.hostname}, which is not one of ${provider.name}'s hosts`,
      "host_not_allowed",
    );
  }
  return url;
}

/** Whether `target` may receive this account's credentials. */
export function isAllowedTarget(
  provider: ProviderDefinition,
  base: URL,
  target: URL,
  options: ProviderApiOptions = {},
): boolean {
  const api = providerApi(provider);
  if (target.username !== "" || target.password !== "") return false;
  if (target.protocol === "https:") {
    if (target.host === base.host) return true;
    return target.port === "" && matchesAllowedHosts(api, target);
  }
  return (
    options.allowLoopbackUrls === true &&
    isLoopback(target) &&
    (target.host === base.host || matchesAllowedHosts(api, target))
  );
}

/** Dot segments, raw or percent-encoded (`..`, `%2e%2e`, `.%2E`), and backslashes. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/**
 * The URL of a call: `path` joined to the base URL's path, or an absolute `url` that must lead
 * to an allowed host. Query strings are kept; fragments are dropped.
 */
export function resolveProviderUrl(
  provider: ProviderDefinition,
  values: ConnectionValues,
  target: { readonly path?: string; readonly url?: string },
  options: ProviderApiOptions = {},
): URL {
  const base = apiBaseUrl(provider, values, options);
  let url: URL;
  if (target.url !== undefined && target.url !== "") {
    try {
      url = new URL(target.url);
    } catch {
      throw new ProviderApiError("url must be an absolute URL", "invalid_path");
    }
    if (DOT_SEGMENT.test(url.pathname) || target.url.includes("\\")) {
      throw new ProviderApiError("url may not contain dot segments", "invalid_path");
    }
    if (target.path !== undefined && target.path !== "") {
      url = joinPath(url, target.path);
    }
  } else {
    url = joinPath(base, target.path ?? "");
  }
  url.hash = "";
  if (!isAllowedTarget(provider, base, url, options)) {
    throw new ProviderApiError(`${url.host} is not one of ${provider.name}'s hosts`, "host_not_allowed");
  }
  return url;
}

function joinPath(base: URL, path: string): URL {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith("//") || path.includes("\\")) {
    throw new ProviderApiError("path must be a path, not a URL", "invalid_path");
  }
  const [pathname = "", query] = splitOnce(path, "?");
  if (DOT_SEGMENT.test(pathname) || /%2f/i.test(pathname)) {
    throw new ProviderApiError("path may not contain dot segments or encoded slashes", "invalid_path");
  }
  const joined = new URL(base.href);
  const basePath = joined.pathname.replace(/\/+$/, "");
  const relative = pathname.replace(/^\/+/, "");
  joined.pathname = relative === "" ? joined.pathname : `${basePath}/${relative}`;
  // The caller's query is kept as written (`$top=1`, `fields=a,b`): providers differ in what
  // they decode, and re-serialising through URLSearchParams would change it.
  if (query !== undefined && query !== "") {
    joined.search = joined.search ? `${joined.search.slice(1)}&${query}` : query;
  }
  return joined;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * Fills an `auth` (or header, or token exchange) template: any credential value, unencoded (it
 * is a header or parameter). Throws `missing_value` when a value it needs is absent.
 */
export function fillCredential(
  provider: ProviderDefinition,
  values: ConnectionValues,
  template: string,
): string {
  const names = credentialValueNames(provider);
  return template.replace(PLACEHOLDER, (_match, key: string) => {
    if (!names.has(key))
      throw new ProviderApiError(`${key} is not a value of ${provider.name}`, "invalid_value");
    const value = stringValue(values.credentials, key) ?? stringValue(values.setupInformation, key);
    if (value === undefined) {
      throw new ProviderApiError(
        `the account has no ${key}, which ${provider.name}'s API needs`,
        "missing_value",
      );
    }
    if (/[\r\n\0]/.test(value))
      throw new ProviderApiError(`the account's ${key} is not valid`, "invalid_value");
    return value;
  });
}

/**
 * Applies the provider's static headers and the account's credentials to a request for `url`
 * (which must come from `resolveProviderUrl`). A query-style credential is set on the URL.
 */
export function authorize(
  provider: ProviderDefinition,
  values: ConnectionValues,
  url: URL,
): ProviderRequest["headers"] {
  const api = providerApi(provider);
  const headers = apiHeaders(provider, values);
  const { auth } = api;
  switch (auth.style) {
    case "bearer":
      headers.authorization = `Bearer ${fillCredential(provider, values, auth.token ?? "{{access_token}}")}`;
      break;
    case "basic": {
      const user = fillCredential(provider, values, auth.username);
      const password = fillCredential(provider, values, auth.password);
      headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
      break;
    }
    case "header":
      headers[auth.name.toLowerCase()] = fillCredential(provider, values, auth.value);
      break;
    case "query":
      setQueryParameter(url, auth.name, fillCredential(provider, values, auth.value));
      break;
  }
  return headers;
}

/**
 * Sets one query parameter, replacing any the caller sent under that name, and leaves the rest
 * of the query exactly as written.
 */
function setQueryParameter(url: URL, name: string, value: string): void {
  const kept = url.search
    .slice(1)
    .split("&")
    .filter((pair) => pair !== "" && decodedName(pair) !== name);
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  url.search = kept.join("&");
}

function decodedName(pair: string): string {
  const raw = pair.split("=", 1)[0] ?? "";
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return raw;
  }
}

/**
 * The provider's declared headers, filled from the account's values (they are a credential
 * slot: a secret may appear, as UKG Pro's customer API key does, so they are never logged). A
 * header declared `optional` is left out when a value it needs is missing; any other missing
 * value refuses the call.
 */
export function apiHeaders(provider: ProviderDefinition, values: ConnectionValues): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, declared] of Object.entries(providerApi(provider).headers ?? {})) {
    const template = typeof declared === "string" ? declared : declared.value;
    const optional = typeof declared !== "string" && declared.optional;
    try {
      headers[name] = fillCredential(provider, values, template);
    } catch (error) {
      if (optional && error instanceof ProviderApiError && error.problem === "missing_value") continue;
      throw error;
    }
  }
  return headers;
}

/** The request that proves the account's credentials work, or undefined when none is declared. */
export function verificationRequest(
  provider: ProviderDefinition,
  values: ConnectionValues,
  options: ProviderApiOptions = {},
): ProviderRequest | undefined {
  const verify = providerApi(provider).verify;
  if (!verify) return undefined;
  const url = resolveProviderUrl(
    provider,
    values,
    { path: fillEncoded(provider, values, verify.path) },
    options,
  );
  return { method: verify.method, url, headers: authorize(provider, values, url) };
}

/**
 * The post-grant request of a `request` metadata item, confined like every other call. The
 * base URL may need the very value this request fetches (Jira's cloud id in its path,
 * Mailchimp's data center in its host): until the account has it, the request may go only to
 * the base URL's host as the file writes it, or to a host matching `allowedHosts`.
 */
export function metadataRequest(
  provider: ProviderDefinition,
  item: Extract<ConnectionMetadataItem, { from: "request" }>,
  values: ConnectionValues,
  options: ProviderApiOptions = {},
): ProviderRequest {
  const target = { url: fillMetadataUrl(provider, values, item.url) };
  let url: URL;
  try {
    url = resolveProviderUrl(provider, values, target, options);
  } catch (error) {
    if (!(error instanceof ProviderApiError) || error.problem !== "missing_value") throw error;
    url = resolveProviderUrl(withWrittenBaseUrl(provider), values, target, options);
  }
  return { method: item.method, url, headers: authorize(provider, values, url) };
}

/**
 * The provider with its base URL cut to what the file writes out: the origin when no value
 * chooses the host, else a host no call can match (only `allowedHosts` then admit a call).
 */
function withWrittenBaseUrl(provider: ProviderDefinition): ProviderDefinition {
  const api = providerApi(provider);
  const baseUrl = hostIsTemplated(api.baseUrl)
    ? "https://unfilled.invalid"
    : new URL(api.baseUrl.replace(PLACEHOLDER, "x")).origin;
  return { ...provider, api: { ...api, baseUrl } };
}

function fillMetadataUrl(provider: ProviderDefinition, values: ConnectionValues, template: string): string {
  const schemeEnd = template.indexOf("://") + 3;
  const rest = template.slice(schemeEnd);
  const authorityLength = rest.search(/[/?#]|$/);
  if (rest.slice(0, authorityLength).includes("{{")) {
    throw new ProviderApiError("a metadata request's host must be written in the file", "invalid_value");
  }
  return (
    template.slice(0, schemeEnd + authorityLength) +
    fillEncoded(provider, values, rest.slice(authorityLength))
  );
}

/** RFC 6901: the value at `pointer` in `document`, or undefined. */
export function readJsonPointer(document: unknown, pointer: string): unknown {
  if (pointer === "") return document;
  let current: unknown = document;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current)) {
      if (!/^(?:0|[1-9]\d*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (current !== null && typeof current === "object" && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}
