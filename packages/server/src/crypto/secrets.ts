/**
 * Encryption at rest for provider credentials and OAuth client secrets: AES-256-GCM under a
 * key from configuration. Each ciphertext names its key id (`v1.<kid>.<base64>`), so keys can be
 * rotated without downtime: new data is sealed with the current key, old data still opens
 * with the retired keys that stay configured until it has been re-sealed.
 *
 * Callers pass associated data (e.g. the row id) that is authenticated but not stored: a
 * ciphertext copied onto another row fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

export class SecretBoxError extends Error {
  override readonly name = "SecretBoxError";
}

export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;

  /** `keys[0]` seals; every key opens. */
  constructor(private readonly keyList: readonly EncryptionKey[]) {
    if (keyList.length === 0) throw new SecretBoxError("at least one encryption key is required");
    for (const { id, key } of keyList) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new SecretBoxError(`invalid encryption key id "${id}"`);
      if (key.length !== 32) throw new SecretBoxError(`encryption key "${id}" must be 32 bytes`);
    }
    this.keys = new Map(keyList.map(({ id, key }) => [id, key]));
  }

  get currentKeyId(): string {
    return (this.keyList[0] as EncryptionKey).id;
  }

  seal(plaintext: string, associatedData: string): string {
    const current = this.keyList[0] as EncryptionKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", current.key, iv);
    cipher.setAAD(Buffer.from(associatedData, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `${VERSION}.${current.id}.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64")}`;
  }

  open(sealed: string, associatedData: string): string {
    const [version, keyId, payload] = sealed.split(".");
    if (version !== VERSION || !keyId || payload === undefined)
      throw new SecretBoxError("not a sealed value");
    const key = this.keys.get(keyId);
    if (!key) throw new SecretBoxError(`sealed with unknown encryption key "${keyId}"`);
    const data = Buffer.from(payload, "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        "utf8",
      );
    } catch {
      throw new SecretBoxError("sealed value failed authentication (wrong key, row or tampering)");
    }
  }

  sealJson(value: unknown, associatedData: string): string {
    return this.seal(JSON.stringify(value), associatedData);
  }

  openJson<T>(sealed: string, associatedData: string): T {
    return JSON.parse(this.open(sealed, associatedData)) as T;
  }

  /** True when the value was sealed with a key other than the current one. */
  needsResealing(sealed: string): boolean {
    return sealed.split(".")[1] !== this.currentKeyId;
  }
}

/**
 * Parses `ENCRYPTION_KEY`: `base64key` or `kid:base64key[,kid:base64key...]`, current first.
 * Keys are 32 random bytes in base64 (e.g. `openssl rand -base64 32`).
 */
export function parseEncryptionKeys(raw: string): EncryptionKey[] {
  return raw
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index) => {
      const colon = part.indexOf(":");
      const id = colon === -1 ? `k${index + 1}` : part.slice(0, colon);
      const key = Buffer.from(colon === -1 ? part : part.slice(colon + 1), "base64");
      if (key.length !== 32) {
        throw new SecretBoxError(
          `ENCRYPTION_KEY "${id}" must be 32 bytes of base64 (openssl rand -base64 32)`,
        );
      }
      return { id, key };
    });
}
