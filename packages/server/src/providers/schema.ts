/**
 * The shape of one provider file (`providers/<key>.json`), the single source of truth for the
 * catalog. Every object is closed (`additionalProperties: false`) so that a typo in an
 * operator's file ("scope" for "scopes", "tokenURL") fails at start instead of being ignored.
 *
 * What JSON Schema cannot say (the key equals the file name, URL placeholders are declared,
 * patterns compile, the logo exists, basic auth has a username and a password) is checked by
 * `catalog.ts` after this schema passes.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { CATEGORIES } from "../connect-sessions/schema.js";
import { StringEnum } from "../http/schema-types.js";

/** A provider key, also the file name: lowercase letters and digits, words joined by hyphens. */
export const PROVIDER_KEY_PATTERN = "^[a-z0-9]+(?:-[a-z0-9]+)*$";
/** A field key, also the name of a `{{placeholder}}` in OAuth2 URLs. */
export const FIELD_KEY_PATTERN = "^[a-z][a-zA-Z0-9_]*$";

export const FIELD_TYPES = ["text", "password", "url", "email"] as const;
export const TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post"] as const;
export const AUTH_TYPES = ["oauth2", "api_key", "basic"] as const;
export const DEFAULT_SCOPE_SEPARATOR = " ";

const Text = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, description });

const HttpsUrl = (description: string) =>
  Type.String({ format: "uri", pattern: "^https://", maxLength: 2048, description });

/**
 * A URL that may contain `{{field}}` placeholders, so it is not a `uri` until filled. The rules
 * require https; plain http is accepted only for loopback hosts when the server allows them
 * (a development or test identity provider on this machine).
 */
const UrlTemplate = (description: string) =>
  Type.String({ pattern: "^https?://[^\\s]+$", maxLength: 2048, description });

export const ProviderField = Type.Object(
  {
    key: Type.String({ pattern: FIELD_KEY_PATTERN, maxLength: 64, description: "Name of the value." }),
    label: Text(100, "Label shown next to the input."),
    type: StringEnum(FIELD_TYPES, { description: "Input type on the connect page." }),
    required: Type.Boolean(),
    secret: Type.Boolean({ description: "Stored encrypted and never shown back." }),
    helpText: Type.Optional(Text(500, "One or two sentences under the input.")),
    placeholder: Type.Optional(Text(200, "Example value shown in the empty input.")),
    pattern: Type.Optional(
      Text(500, "A JavaScript regular expression source; the loader anchors it (^...$)."),
    ),
  },
  { additionalProperties: false },
);
export type ProviderField = Static<typeof ProviderField>;

const FieldList = (description: string) =>
  Type.Array(ProviderField, { minItems: 1, maxItems: 20, description });

export const OAuth2Auth = Type.Object(
  {
    type: Type.Literal("oauth2"),
    authorizationUrl: UrlTemplate("Where the end user is sent to grant access."),
    tokenUrl: UrlTemplate("Where the server exchanges the code and refreshes tokens."),
    scopes: Type.Array(Type.String({ pattern: "^\\S+$", maxLength: 300 }), {
      maxItems: 100,
      uniqueItems: true,
      description: "Scopes requested by default; empty when the provider takes them from the app.",
    }),
    scopeSeparator: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 3,
        default: DEFAULT_SCOPE_SEPARATOR,
        description: 'Joins the scopes; " " unless the provider wants another (always set once loaded).',
      }),
    ),
    pkce: Type.Boolean({ description: "Whether the provider supports PKCE with S256." }),
    issuer: Type.Optional(
      Type.String({
        format: "uri",
        maxLength: 2048,
        description:
          "The authorization server's issuer identifier: a callback whose `iss` (RFC 9207) differs is refused as a mix-up.",
      }),
    ),
    authorizationParams: Type.Optional(
      Type.Record(Type.String({ pattern: "^[a-z][a-z0-9_]*$" }), Type.String({ maxLength: 500 }), {
        additionalProperties: false,
        description: "Extra static query parameters of the authorization request.",
      }),
    ),
    tokenAuthMethod: Type.Optional(
      StringEnum(TOKEN_AUTH_METHODS, { description: "How the client authenticates at the token URL." }),
    ),
    refresh: Type.Boolean({ description: "Whether the provider issues refresh tokens." }),
    setupFields: Type.Optional(FieldList("Values asked before the redirect, used as URL placeholders.")),
  },
  { additionalProperties: false },
);
export type OAuth2Auth = Static<typeof OAuth2Auth>;

export const ApiKeyAuth = Type.Object(
  { type: Type.Literal("api_key"), fields: FieldList("The credential form.") },
  { additionalProperties: false },
);
export type ApiKeyAuth = Static<typeof ApiKeyAuth>;

export const BasicAuth = Type.Object(
  {
    type: Type.Literal("basic"),
    fields: FieldList("The credential form; must include `username` and `password`."),
  },
  { additionalProperties: false },
);
export type BasicAuth = Static<typeof BasicAuth>;

