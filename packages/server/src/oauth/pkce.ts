/** PKCE (RFC 7636) with S256 only: `plain` is never offered. */
import { createHash } from "node:crypto";
import { issueToken, TOKEN_PREFIX } from "../crypto/tokens.js";

export function createPkcePair(): { verifier: string; challenge: string } {
  const { token: verifier } = issueToken(TOKEN_PREFIX.pkceVerifier);
  return { verifier, challenge: createHash("sha256").update(verifier, "ascii").digest("base64url") };
}
