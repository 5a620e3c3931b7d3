/**
 * Watches what the real database driver is asked to do: each transaction (begin, statements,
 * commit or rollback) and each statement outside one, in order. Tests count transactions and
 * statements exactly, check which statements shared a transaction, and hold a commit back (or
 * fail it) to prove what happens before COMMIT returns. Pass `probe.wrap` as `wrapDriver` to
 * openDatabase or startTestServer.
 */
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from "kysely";

export interface ProbedStatement {
  sql: string;
  parameters: readonly unknown[];
  /** The transaction it ran in (numbered from 1), or undefined for an autocommit statement. */
  transaction: number | undefined;
}

export interface ProbedCommit {
  transaction: number;
  /** The statements the transaction ran, in order. */
  statements: readonly ProbedStatement[];
}

/** Decides what happens at a COMMIT: resolve to let it go on, throw to make it fail (rollback). */
export type CommitGate = (commit: ProbedCommit) => Promise<void> | void;

export interface DriverProbe {
  wrap(driver: Driver): Driver;
  readonly statements: ProbedStatement[];
  /** Ordered log: `begin N`, `commit N` (returned), `rollback N`, and whatever tests `mark`. */
  readonly events: string[];
  readonly transactionsBegun: () => number;
  readonly transactionsCommitted: () => number;
  /** Statements whose SQL matches, e.g. /^insert into "connect_sessions"/. */
  matching(pattern: RegExp): ProbedStatement[];
  mark(event: string): void;
  /** Resolves once `count` callers wait for a connection at once (SQLite's one, or a full pool). */
  waitingForConnection(count: number): Promise<void>;
  /** Set (or clear) what every COMMIT goes through first. */
  gateCommits(gate: CommitGate | undefined): void;
  reset(): void;
}

export function driverProbe(): DriverProbe {
  const statements: ProbedStatement[] = [];
  const events: string[] = [];
  let begun = 0;
  let committed = 0;
  let gate: CommitGate | undefined;
  let waiting = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const wake = () => {
    for (const waiter of waiters.filter((w) => waiting >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const open = new WeakMap<DatabaseConnection, { id: number; statements: ProbedStatement[] }>();
  const wrappers = new WeakMap<DatabaseConnection, DatabaseConnection>();
  /** The driver's own connection behind each wrapper: the driver gets its own back. */
  const inner = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const unwrap = (connection: DatabaseConnection) => inner.get(connection) ?? connection;

  const wrapConnection = (connection: DatabaseConnection): DatabaseConnection => {
    let wrapper = wrappers.get(connection);
    if (!wrapper) {
      const probed: DatabaseConnection = {
        executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
          const transaction = open.get(probed);
          const statement = { sql: query.sql, parameters: query.parameters, transaction: transaction?.id };
          transaction?.statements.push(statement);
          statements.push(statement);
          return connection.executeQuery<R>(query);
        },
        streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
      };
      wrapper = probed;
      wrappers.set(connection, wrapper);
      inner.set(wrapper, connection);
    }
    return wrapper;
  };

  return {
    wrap: (driver: Driver): Driver => ({
      init: () => driver.init(),
      async acquireConnection() {
        waiting += 1;
        wake();
        try {
          return wrapConnection(await driver.acquireConnection());
        } finally {
          waiting -= 1;
        }
      },
      releaseConnection: (connection) => driver.releaseConnection(unwrap(connection)),
      destroy: () => driver.destroy(),
      async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
        await driver.beginTransaction(unwrap(connection), settings);
        begun += 1;
        open.set(connection, { id: begun, statements: [] });
        events.push(`begin ${begun}`);
      },
      async commitTransaction(connection: DatabaseConnection) {
        const transaction = open.get(connection);
        if (transaction && gate)
          await gate({ transaction: transaction.id, statements: transaction.statements });
        await driver.commitTransaction(unwrap(connection));
        open.delete(connection);
        if (transaction) {
          committed += 1;
          events.push(`commit ${transaction.id}`);
        }
      },
      async rollbackTransaction(connection: DatabaseConnection) {
        const transaction = open.get(connection);
        await driver.rollbackTransaction(unwrap(connection));
        open.delete(connection);
        if (transaction) events.push(`rollback ${transaction.id}`);
      },
    }),
    statements,
    events,
    transactionsBegun: () => begun,
    transactionsCommitted: () => committed,
    matching: (pattern) => statements.filter((statement) => pattern.test(statement.sql)),
    waitingForConnection: (count) =>
      new Promise<void>((resolve) => {
        waiters.push({ count, resolve });
        wake();
      }),
    mark: (event) => {
      events.push(event);
    },
    gateCommits: (next) => {
      gate = next;
    },
    reset: () => {
      statements.length = 0;
      events.length = 0;
    },
  };
}

/** Resolves after `turns` turns of the event loop (I/O included): lets pending work run, without a timer. */
export async function eventLoopTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
