/**
 * CONSOLE_OIDC_ALLOW: who may sign in to the console with OpenID Connect, and as what.
 * Comma-separated `role:matcher` entries, e.g. `admin:@example.com,viewer:@partner.example,
 * admin:sub:1234,viewer:alice@example.org`: an e-mail domain (`@domain`), an exact e-mail, or
 * an exact subject (`sub:...`). E-mail matches need `email_verified: true` in the ID token.
 * The most specific match wins (subject, then exact e-mail, then domain); among equally
 * specific matches, admin.
 */
import type { ConsoleRole } from "../db/schema.js";

export type AllowRule =
  | { role: ConsoleRole; kind: "subject"; value: string }
  | { role: ConsoleRole; kind: "email"; value: string }
  | { role: ConsoleRole; kind: "domain"; value: string };

/** Parses the list; throws an Error naming the bad entry. */
export function parseAllowList(raw: string): AllowRule[] {
  const entries = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const colon = entry.indexOf(":");
    const role = entry.slice(0, colon);
    const matcher = entry.slice(colon + 1).trim();
    if (colon === -1 || (role !== "admin" && role !== "viewer") || !matcher) {
      throw new Error(
        `"${entry}" is not role:matcher (role admin or viewer; matcher @domain, an e-mail, or sub:SUBJECT)`,
      );
    }
    if (matcher.startsWith("sub:")) {
      const subject = matcher.slice(4);
      if (!subject) throw new Error(`"${entry}" names no subject after sub:`);
      return { role, kind: "subject", value: subject };
    }
    if (matcher.startsWith("@")) {
      const domain = matcher.slice(1).toLowerCase();
      if (!/^[a-z0-9.-]+\.[a-z0-9-]+$/.test(domain)) throw new Error(`"${entry}" is not a valid @domain`);
      return { role, kind: "domain", value: domain };
    }
    if (/^[^@\s]+@[^@\s]+$/.test(matcher)) return { role, kind: "email", value: matcher.toLowerCase() };
    throw new Error(`"${entry}": the matcher must be @domain, an e-mail address, or sub:SUBJECT`);
  });
}

const SPECIFICITY = { subject: 3, email: 2, domain: 1 } as const;

/** The role the list grants this identity, or undefined when it is not allowed. */
export function roleFor(
  rules: readonly AllowRule[],
  identity: { subject: string; email?: string | undefined; emailVerified: boolean },
): ConsoleRole | undefined {
  const email = identity.emailVerified ? identity.email?.toLowerCase() : undefined;
  let best: { role: ConsoleRole; rank: number } | undefined;
  for (const rule of rules) {
    const matches =
      rule.kind === "subject"
        ? rule.value === identity.subject
        : rule.kind === "email"
          ? email === rule.value
          : email?.endsWith(`@${rule.value}`) === true;
    if (!matches) continue;
    const rank = SPECIFICITY[rule.kind] * 2 + (rule.role === "admin" ? 1 : 0);
    if (!best || rank > best.rank) best = { role: rule.role, rank };
  }
  return best?.role;
}
