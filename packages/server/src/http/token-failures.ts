/**
 * Failed connect-session tokens count as failed authentications of their address (the same
 * AUTH_FAILURES_PER_MINUTE limiter as wrong API keys and console cookies): an address guessing
 * tokens at the hosted page's API (`/connect/api/*`), the embedded hub (`/hub/*`) or the page
 * itself (`GET /connect?token=`) is throttled with 429 and `Retry-After`, in the envelope.
 *
 * A 401 on those routes means one thing only, a token that is unknown, expired or of a used
 * session, so the count is taken from the answer rather than in each handler. CORS preflights
 * carry no token and are never refused. `POST /connect_sessions/authenticate` is API-key
 * authenticated: the key is what is counted there, not the token it asks about.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuthFailureLimiter } from "./auth-failures.js";
import { ApiError } from "./errors.js";

function presentsConnectToken(request: FastifyRequest): boolean {
  if (request.method === "OPTIONS") return false;
  const path = request.url.split("?", 1)[0] ?? "";
  return path.startsWith("/connect/api/") || path.startsWith("/hub/") || path === "/connect";
}

/** Register at the root before the hub's routes, so every connect-token route is covered. */
export function countFailedConnectTokens(app: FastifyInstance, failures: AuthFailureLimiter): void {
  app.addHook("onRequest", async (request) => {
    if (!presentsConnectToken(request)) return;
    const wait = failures.retryAfterSeconds(request.ip);
    if (wait !== undefined) {
      throw new ApiError(
        429,
        `Too many failed authentications from this address: retry after ${wait} seconds with a valid link`,
        { retryAfterSeconds: wait },
      );
    }
  });
  app.addHook("onSend", async (request, reply, payload) => {
    // Counted before the answer leaves, so the next request from the address already sees it.
    if (reply.statusCode === 401 && presentsConnectToken(request)) await failures.recordFailure(request.ip);
    return payload;
  });
}
