/**
 * What StackOne's embeddable component (`@stackone/hub` 1.11.4) is told about a connector: the
 * list entry and the authentication form, in the shapes its published code reads. Only the
 * field types it renders are used (text, password; ours map onto them), and patterns are sent
 * anchored because it applies them unanchored (`new RegExp(pattern)`).
 */

import { formFields } from "../hub/page-model.js";
import { secretTail } from "../hub/secret-display.js";
import type { CatalogProvider } from "../providers/catalog.js";
import type { ProviderField } from "../providers/schema.js";

export { formFields };

/** Accounts are connected in one environment; the component keys its forms by it. */
export const ENVIRONMENT = "production";

export interface HubIntegration {
  integration_id: string;
  provider: string;
  name: string;
  type: string;
  logo_url: string;
  version: string;
  active: boolean;
  authentication_config_key: string;
  environment: string;
}

export interface HubField {
  key: string;
  label: string;
  type: "text" | "password";
  required: boolean;
  secret: boolean;
  placeholder?: string;
  guide?: { description: string };
  validation?: { type: "html-pattern"; pattern: string; error: string };
}

export interface HubConnectorConfig {
  key: string;
  name: string;
  assets: { icon: string };
  authentication: Record<
    string,
    Record<
      string,
      { type: string; grantType?: "authorization_code"; fields: HubField[]; guide?: { supportLink: string } }
    >
  >;
}

export function logoUrl(publicUrl: string, provider: CatalogProvider): string {
  return `${publicUrl}/connect/logos/${provider.key}.svg`;
}

/** The authentication config key of a provider: its auth type. */
export function authConfigKey(provider: CatalogProvider): string {
  return provider.auth.type;
}

export function toHubIntegration(
  publicUrl: string,
  provider: CatalogProvider,
  integrationId: string,
): HubIntegration {
  return {
    integration_id: integrationId,
    provider: provider.key,
    name: provider.name,
    type: provider.categories[0] ?? "unknown",
    logo_url: logoUrl(publicUrl, provider),
    version: "1",
    active: true,
    authentication_config_key: authConfigKey(provider),
    environment: ENVIRONMENT,
  };
}

export function toHubField(field: ProviderField): HubField {
  return {
    key: field.key,
    label: field.label,
    type: field.type === "password" || field.secret ? "password" : "text",
    required: field.required,
    secret: field.secret,
    ...(field.placeholder ? { placeholder: field.placeholder } : {}),
    ...(field.helpText ? { guide: { description: field.helpText } } : {}),
    ...(field.pattern
      ? {
          validation: {
            type: "html-pattern" as const,
            pattern: `^(?:${field.pattern})$`,
            error: `${field.label} is not in the expected format`,
          },
        }
      : {}),
  };
}

export function toHubConnectorConfig(publicUrl: string, provider: CatalogProvider): HubConnectorConfig {
  return {
    key: provider.key,
    name: provider.name,
    assets: { icon: logoUrl(publicUrl, provider) },
    authentication: {
      [authConfigKey(provider)]: {
        [ENVIRONMENT]: {
          type: provider.auth.type,
          ...(provider.auth.type === "oauth2" ? { grantType: "authorization_code" as const } : {}),
          fields: formFields(provider).map(toHubField),
          ...(provider.docsUrl ? { guide: { supportLink: provider.docsUrl } } : {}),
        },
      },
    },
  };
}

const REDACTED_PREFIX = "__secretvalue:**redacted**";

/** A secret as the component shows it in edit mode (masked, with the tail of a long one). */
export function redactSecret(value: string): string {
  return REDACTED_PREFIX + secretTail(value);
}
