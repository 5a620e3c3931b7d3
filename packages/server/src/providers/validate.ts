/**
 * Checks one parsed provider file and answers with every problem found, each phrased for the
 * operator who wrote the file ("auth.tokenUrl must be a string"), never just the first one.
 * First the JSON Schema (`schema.ts`, through ajv), then the rules that span fields. File
 * access (the logo) is the loader's part; everything here is pure.
 */
import AjvModule, { type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { credentialValueNames, hostIsTemplated, publicValueNames } from "./api.js";
import { anchoredPattern, authorityEnd, isLoopbackUrl, placeholdersOf } from "./oauth-urls.js";
import {
  API_AUTH_STYLES,
  AUTH_TYPES,
  FIELD_KEY_PATTERN,
  METADATA_SOURCES,
  PROVIDER_KEY_PATTERN,
  type ProviderDefinition,
  ProviderDefinition as ProviderDefinitionSchema,
  type ProviderField,
} from "./schema.js";

// ajv is CommonJS: under NodeNext its class is the module's `default`.
const Ajv = AjvModule.default;
const ajv = new Ajv({ allErrors: true, discriminator: true, useDefaults: true, strict: true });
addFormats.default(ajv, ["uri"]);
const validateDefinition = ajv.compile<ProviderDefinition>(ProviderDefinitionSchema);

/**
 * Query parameters the OAuth2 flow sets itself; a file may not override them through
 * `authorizationParams` (a fixed `redirect_uri` or `state` would break or bypass the flow).
 */
const RESERVED_AUTHORIZATION_PARAMS = new Set([
  "client_id",
  "redirect_uri",
  "response_type",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
]);

const PATTERN_MEANINGS: Record<string, string> = {
  [PROVIDER_KEY_PATTERN]: "must be lowercase letters and digits, words joined by single hyphens",
  [FIELD_KEY_PATTERN]: "must start with a lowercase letter, then letters, digits or underscores",
  "^https://": "must be an https URL",
  "^https?://[^\\s]+$": "must be an https URL without spaces",
  "^\\S+$": "must not contain spaces",
  "^[a-z0-9][a-z0-9-]*\\.svg$": "must be a file name like `acme.svg` (lowercase, digits, hyphens)",
};

/** The values each tagged union of the schema accepts, by its tag. */
const TAG_VALUES: Record<string, readonly string[]> = {
  type: AUTH_TYPES,
  style: API_AUTH_STYLES,
  from: METADATA_SOURCES,
};

export type SchemaCheck =
  | { readonly ok: true; readonly definition: ProviderDefinition }
  | { readonly ok: false; readonly problems: string[] };

/** Validates against the schema; on success the value has its defaults filled in. */
export function checkSchema(value: unknown): SchemaCheck {
  if (validateDefinition(value)) return { ok: true, definition: value };
  const errors = validateDefinition.errors ?? [];
  const patternFailed = new Set(errors.filter((e) => e.keyword === "pattern").map((e) => e.instancePath));
  const problems = errors
    .filter((error) => !(error.keyword === "format" && patternFailed.has(error.instancePath)))
    .map(describeSchemaError);
  return { ok: false, problems: [...new Set(problems)] };
}

function describeSchemaError(error: ErrorObject): string {
  const at = jsonPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return `${joinPath(at, String(params.missingProperty))} is required`;
    case "additionalProperties":
      return `${joinPath(at, String(params.additionalProperty))} is not a known field`;
    case "type":
      return at ? `${at} must be ${withArticle(String(params.type))}` : "the file must contain a JSON object";
    case "enum":
      return `${at} must be one of: ${(params.allowedValues as unknown[]).join(", ")}`;
    case "const":
      return `${at} must be ${JSON.stringify(params.allowedValue)}`;
    case "discriminator":
      return params.tagValue === undefined
        ? `${joinPath(at, String(params.tag))} is required`
        : `${joinPath(at, String(params.tag))} must be one of: ${(TAG_VALUES[String(params.tag)] ?? []).join(", ")}`;
    case "pattern":
      return `${at} ${PATTERN_MEANINGS[String(params.pattern)] ?? `must match ${String(params.pattern)}`}`;
    case "format":
      return `${at} must be a valid URL`;
    case "minItems":
    case "minLength":
      return params.limit === 1 ? `${at} must not be empty` : `${at} ${error.message}`;
    case "uniqueItems":
      return `${at} must not repeat a value`;
    default:
      return `${at || "the file"} ${error.message ?? "is invalid"}`;
  }
}

/** `/auth/fields/0/key` -> `auth.fields[0].key` */
function jsonPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : joinPath(path, part)), "");
}

function joinPath(path: string, property: string): string {
  return path ? `${path}.${property}` : property;
}

function withArticle(type: string): string {
  const names: Record<string, string> = {
    string: "a string",
    boolean: "a boolean (true or false)",
    array: "an array",
    object: "an object",
    integer: "an integer",
    number: "a number",
  };
  return names[type] ?? type;
}

