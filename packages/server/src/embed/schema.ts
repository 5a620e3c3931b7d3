/** Route schemas of the `/hub/*` API that StackOne's embeddable component calls. */
import { Type } from "@sinclair/typebox";
import { Nullable, StringEnum } from "../http/schema-types.js";
import { HUB_TOKEN_HEADER } from "./cors.js";

export const HubHeaders = Type.Object({
  [HUB_TOKEN_HEADER]: Type.Optional(
    Type.String({ maxLength: 512, description: "The connect session token (`chs_...`)." }),
  ),
});

export const HubSettings = Type.Object({
  enabled_features: Type.Array(Type.String()),
  existing_account_id: Type.Optional(
    Type.String({ description: "The account the session re-authorizes: the component opens in edit mode." }),
  ),
});

export const HubIntegration = Type.Object({
  integration_id: Type.String(),
  provider: Type.String(),
  name: Type.String(),
  type: Type.String({ description: "The provider's first category." }),
  logo_url: Type.String({ format: "uri" }),
  version: Type.String(),
  active: Type.Boolean(),
  authentication_config_key: Type.String(),
  environment: Type.String(),
});

export const HubConnectors = Type.Object({ integrations: Type.Array(HubIntegration) });
export const HubConnectorsQuery = Type.Object({ provider: Type.Optional(Type.String({ maxLength: 64 })) });
export const IntegrationIdParams = Type.Object({
  integration_id: Type.String({ minLength: 1, maxLength: 64 }),
});

const HubField = Type.Object({
  key: Type.String(),
  label: Type.String(),
  type: StringEnum(["text", "password"] as const),
  required: Type.Boolean(),
  secret: Type.Boolean(),
  placeholder: Type.Optional(Type.String()),
  guide: Type.Optional(Type.Object({ description: Type.String() })),
  validation: Type.Optional(
    Type.Object({ type: Type.Literal("html-pattern"), pattern: Type.String(), error: Type.String() }),
  ),
});

export const HubConnectorConfig = Type.Object({
  config: Type.Object({
    key: Type.String(),
    name: Type.String(),
    assets: Type.Object({ icon: Type.String({ format: "uri" }) }),
    authentication: Type.Record(
      Type.String(),
      Type.Record(
        Type.String(),
        Type.Object({
          type: Type.String({ description: "`oauth2` opens the popup; anything else is a credential form." }),
          grantType: Type.Optional(Type.Literal("authorization_code")),
          fields: Type.Array(HubField),
          guide: Type.Optional(Type.Object({ supportLink: Type.String() })),
        }),
      ),
      { description: "By authentication config key, then by environment." },
    ),
  }),
});

const Credentials = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 4096 }), {
  maxProperties: 20,
  description: "The form's values by field key; empty values left out.",
});

export const HubAccountBody = Type.Object({
  integration_id: Type.String({ minLength: 1, maxLength: 64 }),
  credentials: Credentials,
});
export const HubAccountPatchBody = Type.Object({
  integration_id: Type.String({ minLength: 1, maxLength: 64 }),
  credentials: Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 4096 }), {
    maxProperties: 20,
    description: "Changed values; a secret left out keeps its stored value.",
  }),
});
export const HubAccountIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const HubConnectedAccount = Type.Object({ id: Type.String(), provider: Type.String() });

export const HubAccount = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  integrationId: Type.String(),
  authConfigKey: Type.String(),
  environment: Type.String(),
  setupInformation: Type.Record(Type.String(), Type.Unknown()),
  secrets: Type.Record(Type.String(), Type.String(), {
    description:
      "Secret values as `__secretvalue:**redacted**` plus, for long ones, their last four characters.",
  }),
});

export const AttemptCreateBody = Type.Object({
  token: Type.Optional(
    Type.String({ maxLength: 512, description: "The session token (also in the header)." }),
  ),
});
export const AttemptIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const AttemptCreated = Type.Object({ id: Type.String() });
export const Attempt = Type.Object({
  id: Type.String(),
  status: StringEnum(["pending", "authenticated", "error", "cancelled", "expired"] as const),
  account: Nullable(Type.Object({ id: Type.String() })),
  error: Nullable(Type.Object({ code: Type.String(), description: Type.String() })),
});
