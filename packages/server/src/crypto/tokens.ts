/**
 * Secret tokens: a readable type prefix (so secret scanners can spot a leaked one) followed by
 * 32 bytes in base64url, from the CSPRNG. Only the SHA-256 of a token is ever stored; the token
 * carries at least 208 bits of entropy, so a slow KDF would add cost and no safety.
 */
import { hash, randomFillSync } from "node:crypto";

export const TOKEN_PREFIX = {
  connectSession: "chs_",
  apiKey: "chk_",
  oauthState: "chst_",
  pkceVerifier: "chv_",
  browserBinding: "chb_",
  consoleSession: "chc_",
  consoleSignInLink: "chl_",
  consoleCsrf: "chx_",
} as const;

export type TokenPrefix = (typeof TOKEN_PREFIX)[keyof typeof TOKEN_PREFIX];

const TOKEN_BYTES = 32;

export interface IssuedToken {
  /** The secret, shown once to its owner and never stored. */
  readonly token: string;
  /** What the database keeps: hex SHA-256 of the whole token, prefix included. */
  readonly hash: string;
}

export function issueToken(prefix: TokenPrefix): IssuedToken {
  const token = prefix + randomBase64url(TOKEN_BYTES);
  return { token, hash: hashToken(token) };
}

/** Bytes of a time-ordered token that hold its issue time (milliseconds, big-endian). */
const ISSUED_AT_BYTES = 6;
/** base64url characters of those bytes: 6 bytes are exactly 8 characters. */
const ISSUED_AT_CHARS = 8;
const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/;

/**
 * A token for what is issued at a high rate (connect sessions), whose stored key begins with
 * its issue time. Stored keys are looked up through a unique index; a plain hash lands each new
 * key on a random page of that index, so every insert rewrites (and flushes to the WAL) a page
 * of its own, which was half the database time of creating a session. Keys that begin with the
 * time land together at the end of the index, as an auto-increment id's do.
 *
 * The token looks like any other (the prefix and 43 base64url characters): its 32 bytes are
 * the issue time in 6 bytes and 26 from the CSPRNG (208 bits of secret). It tells its holder
 * when it was issued, which the holder knows anyway. The stored key is the hex of the time
 * bytes followed by the SHA-256 of the whole token (76 characters; a plain hash has 64).
 */
export function issueTimeOrderedToken(prefix: TokenPrefix, issuedAt: Date): IssuedToken {
  const bytes = Buffer.allocUnsafe(TOKEN_BYTES);
  bytes.writeUIntBE(issuedAt.getTime(), 0, ISSUED_AT_BYTES);
  randomBytesInto(bytes, ISSUED_AT_BYTES);
  const token = prefix + bytes.toString("base64url");
  return { token, hash: timeOrderedKey(token, prefix) };
}

/**
 * The stored keys a presented time-ordered token may have, in the order to try them: its
 * time-ordered key (when it has the shape), then its plain hash, under which tokens issued
 * before time-ordered keys (and by tools that write sessions themselves) are stored. A token
 * that exists is found by the first key it has.
 */
export function timeOrderedTokenKeys(token: string, prefix: TokenPrefix): string[] {
  const plain = hashToken(token);
  const body = token.slice(prefix.length);
  return token.startsWith(prefix) && TOKEN_BODY.test(body)
    ? [timeOrderedKey(token, prefix, plain), plain]
    : [plain];
}

function timeOrderedKey(token: string, prefix: TokenPrefix, plainHash = hashToken(token)): string {
  const issuedAt = token.slice(prefix.length, prefix.length + ISSUED_AT_CHARS);
  return Buffer.from(issuedAt, "base64url").toString("hex") + plainHash;
}

/** One-shot `crypto.hash`: a third of the CPU of createHash().update().digest() for a token. */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/** A random public identifier (not a secret), e.g. `proj_3kT9...`. */
export function randomId(prefix: string, bytes = 12): string {
  return prefix + randomBase64url(bytes);
}

/**
 * CSPRNG bytes drawn from a pool filled 4 KiB at a time: `randomBytes(32)` costs ~3 µs, most of
 * it the call into OpenSSL and a new buffer, and a create draws twice. Every byte is handed
 * out once (the pool's offset only moves forward, and JavaScript runs one call at a time).
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

function randomBytesInto(target: Buffer, start: number): void {
  let at = start;
  while (at < target.length) {
    if (poolOffset === POOL_BYTES) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const taken = pool.copy(target, at, poolOffset, Math.min(POOL_BYTES, poolOffset + target.length - at));
    poolOffset += taken;
    at += taken;
  }
}

function randomBase64url(bytes: number): string {
  const buffer = Buffer.allocUnsafe(bytes);
  randomBytesInto(buffer, 0);
  return buffer.toString("base64url");
}
