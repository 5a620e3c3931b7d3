/**
 * The pieces a CLI command may need besides the database, loaded on demand: the provider
 * catalog (reads and validates every provider file) and the secret box (ENCRYPTION_KEY).
 */
import { loadConfig } from "../config.js";
import type { SecretBox } from "../crypto/secrets.js";
import type { ProviderCatalog } from "../providers/catalog.js";

export async function loadCatalog(): Promise<ProviderCatalog> {
  const config = loadConfig();
  const { loadProviderCatalog } = await import("../providers/catalog.js");
  return loadProviderCatalog({
    extraDirs: config.providersDirs,
    allowLoopbackUrls: config.outbound.allowPrivateNetworks,
    ...(config.sandboxProviders ? { sandboxPublicUrl: config.publicUrl } : {}),
  });
}

/** Call after the database was opened: without ENCRYPTION_KEY it may create the development key. */
export async function loadSecrets(): Promise<SecretBox> {
  const { loadSecretBox } = await import("../crypto/keyring.js");
  return loadSecretBox(loadConfig(), (message) => process.stderr.write(`warning: ${message}\n`));
}
