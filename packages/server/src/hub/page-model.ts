/** What the connect page is told about a provider: display and form data, no secrets. */
import type { CatalogProvider } from "../providers/catalog.js";
import type { ProviderField } from "../providers/schema.js";

export interface PageField {
  key: string;
  label: string;
  type: ProviderField["type"];
  required: boolean;
  secret: boolean;
  help_text: string | null;
  placeholder: string | null;
  pattern: string | null;
}

export interface PageProvider {
  key: string;
  name: string;
  description: string;
  categories: string[];
  logo_url: string;
  docs_url: string | null;
  auth_type: CatalogProvider["auth"]["type"];
  /** The credential form (api_key, basic) or the values asked before the redirect (oauth2). */
  fields: PageField[];
}

/** The fields a provider's form asks: the credential form, or the values an OAuth2 redirect needs. */
export function formFields(provider: CatalogProvider): readonly ProviderField[] {
  return provider.auth.type === "oauth2" ? (provider.auth.setupFields ?? []) : provider.auth.fields;
}

export function toPageProvider(provider: CatalogProvider): PageProvider {
  const fields = formFields(provider);
  return {
    key: provider.key,
    name: provider.name,
    description: provider.description,
    categories: [...provider.categories],
    logo_url: `/connect/logos/${provider.key}.svg`,
    docs_url: provider.docsUrl ?? null,
    auth_type: provider.auth.type,
    fields: fields.map((field) => ({
      key: field.key,
      label: field.label,
      type: field.type,
      required: field.required,
      secret: field.secret,
      help_text: field.helpText ?? null,
      placeholder: field.placeholder ?? null,
      pattern: field.pattern ?? null,
    })),
  };
}
