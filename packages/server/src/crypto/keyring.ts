/**
 * The server's SecretBox from configuration. Without ENCRYPTION_KEY (development only; the
 * config refuses it in production) a key is generated once into the data folder, readable by
 * the owner alone, and a warning says so at every start.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import { parseEncryptionKeys, SecretBox } from "./secrets.js";

export const DEVELOPMENT_KEY_FILE = "encryption.key";

export function loadSecretBox(config: Config, warn: (message: string) => void): SecretBox {
  if (config.encryptionKeys) return new SecretBox(config.encryptionKeys);
  const file = path.join(config.dataDir, DEVELOPMENT_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `dev:${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    } catch (error) {
      // Another process starting beside this one wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  chmodSync(file, 0o600);
  warn(
    `ENCRYPTION_KEY is not set: credentials are encrypted with a development key generated in ${file}. Set ENCRYPTION_KEY (openssl rand -base64 32) before storing real credentials.`,
  );
  return new SecretBox(parseEncryptionKeys(readFileSync(file, "utf8").trim()));
}