/** The rules JSON Schema cannot state. `fileKey` is the file name without `.json`. */
export function checkRules(
  definition: ProviderDefinition,
  fileKey: string,
  options: { allowLoopbackUrls?: boolean } = {},
): string[] {
  const problems: string[] = [];
  if (definition.key !== fileKey) {
    problems.push(`key "${definition.key}" must equal the file name "${fileKey}"`);
  }
  const { auth } = definition;
  if (auth.type === "oauth2") {
    const setupFields = auth.setupFields ?? [];
    problems.push(...fieldProblems(setupFields, "auth.setupFields"));
    for (const [template, at] of [
      [auth.authorizationUrl, "auth.authorizationUrl"],
      [auth.tokenUrl, "auth.tokenUrl"],
    ] as const) {
      problems.push(...urlTemplateProblems(template, at, setupFields, options.allowLoopbackUrls === true));
    }
    for (const name of Object.keys(auth.authorizationParams ?? {})) {
      if (RESERVED_AUTHORIZATION_PARAMS.has(name)) {
        problems.push(`auth.authorizationParams.${name} is set by the OAuth2 flow and may not be overridden`);
      }
    }
  } else {
    problems.push(...fieldProblems(auth.fields, "auth.fields"));
  }
  if (auth.type === "basic") {
    for (const required of ["username", "password"]) {
      if (!auth.fields.some((field) => field.key === required)) {
        problems.push(`auth.fields must include a "${required}" field (basic auth)`);
      }
    }
  }
  problems.push(
    ...metadataProblems(definition),
    ...apiProblems(definition, options.allowLoopbackUrls === true),
  );
  return problems;
}

function metadataProblems(definition: ProviderDefinition): string[] {
  const problems: string[] = [];
  const fieldKeys = new Set(
    (definition.auth.type === "oauth2" ? (definition.auth.setupFields ?? []) : definition.auth.fields).map(
      (field) => field.key,
    ),
  );
  const seen = new Set<string>();
  (definition.connectionMetadata ?? []).forEach((item, index) => {
    const at = `connectionMetadata[${index}]`;
    if (seen.has(item.key) || fieldKeys.has(item.key)) {
      problems.push(`${at}.key "${item.key}" is declared twice (or is also a field)`);
    }
    seen.add(item.key);
    if (item.from !== "request" && definition.auth.type !== "oauth2") {
      problems.push(
        `${at} comes from the OAuth2 ${item.from.replace("_", " ")}, but ${definition.key} is not OAuth2`,
      );
    }
    if (item.from === "request" && !definition.api) {
      problems.push(`${at} is a request, so the file must declare api (how to call it)`);
    }
  });
  return problems;
}

function apiProblems(definition: ProviderDefinition, allowLoopback: boolean): string[] {
  const { api } = definition;
  if (!api) return [];
  const problems: string[] = [];
  const publicNames = publicValueNames(definition);
  const credentialNames = credentialValueNames(definition);
  const placeholdersIn = (template: string, at: string, allowed: Set<string>, kind: string) => {
    const withoutPlaceholders = template.replace(/\{\{[a-zA-Z0-9_]+\}\}/g, "x");
    if (/[{}]/.test(withoutPlaceholders)) problems.push(`${at} has a malformed placeholder (write {{key}})`);
    for (const key of new Set(placeholdersOf(template))) {
      if (!allowed.has(key))
        problems.push(`${at} uses {{${key}}}, which is not ${kind} of ${definition.key}`);
    }
  };
  const nonSecret = "a non-secret field or connection metadata key";
  placeholdersIn(api.baseUrl, "api.baseUrl", publicNames, nonSecret);
  if (api.verify) placeholdersIn(api.verify.path, "api.verify.path", publicNames, nonSecret);
  (definition.connectionMetadata ?? []).forEach((item, index) => {
    if (item.from !== "request") return;
    const at = `connectionMetadata[${index}].url`;
    placeholdersIn(item.url, at, publicNames, nonSecret);
    if (item.url.slice(0, authorityEnd(item.url)).includes("{{"))
      problems.push(`${at} must write its host out`);
  });
  const auth = api.auth;
  const templates =
    auth.style === "bearer"
      ? [[auth.token ?? "{{access_token}}", "api.auth.token"]]
      : auth.style === "basic"
        ? [
            [auth.username, "api.auth.username"],
            [auth.password, "api.auth.password"],
          ]
        : [[auth.value, "api.auth.value"]];
  for (const [template, at] of templates as [string, string][]) {
    placeholdersIn(template, at, credentialNames, "a credential value");
  }
  for (const [name, declared] of Object.entries(api.headers ?? {})) {
    const template = typeof declared === "string" ? declared : declared.value;
    placeholdersIn(template, `api.headers.${name}`, credentialNames, "a credential value");
  }
  problems.push(...tokenExchangeProblems(definition, placeholdersIn));
  const leading = /^\{\{([a-zA-Z0-9_]+)\}\}/.exec(api.baseUrl)?.[1];
  if (leading !== undefined) {
    const item = definition.connectionMetadata?.find((candidate) => candidate.key === leading);
    const field = (
      definition.auth.type === "oauth2" ? (definition.auth.setupFields ?? []) : definition.auth.fields
    ).find((candidate) => candidate.key === leading);
    if (item?.format !== "url" && field?.type !== "url") {
      problems.push(
        `api.baseUrl starts with {{${leading}}}, so it must be a metadata value with format "url" or a url field`,
      );
    }
  } else if (api.baseUrl.slice(0, authorityEnd(api.baseUrl)).includes("@")) {
    problems.push(`api.baseUrl may not contain credentials ("@") in its host`);
  } else {
    try {
      const url = new URL(api.baseUrl.replace(/\{\{[a-zA-Z0-9_]+\}\}/g, "example"));
      if (url.protocol !== "https:" && !(allowLoopback && isLoopbackUrl(url))) {
        problems.push("api.baseUrl must be an https URL");
      }
    } catch {
      problems.push("api.baseUrl is not a valid URL once its placeholders are filled");
    }
  }
  if (hostIsTemplated(api.baseUrl) && !api.allowedHosts) {
    problems.push(
      "api.baseUrl takes its host from a value, so api.allowedHosts must list the provider's hosts",
    );
  }
  return problems;
}

