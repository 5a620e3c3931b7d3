/** Provider files shared by the catalog tests: valid unless a test changes them. */
export const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="Acme"><title>Acme</title></svg>\n';

export const acmeHr = {
  key: "acme-hr",
  name: "Acme HR",
  categories: ["hris"],
  description: "A test HR system.",
  website: "https://acme-hr.example.com",
  logo: "acme-hr.svg",
  auth: {
    type: "api_key",
    fields: [{ key: "api_key", label: "API key", type: "password", required: true, secret: true }],
  },
};

export const oauthProvider = (auth: Record<string, unknown>) => ({
  ...acmeHr,
  auth: {
    type: "oauth2",
    authorizationUrl: "https://login.example.com/authorize",
    tokenUrl: "https://login.example.com/token",
    scopes: ["read"],
    pkce: true,
    refresh: true,
    ...auth,
  },
});
