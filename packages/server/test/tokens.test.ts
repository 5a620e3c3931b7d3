/** Secret tokens: their shape, their stored keys, and the pool their random bytes come from. */
import { describe, expect, it } from "vitest";
import {
  hashToken,
  issueTimeOrderedToken,
  issueToken,
  randomId,
  TOKEN_PREFIX,
  timeOrderedTokenKeys,
} from "../src/crypto/tokens.js";

const SESSION = TOKEN_PREFIX.connectSession;
const SHAPE = /^chs_[A-Za-z0-9_-]{43}$/;

describe("time-ordered tokens", () => {
  it("look like any other token and are stored under their issue time and their hash", () => {
    const issuedAt = new Date("2026-12-02T08:00:00.123Z");
    const { token, hash } = issueTimeOrderedToken(SESSION, issuedAt);
    expect(token).toMatch(SHAPE);
    expect(hash).toBe(issuedAt.getTime().toString(16).padStart(12, "0") + hashToken(token));
    expect(Buffer.from(token.slice(4), "base64url").readUIntBE(0, 6)).toBe(issuedAt.getTime());
  });

  it("have keys that sort in the order the tokens were issued, whatever their secret part", () => {
    const start = Date.parse("2026-12-02T08:00:00.000Z");
    const keys = Array.from(
      { length: 300 },
      (_, i) => issueTimeOrderedToken(SESSION, new Date(start + i)).hash,
    );
    expect([...keys].sort()).toEqual(keys);
  });

  it("are found by their time-ordered key first, then by the plain hash an earlier version stored", () => {
    const { token, hash } = issueTimeOrderedToken(SESSION, new Date());
    expect(timeOrderedTokenKeys(token, SESSION)).toEqual([hash, hashToken(token)]);
    const earlier = issueToken(SESSION).token;
    expect(timeOrderedTokenKeys(earlier, SESSION)[1]).toBe(hashToken(earlier));
    // Not the shape of an issued token (the benchmark's seeded tokens): the plain hash alone.
    for (const other of ["chs_bench_1", "bogus", `chs_${"A".repeat(42)}`, `chs_${"A".repeat(42)}+`]) {
      expect(timeOrderedTokenKeys(other, SESSION)).toEqual([hashToken(other)]);
    }
  });

  it("share no secret bytes: every token and id is new across many refills of the random pool", () => {
    const now = new Date();
    const secrets = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      // The 26 random bytes of a time-ordered token (its first 6 are the shared time).
      secrets.add(
        Buffer.from(issueTimeOrderedToken(SESSION, now).token.slice(4), "base64url")
          .subarray(6)
          .toString("hex"),
      );
      secrets.add(issueToken(TOKEN_PREFIX.apiKey).token);
      secrets.add(randomId("proj_", 9));
    }
    expect(secrets.size).toBe(6000);
  });
});
