/**
 * The client. One `RequestCore` holds the resolved options and is shared by every resource
 * (`connectSessions` now; `accounts` joins the same way when that API lands).
 */

import { ConnectSessions } from "./connect-sessions.js";
import { type ConnectHubOptions, resolveOptions } from "./core/options.js";
import { RequestCore } from "./core/request-core.js";

export class ConnectHub {
  /** Create connect sessions and look them up by token. */
  readonly connectSessions: ConnectSessions;

  constructor(options: ConnectHubOptions) {
    const core = new RequestCore(resolveOptions(options));
    this.connectSessions = new ConnectSessions(core);
  }
}
