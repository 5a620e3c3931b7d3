/**
 * Failed connect-session tokens count as failed authentications of their address (the same
 * AUTH_FAILURES_PER_MINUTE limiter as wrong API keys and console cookies): an address guessing
 * tokens at the hosted page's API (`/connect/api/*`), the embedded hub (`/hub/*`) or the page
 * itself (`GET /connect?token=`), or console sign-in links (`GET /console/sign-in?token=`) is
 * throttled with 429 and `Retry-After`, in the envelope.
 *
 * A 401 on those routes means one thing only, a token that is unknown, expired or of a used
 * session, so the count is taken from the answer rather than in each handler. CORS preflights
 * carry no token and are never refused. `POST /connect_sessions/authenticate` is API-key
 * authenticated: the key is what is counted there, not the token it asks about.
 */
import type { FastifyInstance, onRequestAsyncHookHandler, onSendAsyncHookHandler } from "fastify";
import type { AuthFailureLimiter } from "./auth-failures.js";
import { ApiError } from "./errors.js";
import { hookList } from "./route-hooks.js";

/** Routes whose 401 means a bad link token: the hosted page, its API, the embedded hub, console sign-in links. */
const LINK_TOKEN_ROUTE = /^\/(?:connect\/api\/|hub\/|connect$|console\/sign-in$)/;

/**
 * Register at the root before the routes: the hooks are attached to the token routes alone, so
 * no other request pays for them.
 */
export function countFailedConnectTokens(app: FastifyInstance, failures: AuthFailureLimiter): void {
  const refuseThrottled: onRequestAsyncHookHandler = async (request) => {
    if (request.method === "OPTIONS") return;
    const wait = failures.retryAfterSeconds(request.ip);
    if (wait !== undefined) {
      throw new ApiError(
        429,
        `Too many failed authentications from this address: retry after ${wait} seconds with a valid link`,
        { retryAfterSeconds: wait },
      );
    }
  };
  // Counted before the answer leaves, so the next request from the address already sees it.
  const countRefusal: onSendAsyncHookHandler = async (request, reply, payload) => {
    if (reply.statusCode === 401 && request.method !== "OPTIONS") await failures.recordFailure(request.ip);
    return payload;
  };
  app.addHook("onRoute", (route) => {
    if (!LINK_TOKEN_ROUTE.test(route.url)) return;
    route.onRequest = [refuseThrottled, ...hookList(route.onRequest)];
    route.onSend = [...hookList(route.onSend), countRefusal];
  });
}
