/**
 * Console sign-in and sessions: single-use sign-in links (from the CLI), cookie sessions
 * opened by a link or an OpenID Connect sign-in, their CSRF tokens, listing and revocation.
 *
 * Contracts: a link works once, for SIGN_IN_LINK_TTL_SECONDS; a session for
 * CONSOLE_SESSION_TTL_SECONDS unless revoked, and a revoked session is refused by the next
 * request (no cache). Only hashes of the link, cookie and CSRF tokens are stored. The CSRF
 * token is derived from the cookie's token, so the server can hand it to the page again
 * (`GET /console/session`) without keeping it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import { hashToken, issueToken, randomId, TOKEN_PREFIX } from "../crypto/tokens.js";
import type { ConsoleRole, Database } from "../db/schema.js";
import { type Clock, isoTimestamp, systemClock } from "../time.js";
import * as store from "./store.js";

export const SIGN_IN_LINK_TTL_SECONDS = 10 * 60;
export const CONSOLE_SESSION_TTL_SECONDS = 12 * 60 * 60;
/** How stale `last_seen_at` may get before a request rewrites it (one write a minute at most). */
const LAST_SEEN_RESOLUTION_MS = 60_000;
const CONSOLE_TOKEN_PATTERN = /^chc_[A-Za-z0-9_-]{43}$/;

export interface CreatedSignInLink {
  id: string;
  url: string;
  expiresAt: string;
}

export interface OpenedSession {
  id: string;
  /** The cookie's value: given to the browser once, never stored. */
  token: string;
  role: ConsoleRole;
  projectId: string | null;
  expiresAt: string;
}

/** Who signs in, from where. */
export interface Operator {
  subject: string;
  email?: string | undefined;
  method: "link" | "oidc";
}

export interface RequestOrigin {
  ip: string;
  userAgent: string | undefined;
}

export interface AuthenticatedConsoleSession extends store.ActiveConsoleSession {
  csrfToken: string;
}

export class ConsoleService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly publicUrl: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** A single-use link that opens a session with this role, for one project or (null) all. */
  async createSignInLink(options: {
    projectId: string | null;
    role: ConsoleRole;
    createdBy: string;
  }): Promise<CreatedSignInLink & { token: string }> {
    const { token, hash } = issueToken(TOKEN_PREFIX.consoleSignInLink);
    const now = this.clock();
    const link = {
      id: randomId("link_"),
      token_hash: hash,
      project_id: options.projectId,
      role: options.role,
      created_by: options.createdBy,
      created_at: isoTimestamp(now),
      expires_at: isoTimestamp(new Date(now.getTime() + SIGN_IN_LINK_TTL_SECONDS * 1000)),
      consumed_at: null,
    };
    await store.insertSignInLink(this.db, link);
    const url = `${this.publicUrl}/console/sign-in?token=${encodeURIComponent(token)}`;
    return { id: link.id, token, url, expiresAt: link.expires_at };
  }

  /**
   * Consumes the link and opens its session, in one transaction; undefined when the link is
   * unknown, used or expired (the same answer for each).
   */
  async signInWithLink(
    token: string,
    from: RequestOrigin,
  ): Promise<(OpenedSession & { linkId: string }) | undefined> {
    if (!token.startsWith(TOKEN_PREFIX.consoleSignInLink) || token.length > 100) return undefined;
    return this.db.transaction().execute(async (trx) => {
      const link = await store.consumeSignInLink(trx, hashToken(token), this.now());
      if (!link) return undefined;
      const opened = await this.insertSession(
        trx,
        { role: link.role, projectId: link.project_id },
        { subject: `cli link ${link.id}`, method: "link" },
        from,
      );
      return { ...opened, linkId: link.id };
    });
  }

  /** Opens a session for an identity the OIDC allow-list accepted. */
  openSession(
    grant: { role: ConsoleRole; projectId: string | null },
    operator: Operator,
    from: RequestOrigin,
  ): Promise<OpenedSession> {
    return this.insertSession(this.db, grant, operator, from);
  }

  private async insertSession(
    db: Kysely<Database>,
    grant: { role: ConsoleRole; projectId: string | null },
    operator: Operator,
    from: RequestOrigin,
  ): Promise<OpenedSession> {
    const { token, hash } = issueToken(TOKEN_PREFIX.consoleSession);
    const now = this.clock();
    const session = {
      id: randomId("cons_"),
      token_hash: hash,
      csrf_hash: hashToken(csrfTokenOf(token)),
      role: grant.role,
      project_id: grant.projectId,
      operator_subject: operator.subject,
      operator_email: operator.email ?? null,
      method: operator.method,
      ip: from.ip,
      user_agent: from.userAgent?.slice(0, 500) ?? null,
      created_at: isoTimestamp(now),
      expires_at: isoTimestamp(new Date(now.getTime() + CONSOLE_SESSION_TTL_SECONDS * 1000)),
      revoked_at: null,
      last_seen_at: isoTimestamp(now),
    };
    await store.insertConsoleSession(db, session);
    return {
      id: session.id,
      token,
      role: session.role,
      projectId: session.project_id,
      expiresAt: session.expires_at,
    };
  }

  /** The active session behind a cookie's token, or undefined (unknown, expired, revoked, malformed). */
  async authenticate(token: string): Promise<AuthenticatedConsoleSession | undefined> {
    if (!CONSOLE_TOKEN_PATTERN.test(token)) return undefined;
    const now = this.clock();
    const session = await store.findActiveConsoleSession(this.db, hashToken(token), isoTimestamp(now));
    if (!session) return undefined;
    const staleBefore = isoTimestamp(new Date(now.getTime() - LAST_SEEN_RESOLUTION_MS));
    if (session.lastSeenAt < staleBefore) {
      await store.touchConsoleSession(this.db, session.id, isoTimestamp(now), staleBefore);
    }
    return { ...session, csrfToken: csrfTokenOf(token) };
  }

  /** Whether a presented CSRF token is the session's (compared as hashes, in constant time). */
  csrfMatches(session: store.ActiveConsoleSession, presented: string | undefined): boolean {
    if (!presented || presented.length > 100) return false;
    return timingSafeEqual(Buffer.from(hashToken(presented)), Buffer.from(session.csrfHash));
  }

  revoke(scope: store.SessionScope, id: string): Promise<boolean> {
    return store.revokeConsoleSession(this.db, scope, id, this.now());
  }

  /** A page of active sessions (`limit + 1` asked, so the caller knows whether more follow). */
  list(scope: store.SessionScope, page: { offset: number; limit: number }) {
    return store.listActiveConsoleSessions(this.db, scope, this.now(), page);
  }

  private now(): string {
    return isoTimestamp(this.clock());
  }
}

/** The CSRF token of a session: an HMAC of its cookie token, so it need not be stored. */
function csrfTokenOf(sessionToken: string): string {
  return (
    TOKEN_PREFIX.consoleCsrf + createHmac("sha256", sessionToken).update("console csrf").digest("base64url")
  );
}