type PlaceholderCheck = (template: string, at: string, allowed: Set<string>, kind: string) => void;

/**
 * A token exchange trades the form's client credentials for `{{access_token}}`: only a
 * credential form has them (OAuth2 has its own token endpoint), its URL takes non-secret
 * values only, and the token it yields must be what `auth` sends.
 */
function tokenExchangeProblems(definition: ProviderDefinition, placeholdersIn: PlaceholderCheck): string[] {
  const exchange = definition.api?.tokenExchange;
  if (!exchange) return [];
  const problems: string[] = [];
  if (definition.auth.type === "oauth2") {
    problems.push("api.tokenExchange is for credential forms; an OAuth2 provider has auth.tokenUrl");
  }
  const publicNames = publicValueNames(definition);
  const formNames = new Set(credentialValueNames(definition));
  formNames.delete("access_token");
  placeholdersIn(exchange.url, "api.tokenExchange.url", publicNames, "a non-secret field");
  placeholdersIn(exchange.clientId, "api.tokenExchange.clientId", formNames, "a form value");
  placeholdersIn(exchange.clientSecret, "api.tokenExchange.clientSecret", formNames, "a form value");
  if (exchange.url.slice(0, authorityEnd(exchange.url)).includes("@")) {
    problems.push(`api.tokenExchange.url may not contain credentials ("@") in its host`);
  }
  if (exchange.bodyFormat !== undefined && exchange.method !== "POST") {
    problems.push("api.tokenExchange.bodyFormat needs method POST (a GET has no body)");
  }
  if (exchange.clientAuth === "body" && exchange.method !== "POST") {
    problems.push('api.tokenExchange.clientAuth "body" needs method POST (a GET has no body)');
  }
  const api = definition.api as NonNullable<ProviderDefinition["api"]>;
  const sent =
    api.auth.style === "bearer"
      ? (api.auth.token ?? "{{access_token}}")
      : api.auth.style === "basic"
        ? `${api.auth.username}${api.auth.password}`
        : api.auth.value;
  if (!placeholdersOf(sent).includes("access_token")) {
    problems.push("api.tokenExchange yields {{access_token}}, so api.auth must send it");
  }
  return problems;
}

function fieldProblems(fields: readonly ProviderField[], at: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  fields.forEach((field, index) => {
    const path = `${at}[${index}]`;
    if (seen.has(field.key)) problems.push(`${path}.key "${field.key}" is declared twice`);
    seen.add(field.key);
    if (field.type === "password" && !field.secret) {
      problems.push(`${path} is a password field, so it must be secret`);
    }
    if (field.pattern !== undefined) {
      try {
        anchoredPattern(field.pattern);
      } catch (error) {
        problems.push(`${path}.pattern does not compile: ${(error as Error).message}`);
      }
    }
  });
  return problems;
}

function urlTemplateProblems(
  template: string,
  at: string,
  setupFields: readonly ProviderField[],
  allowLoopback: boolean,
): string[] {
  const problems: string[] = [];
  const withoutPlaceholders = template.replace(/\{\{[a-zA-Z0-9_]+\}\}/g, "example");
  if (/[{}]/.test(withoutPlaceholders)) {
    problems.push(`${at} has a malformed placeholder (write {{fieldKey}})`);
    return problems;
  }
  for (const key of new Set(placeholdersOf(template))) {
    const field = setupFields.find((candidate) => candidate.key === key);
    if (!field) {
      problems.push(`${at} uses {{${key}}}, which auth.setupFields does not declare`);
    } else if (!field.required || field.secret) {
      problems.push(`auth.setupFields "${key}" is used in ${at}, so it must be required and not secret`);
    }
  }
  if (template.slice(0, authorityEnd(template)).includes("@")) {
    problems.push(`${at} may not contain credentials ("@") in its host`);
  }
  try {
    const url = new URL(withoutPlaceholders);
    if (url.protocol !== "https:" && !(allowLoopback && isLoopbackUrl(url))) {
      problems.push(`${at} must be an https URL`);
    }
  } catch {
    problems.push(`${at} is not a valid URL once its placeholders are filled`);
  }
  return problems;
}
