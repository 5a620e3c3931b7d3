/**
 * The sandbox providers: an API-key provider and an OAuth2 provider whose endpoints this server
 * serves itself under `/sandbox/`, so a new install can complete a whole connection (and call
 * the connected API) without an account at any real provider. Nothing here is secret: the
 * sandbox holds no data beyond a fixed demo user.
 */
export const SANDBOX_API_KEY_PROVIDER = "sandbox-api-key";
export const SANDBOX_OAUTH_PROVIDER = "sandbox-oauth";
export const SANDBOX_PROVIDER_KEYS: readonly string[] = [SANDBOX_API_KEY_PROVIDER, SANDBOX_OAUTH_PROVIDER];

/** The only API key the sandbox API-key provider accepts; every other key answers 401. */
export const SANDBOX_GOOD_KEY = "sandbox-key-good";

/** The OAuth client the sandbox authorization server knows; used when a project sets none. */
export const SANDBOX_OAUTH_CLIENT = Object.freeze({
  clientId: "connect-hub-sandbox",
  clientSecret: "connect-hub-sandbox-secret",
});

/** The placeholder sandbox provider files use for this server's own PUBLIC_URL. */
export const OWN_URL_PLACEHOLDER = "{{connect_hub_url}}";

/** Where the sandbox's routes live, below PUBLIC_URL. */
export const SANDBOX_PATH = "/sandbox/";

/** The demo user every sandbox credential belongs to. */
export const SANDBOX_USER = Object.freeze({
  id: "sandbox-user-1",
  name: "Sam Sandbox",
  email: "sam@sandbox.connect-hub.invalid",
});
