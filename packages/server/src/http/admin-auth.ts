/**
 * `adminAuth`: the one onRequest hook of every admin route. It accepts either an API key
 * (HTTP Basic or Bearer, exactly as before: see auth.ts) or the console's session cookie, and
 * sets `request.principal` (the caller in one project) and `request.adminCaller`.
 *
 * Rules for cookie requests (API keys are admins of their own project and skip them):
 * - not cross-site: a present `Origin` must be PUBLIC_URL's origin and a present
 *   `Sec-Fetch-Site` must be `same-origin`, for every method but GET/HEAD (403);
 * - `x-csrf-token` equal to the session's CSRF token on every method but GET/HEAD (403);
 * - viewers may only use GET/HEAD (403), except routes marked `viewerMayUse` (sign-out),
 *   and not even those on routes marked `adminOnly` (fresh credentials, the proxy);
 * - the project: `x-connect-hub-project` may be omitted by a project-bound session and must
 *   match when sent; an all-projects session must send it on project-scoped routes (400). An
 *   unknown or foreign project id is 401, like a foreign token.
 * Cookies are parsed only when there is no Authorization header, so API-key requests pay
 * nothing for the console. Bad cookies count toward the per-address failure limit.
 */
import type { FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { readCookie } from "../console/cookies.js";
import type { AuthenticatedConsoleSession, ConsoleService } from "../console/service.js";
import type { TenancyService } from "../tenancy/service.js";
import type { Actor, AdminRole } from "../tenancy/store.js";
import { presentedApiKey, rememberAuthenticatedKey } from "./auth.js";
import type { AuthFailureLimiter } from "./auth-failures.js";
import { ApiError } from "./errors.js";

export const PROJECT_HEADER = "x-connect-hub-project";
export const CSRF_HEADER = "x-csrf-token";

declare module "fastify" {
  interface FastifyRequest {
    adminCaller?: AdminCaller;
  }
  interface FastifyContextConfig {
    /** "any": the route works without a project (e.g. `GET /projects`); default "project". */
    adminScope?: "project" | "any";
    /** Viewers may use this route whatever its method (their own sign-out). */
    viewerMayUse?: boolean;
    /** Viewers may not use this route even to read (it hands out credentials). */
    adminOnly?: boolean;
  }
}

/** The caller of an admin route, whether or not it names a project. */
export interface AdminCaller {
  role: AdminRole;
  actor: Actor;
  /** The projects the caller may work on: one, or all (an all-projects console session). */
  scope: { projectId: string } | "all";
  /** Set for console cookie requests. */
  consoleSession?: AuthenticatedConsoleSession;
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

export interface AdminAuthOptions {
  tenancy: TenancyService;
  consoleSessions: ConsoleService;
  failures: AuthFailureLimiter;
  publicUrl: string;
  cookieName: string;
}

export function requireAdmin(options: AdminAuthOptions): onRequestAsyncHookHandler {
  const { tenancy, consoleSessions, failures, cookieName } = options;
  const publicOrigin = new URL(options.publicUrl).origin;

  return async function adminAuth(request: FastifyRequest): Promise<void> {
    const wait = failures.retryAfterSeconds(request.ip);
    if (wait !== undefined) {
      throw new ApiError(
        429,
        `Too many failed authentications from this address: retry after ${wait} seconds with a valid API key`,
        { retryAfterSeconds: wait },
      );
    }
    if (request.headers.authorization !== undefined) return authenticateApiKey(request);

    const token = readCookie(request.headers.cookie, cookieName);
    if (!token) {
      // A browser's script (the console's fetch) must not get a Basic challenge: it would open
      // the browser's login prompt over the console. Browsers send Sec-Fetch-Site with every
      // request; Node's fetch sends Sec-Fetch-Mode alone, so API clients keep the challenge.
      const mode = request.headers["sec-fetch-mode"];
      const fromScript =
        request.headers["sec-fetch-site"] !== undefined && (mode === "cors" || mode === "same-origin");
      throw new ApiError(
        401,
        "Unauthorized: send your API key as the username of HTTP Basic authentication",
        fromScript ? {} : { headers: { "www-authenticate": 'Basic realm="connect-hub"' } },
      );
    }
    const session = await consoleSessions.authenticate(token);
    if (!session) {
      await failures.recordFailure(request.ip);
      throw new ApiError(
        401,
        "Unauthorized: the console session is invalid, expired or signed out; sign in again",
      );
    }
    const routeConfig = request.routeOptions.config ?? {};
    if (!SAFE_METHODS.has(request.method)) {
      refuseCrossSite(request, publicOrigin);
      if (!consoleSessions.csrfMatches(session, headerValue(request, CSRF_HEADER))) {
        throw new ApiError(
          403,
          `Forbidden: send the session's CSRF token in the ${CSRF_HEADER} header (GET /console/session gives it)`,
        );
      }
      if (session.role === "viewer" && routeConfig.viewerMayUse !== true) {
        throw new ApiError(403, "Forbidden: viewers can only read; ask an admin");
      }
    }
    if (session.role === "viewer" && routeConfig.adminOnly === true) {
      throw new ApiError(403, "Forbidden: viewers can only read; ask an admin");
    }
    const actor: Actor = {
      type: "console",
      id: session.id,
      display: session.operatorEmail ?? session.operatorSubject,
    };
    request.adminCaller = {
      role: session.role,
      actor,
      scope: session.project ? { projectId: session.project.id } : "all",
      consoleSession: session,
    };
    const project = await projectOf(request, session, routeConfig.adminScope ?? "project");
    if (project) {
      request.principal = {
        projectId: project.id,
        organizationId: project.organizationId,
        role: session.role,
        actor,
      };
    }
  };

  async function authenticateApiKey(request: FastifyRequest): Promise<void> {
    const presented = presentedApiKey(request);
    if (!presented) {
      throw new ApiError(
        401,
        "Unauthorized: send your API key as the username of HTTP Basic authentication",
        { headers: { "www-authenticate": 'Basic realm="connect-hub"' } },
      );
    }
    const principal = await tenancy.authenticateApiKey(presented.key, presented.hash);
    if (!principal) {
      await failures.recordFailure(request.ip);
      throw new ApiError(401, "Unauthorized: the API key is invalid or has been revoked");
    }
    rememberAuthenticatedKey(request);
    request.principal = principal;
    request.adminCaller = {
      role: principal.role,
      actor: principal.actor,
      scope: { projectId: principal.projectId },
    };
  }

  /** The project a cookie request works on; undefined for an all-projects caller on an "any" route. */
  async function projectOf(
    request: FastifyRequest,
    session: AuthenticatedConsoleSession,
    routeScope: "project" | "any",
  ): Promise<{ id: string; organizationId: number } | undefined> {
    const named = headerValue(request, PROJECT_HEADER);
    if (session.project) {
      if (named !== undefined && named !== session.project.id) throw foreignProject();
      return session.project;
    }
    if (named === undefined) {
      if (routeScope === "any") return undefined;
      throw new ApiError(
        400,
        `${PROJECT_HEADER}: this console session sees every project; name the project this request is for in the ${PROJECT_HEADER} header`,
      );
    }
    const project = named.length <= 255 ? await tenancy.findProject(named) : undefined;
    if (!project) throw foreignProject();
    return project;
  }
}

function foreignProject(): ApiError {
  return new ApiError(401, `Unauthorized: this console session has no project with that ${PROJECT_HEADER}`);
}

function refuseCrossSite(request: FastifyRequest, publicOrigin: string): void {
  const origin = headerValue(request, "origin");
  if (origin !== undefined && origin !== publicOrigin) {
    throw new ApiError(403, `Forbidden: cross-origin request from ${origin.slice(0, 200)} refused`);
  }
  const site = headerValue(request, "sec-fetch-site");
  if (site !== undefined && site !== "same-origin") {
    throw new ApiError(403, `Forbidden: a ${site.slice(0, 50)} request cannot change anything`);
  }
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" ? value : undefined;
}

export function adminCallerOf(request: FastifyRequest): AdminCaller {
  if (!request.adminCaller) throw new Error("route is missing the adminAuth hook");
  return request.adminCaller;
}