/**
 * A union tagged by `type`, written as `oneOf` + `discriminator` so that ajv (with its
 * `discriminator` option) reports the errors of the matching variant only, not of all three.
 */
function TaggedUnion<const T extends TSchema[]>(tag: string, variants: T, description: string) {
  return Type.Unsafe<Static<T[number]>>({
    type: "object",
    discriminator: { propertyName: tag },
    oneOf: variants,
    description,
  });
}

export const ProviderAuth = TaggedUnion(
  "type",
  [OAuth2Auth, ApiKeyAuth, BasicAuth],
  "How the end user connects: an OAuth2 authorization-code flow or a credential form.",
);
export type ProviderAuth = OAuth2Auth | ApiKeyAuth | BasicAuth;

export const API_AUTH_STYLES = ["bearer", "basic", "header", "query"] as const;
export const METADATA_SOURCES = ["token_response", "callback", "request"] as const;
export const VERIFY_METHODS = ["GET", "POST"] as const;
/** A `{{key}}` template over the account's values; may be empty ("" as a basic-auth password). */
const ValueTemplate = (description: string) => Type.String({ maxLength: 500, description });
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** `host` or `*.suffix`, lowercase. */
export const HOST_PATTERN_PATTERN = "^(?:\\*\\.)?[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$";

const closed = { additionalProperties: false } as const;

export const ApiAuth = TaggedUnion(
  "style",
  [
    Type.Object(
      {
        style: Type.Literal("bearer"),
        token: Type.Optional(ValueTemplate("The token; `{{access_token}}` when omitted.")),
      },
      closed,
    ),
    Type.Object(
      {
        style: Type.Literal("basic"),
        username: ValueTemplate("The basic-auth user name."),
        password: ValueTemplate("The basic-auth password."),
      },
      closed,
    ),
    Type.Object(
      {
        style: Type.Literal("header"),
        name: Type.String({ pattern: HEADER_NAME_PATTERN, maxLength: 100 }),
        value: ValueTemplate("The header's value."),
      },
      closed,
    ),
    Type.Object(
      {
        style: Type.Literal("query"),
        name: Type.String({ pattern: "^[A-Za-z0-9_.-]+$", maxLength: 100 }),
        value: ValueTemplate("The query parameter's value."),
      },
      closed,
    ),
  ],
  "How the account's credentials are applied to every call of the provider's API.",
);
export type ApiAuth =
  | { style: "bearer"; token?: string }
  | { style: "basic"; username: string; password: string }
  | { style: "header"; name: string; value: string }
  | { style: "query"; name: string; value: string };

/**
 * A header's value: a template that must fill (a string), or one left out of the call when a
 * value it needs is missing (`optional`: JumpCloud's `x-org-id` for single-organization keys).
 */
export const ApiHeaderValue = Type.Union([
  ValueTemplate("The header's value; `{{key}}` placeholders take any of the account's values."),
  Type.Object(
    {
      value: ValueTemplate("The header's value."),
      optional: Type.Boolean({ description: "Leave the header out when a value it needs is missing." }),
    },
    closed,
  ),
]);
export type ApiHeaderValue = string | { value: string; optional: boolean };

export const TOKEN_EXCHANGE_METHODS = ["GET", "POST"] as const;
export const TOKEN_EXCHANGE_CLIENT_AUTH = ["basic", "body", "query"] as const;
export const TOKEN_EXCHANGE_BODY_FORMATS = ["form", "json"] as const;

/**
 * The stored client id and secret are exchanged for an access token before calls (a
 * client-credentials grant and its look-alikes): the token fills `{{access_token}}` in `auth`.
 */
export const TokenExchange = Type.Object(
  {
    docs: HttpsUrl("The page documenting the token request."),
    url: UrlTemplate("The token endpoint; placeholders take non-secret values, its host must be allowed."),
    method: StringEnum(TOKEN_EXCHANGE_METHODS),
    clientAuth: StringEnum(TOKEN_EXCHANGE_CLIENT_AUTH, {
      description:
        "Where `client_id` and `client_secret` go: HTTP basic auth, the request body, or the query string.",
    }),
    clientId: ValueTemplate("The client id, e.g. `{{client_id}}`."),
    clientSecret: ValueTemplate("The client secret, e.g. `{{client_secret}}`."),
    bodyFormat: Type.Optional(
      StringEnum(TOKEN_EXCHANGE_BODY_FORMATS, { description: "How a POST body is encoded (default form)." }),
    ),
    params: Type.Optional(
      Type.Record(Type.String({ pattern: "^[A-Za-z0-9_.-]+$" }), Type.String({ maxLength: 500 }), {
        additionalProperties: false,
        description: "Static parameters sent beside the client credentials (`grant_type`).",
      }),
    ),
    tokenPointer: Type.String({
      pattern: "^(?:/.*)?$",
      maxLength: 300,
      description: "RFC 6901 pointer to the token in the JSON answer.",
    }),
    expiresInPointer: Type.Optional(
      Type.String({
        pattern: "^(?:/.*)?$",
        maxLength: 300,
        description: "RFC 6901 pointer to the token's lifetime in seconds, when the answer gives it.",
      }),
    ),
    defaultExpiresIn: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 86400,
        description: "The token's lifetime in seconds when the answer does not say (default 300).",
      }),
    ),
  },
  { ...closed, description: "How stored client credentials become an access token." },
);
export type TokenExchange = Static<typeof TokenExchange>;

