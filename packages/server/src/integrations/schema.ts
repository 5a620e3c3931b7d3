/** Wire schemas of the admin API for the catalog, integrations and project settings. */
import { Type } from "@sinclair/typebox";
import { Nullable, StringEnum } from "../http/schema-types.js";
import { ThemeChanges, ThemeSettings } from "../theme/theme.js";

export const Integration = Type.Object(
  {
    id: Type.String(),
    provider: Type.String(),
    provider_name: Type.String(),
    auth_type: StringEnum(["oauth2", "api_key", "basic"] as const),
    categories: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    ready: Type.Boolean({ description: "Enabled with everything its auth type needs." }),
    client_id: Nullable(Type.String()),
    client_secret_set: Type.Boolean({ description: "The secret itself is never returned." }),
    scopes: Nullable(Type.Array(Type.String())),
    verify_credentials: Type.Boolean({
      description:
        "Credentials entered on the connect page are checked with the provider before the account is saved (when the provider declares a verification request).",
    }),
    verification_available: Type.Boolean({
      description: "Whether the provider declares a verification request in the catalog.",
    }),
    created_at: Type.String({ format: "date-time" }),
    updated_at: Type.String({ format: "date-time" }),
  },
  { $id: "Integration" },
);

export const IntegrationChanges = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    client_id: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
    client_secret: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2000 }))),
    scopes: Type.Optional(
      Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100 })),
    ),
    verify_credentials: Type.Optional(
      Type.Boolean({
        description:
          "Turn off to save credentials without checking them with the provider (e.g. its test endpoint needs a scope you do not request). Default true.",
      }),
    ),
  },
  { $id: "IntegrationChanges" },
);

export const ProviderParams = Type.Object({ provider: Type.String({ minLength: 1, maxLength: 64 }) });

export const ProviderSummary = Type.Object(
  {
    key: Type.String(),
    name: Type.String(),
    categories: Type.Array(Type.String()),
    description: Type.String(),
    auth_type: StringEnum(["oauth2", "api_key", "basic"] as const),
    website: Type.String(),
    verification: Type.Boolean({
      description: "Whether credentials for this provider are checked with it when they are entered.",
    }),
    sandbox: Type.Boolean({ description: "A sandbox provider served by this server itself." }),
  },
  { $id: "ProviderSummary" },
);

export const ProjectSettings = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    organization_id: Type.String(),
    allowed_origins: Type.Array(Type.String(), {
      description:
        "Exact origins (scheme://host[:port]) of your app: they may embed the connect page in an iframe and receive its postMessage events.",
    }),
    theme: Type.Ref(ThemeSettings, {
      description:
        "The connect page's theme; an auth link can override it with query parameters (`theme`, `theme_accent`, `theme_background`, `theme_text`, `theme_radius`).",
    }),
  },
  { $id: "ProjectSettings" },
);

export const ProjectChanges = Type.Object(
  {
    allowed_origins: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 50 }),
    ),
    theme: Type.Optional(ThemeChanges),
  },
  { $id: "ProjectChanges", description: "The settings to change; a field left out keeps its value." },
);

/** Response schemas referenced by `$ref`: registered once, at the root of the app. */
export const INTEGRATION_SHARED_SCHEMAS = [Integration, ProviderSummary, ThemeSettings, ProjectSettings];
