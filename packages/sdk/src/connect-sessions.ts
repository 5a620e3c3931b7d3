/**
 * `hub.connectSessions`: the seed's two operations. Each returns the seed's response shape,
 * `{ statusCode, contentType, rawResponse, <model> }`, or throws a `ConnectHubError`.
 *
 * Every create sends an `Idempotency-Key` (the caller's, or a fresh UUID per call) that stays
 * the same on every retry of that call, so retries never create a second session.
 */
import { newIdempotencyKey } from "./core/idempotency.js";
import type { RequestOptions } from "./core/options.js";
import type { RequestCore, ResponseMetadata } from "./core/request-core.js";
import {
  type ConnectSession,
  type ConnectSessionAuthenticate,
  type ConnectSessionCreate,
  type ConnectSessionTokenAuthLink,
  connectSessionAuthenticateToWire,
  connectSessionCreateToWire,
  readConnectSession,
  readConnectSessionTokenAuthLink,
} from "./models/connect-sessions.js";

export interface CreateConnectSessionResponse extends ResponseMetadata {
  connectSessionTokenAuthLink: ConnectSessionTokenAuthLink;
}

export interface AuthenticateConnectSessionResponse extends ResponseMetadata {
  connectSession: ConnectSession;
}

export interface CreateConnectSessionOptions extends RequestOptions {
  /**
   * Sent as `Idempotency-Key`: the same key with the same body within 24 hours returns the
   * first answer and creates nothing; with another body it fails with 422. Default: a new
   * random UUID for each call (still the same on every retry of that call).
   */
  idempotencyKey?: string;
}

export class ConnectSessions {
  readonly #core: RequestCore;

  constructor(core: RequestCore) {
    this.#core = core;
  }

  /** Creates a connect session: a short-lived token and the hosted link for one of your customers. */
  async createConnectSession(
    request: ConnectSessionCreate,
    options: CreateConnectSessionOptions = {},
  ): Promise<CreateConnectSessionResponse> {
    return this.#core.call(
      "connectSessionTokenAuthLink",
      {
        operationId: "createConnectSession",
        method: "POST",
        path: "/connect_sessions",
        body: connectSessionCreateToWire(request),
        successStatus: 201,
        idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
        read: readConnectSessionTokenAuthLink,
      },
      options,
    );
  }

  /** The session behind a token; an unknown or expired token throws `UnauthorizedResponse`. */
  async authenticateConnectSession(
    request: ConnectSessionAuthenticate,
    options: RequestOptions = {},
  ): Promise<AuthenticateConnectSessionResponse> {
    return this.#core.call(
      "connectSession",
      {
        operationId: "authenticateConnectSession",
        method: "POST",
        path: "/connect_sessions/authenticate",
        body: connectSessionAuthenticateToWire(request),
        successStatus: 201,
        read: readConnectSession,
      },
      options,
    );
  }
}