export const ProviderApi = Type.Object(
  {
    docs: HttpsUrl("The provider's public page for its base URL and authentication."),
    baseUrl: Type.String({
      pattern: "^(?:https?://|\\{\\{[a-zA-Z0-9_]+\\}\\})[^\\s]+$",
      maxLength: 2048,
      description:
        "Where the API answers; `{{key}}` placeholders take non-secret values. A placeholder that starts the URL takes a whole https origin (Salesforce's `instance_url`).",
    }),
    allowedHosts: Type.Optional(
      Type.Array(Type.String({ pattern: HOST_PATTERN_PATTERN }), {
        minItems: 1,
        maxItems: 20,
        uniqueItems: true,
        description:
          "Hosts (or `*.suffix`) calls may reach besides the base URL's; required when the base URL's host comes from a placeholder.",
      }),
    ),
    auth: ApiAuth,
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME_PATTERN }), ApiHeaderValue, {
        additionalProperties: false,
        description:
          "Headers every call sends (an API version, `Accept`, a tenant id); values are templates over the account's values, like `auth`.",
      }),
    ),
    tokenExchange: Type.Optional(TokenExchange),
    verify: Type.Optional(
      Type.Object(
        {
          method: StringEnum(VERIFY_METHODS),
          path: Type.String({ pattern: "^/", maxLength: 500, description: "Relative to the base URL." }),
          docs: Type.Optional(HttpsUrl("The page documenting this endpoint.")),
        },
        { ...closed, description: "A cheap request that succeeds only with working credentials." },
      ),
    ),
  },
  { ...closed, description: "How the provider's API is called: for verification and the proxy." },
);
export type ProviderApi = Static<typeof ProviderApi>;

const MetadataCommon = {
  key: Type.String({ pattern: FIELD_KEY_PATTERN, maxLength: 64, description: "Key in setup_information." }),
  required: Type.Optional(Type.Boolean({ description: "A grant without this value fails (default true)." })),
  format: Type.Optional(
    Type.Literal("url", { description: "The value is an https origin, usable to start the base URL." }),
  ),
  docs: Type.Optional(HttpsUrl("The page documenting this value.")),
};

export const ConnectionMetadataItem = TaggedUnion(
  "from",
  [
    Type.Object(
      {
        from: Type.Literal("token_response"),
        field: Type.String({
          minLength: 1,
          maxLength: 100,
          description: "Top-level field of the token response.",
        }),
        ...MetadataCommon,
      },
      closed,
    ),
    Type.Object(
      {
        from: Type.Literal("callback"),
        param: Type.String({ minLength: 1, maxLength: 100, description: "Query parameter of the callback." }),
        ...MetadataCommon,
      },
      closed,
    ),
    Type.Object(
      {
        from: Type.Literal("request"),
        method: StringEnum(VERIFY_METHODS),
        url: UrlTemplate("Requested right after the grant, with the new credentials applied."),
        pointer: Type.String({
          pattern: "^(?:/.*)?$",
          maxLength: 300,
          description: "RFC 6901 JSON pointer.",
        }),
        ...MetadataCommon,
      },
      closed,
    ),
  ],
  "A non-secret value the provider gives with the grant, kept in setup_information.",
);
export type ConnectionMetadataItem = { key: string; required?: boolean; format?: "url"; docs?: string } & (
  | { from: "token_response"; field: string }
  | { from: "callback"; param: string }
  | { from: "request"; method: (typeof VERIFY_METHODS)[number]; url: string; pointer: string }
);

export const ProviderDefinition = Type.Object(
  {
    key: Type.String({ pattern: PROVIDER_KEY_PATTERN, maxLength: 64, description: "Equals the file name." }),
    name: Text(100, "Display name."),
    categories: Type.Array(StringEnum(CATEGORIES), { minItems: 1, uniqueItems: true }),
    description: Text(300, "One sentence about the provider."),
    website: HttpsUrl("The provider's home page."),
    logo: Type.String({
      pattern: "^[a-z0-9][a-z0-9-]*\\.svg$",
      maxLength: 100,
      description: "File name of an SVG in the `logos/` folder beside the provider files.",
    }),
    docsUrl: Type.Optional(HttpsUrl("Where the end user finds the credentials asked for.")),
    auth: ProviderAuth,
    api: Type.Optional(ProviderApi),
    connectionMetadata: Type.Optional(
      Type.Array(ConnectionMetadataItem, {
        maxItems: 20,
        description: "Values kept from the token response, the callback or a post-grant request.",
      }),
    ),
  },
  { $id: "ProviderDefinition", additionalProperties: false },
);
export type ProviderDefinition = Static<typeof ProviderDefinition>;
