/**
 * The client. One `RequestCore` holds the resolved options and is shared by every resource, so
 * `connectSessions` and `accounts` send the same credentials, retries, hooks and timeouts.
 */

import { Accounts } from "./accounts.js";
import { ConnectSessions } from "./connect-sessions.js";
import { type ConnectHubOptions, resolveOptions } from "./core/options.js";
import { RequestCore } from "./core/request-core.js";
import { ProxyRequests } from "./proxy.js";

export class ConnectHub {
  /** Create connect sessions and look them up by token. */
  readonly connectSessions: ConnectSessions;
  /** List, read, update and delete linked accounts, and fetch their fresh credentials. */
  readonly accounts: Accounts;
  /** Calls to a linked account's provider, made by Connect Hub with the account's credentials. */
  readonly proxy: ProxyRequests;

  constructor(options: ConnectHubOptions) {
    const core = new RequestCore(resolveOptions(options));
    this.connectSessions = new ConnectSessions(core);
    this.accounts = new Accounts(core);
    this.proxy = new ProxyRequests(core);
  }
}
