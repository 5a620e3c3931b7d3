/** What every route module receives from the app: configuration, services, the auth hook. */
import type { onRequestAsyncHookHandler } from "fastify";
import type { Config } from "../config.js";
import type { ConnectSessionService } from "../connect-sessions/service.js";

export interface RouteContext {
  readonly config: Config;
  readonly connectSessions: ConnectSessionService;
  readonly apiKeyAuth: onRequestAsyncHookHandler;
}
