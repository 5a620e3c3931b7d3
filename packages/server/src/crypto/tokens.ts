/**
 * Secret tokens: a readable type prefix (so secret scanners can spot a leaked one) followed by
 * 256 bits from the CSPRNG in base64url. Only the SHA-256 of a token is ever stored; the token
 * carries 256 bits of entropy, so a slow KDF would add cost and no safety.
 */
import { hash, randomBytes } from "node:crypto";

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
  const token = prefix + randomBytes(TOKEN_BYTES).toString("base64url");
  return { token, hash: hashToken(token) };
}

/** One-shot `crypto.hash`: a third of the CPU of createHash().update().digest() for a token. */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/** A random public identifier (not a secret), e.g. `proj_3kT9...`. */
export function randomId(prefix: string, bytes = 12): string {
  return prefix + randomBytes(bytes).toString("base64url");
}
