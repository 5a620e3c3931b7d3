/**
 * Sealing with a caller-held secret: AES-256-GCM under a key derived (HKDF-SHA256) from a
 * secret that the database never stores. Used where a stored value must be readable only by
 * whoever presents the same secret again (an idempotent replay carrying its Idempotency-Key).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const IV_BYTES = 12;
const TAG_BYTES = 16;

function deriveKey(secret: string, context: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.alloc(0), context, 32));
}

export function sealWithSecret(secret: string, context: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", deriveKey(secret, context), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64");
}

/** The plaintext, or undefined when the secret or context is wrong or the data was altered. */
export function openWithSecret(secret: string, context: string, sealed: string): string | undefined {
  const data = Buffer.from(sealed, "base64");
  if (data.length < IV_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv("aes-256-gcm", deriveKey(secret, context), data.subarray(0, IV_BYTES));
  decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    return undefined;
  }
}
