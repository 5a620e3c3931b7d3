/** The memory of authenticated Authorization headers (http/auth.ts), on request-shaped objects. */
import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { hashToken } from "../src/crypto/tokens.js";
import { presentedApiKey, rememberAuthenticatedKey } from "../src/http/auth.js";

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;
const requestWith = (authorization?: string) =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as FastifyRequest;

describe("presentedApiKey", () => {
  it("parses and hashes a header, and reuses that only once its key authenticated", () => {
    const header = basic(`chk_${crypto.randomUUID()}`);
    const first = presentedApiKey(requestWith(header));
    expect(first?.hash).toBe(hashToken(first?.key ?? ""));
    // Not authenticated yet: the next request parses again.
    expect(presentedApiKey(requestWith(header))).not.toBe(first);
    const authenticated = requestWith(header);
    const presented = presentedApiKey(authenticated);
    rememberAuthenticatedKey(authenticated);
    expect(presentedApiKey(requestWith(header))).toBe(presented);
    // Another header is never answered from the memory of this one.
    const other = basic(`chk_${crypto.randomUUID()}`);
    expect(presentedApiKey(requestWith(other))?.key).not.toBe(presented?.key);
  });

  it("answers undefined without a usable key, and remembers nothing for it", () => {
    for (const header of [undefined, "Basic", "Digest abc", basic("")]) {
      const request = requestWith(header);
      expect(presentedApiKey(request)).toBeUndefined();
      rememberAuthenticatedKey(request);
      expect(presentedApiKey(requestWith(header))).toBeUndefined();
    }
  });
});
