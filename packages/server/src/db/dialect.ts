/**
 * Everything that differs between the SQL dialects lives here, so stores and migrations are
 * written once.
 */
import { createHash } from "node:crypto";
import type BetterSqlite3 from "better-sqlite3";
import {
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type ExpressionBuilder,
  type Kysely,
  type PostgresPool,
  type PostgresPoolClient,
  type SelectQueryBuilder,
  type SqliteDatabase,
  sql,
} from "kysely";
import type pg from "pg";

export type DialectName = "sqlite" | "postgres";

/** Adds an auto-incrementing integer primary key `id` in the dialect's own way. */
export function withAutoIncrementId<T extends string>(
  table: CreateTableBuilder<T, never>,
  dialect: DialectName,
): CreateTableBuilder<T, "id"> {
  return dialect === "postgres"
    ? table.addColumn("id", "bigserial", (col: ColumnDefinitionBuilder) => col.primaryKey())
    : table.addColumn("id", "integer", (col: ColumnDefinitionBuilder) => col.primaryKey().autoIncrement());
}

/** True when the error is a unique-constraint violation, whatever the driver. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

/**
 * After rows were inserted with explicit ids, moves the table's id counter past them. SQLite
 * does this by itself (AUTOINCREMENT keeps the largest id seen); PostgreSQL's sequence does not.
 */
// biome-ignore lint/suspicious/noExplicitAny: works on any schema's transaction.
export async function resetIdSequence(db: Kysely<any>, dialect: DialectName, table: string): Promise<void> {
  if (dialect !== "postgres") return;
  await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce((select max(id) from ${sql.table(table)}), 0) + 1, false)`.execute(
    db,
  );
}

/**
 * For a sweep's "which rows" subquery: on PostgreSQL, rows another process is sweeping right
 * now are skipped rather than waited for (`for update skip locked`), so concurrent sweepers
 * share the work; SQLite has one writer at a time and needs nothing.
 *
 * Use it in a materialized CTE (`with due as materialized (...) delete ... where id in (select
 * id from due)`), never as a plain `in (subquery)`: PostgreSQL may run a plain subquery again
 * for each outer row (a nested-loop semi-join) or on a re-check, and each rerun (skipping the
 * rows this statement already deleted or locked) picks new rows, so one batch of `limit` could
 * take every due row. The CTE picks the rows once.
 */
// biome-ignore lint/suspicious/noExplicitAny: any select query, whatever its tables and columns.
export function skipLockedRows<QB extends SelectQueryBuilder<any, any, any>>(
  query: QB,
  dialect: DialectName,
): QB {
  return dialect === "postgres" ? (query.forUpdate().skipLocked() as QB) : query;
}

/**
 * One batch of a sweep's delete: the rows `pick` selects (their `key` column, at most its
 * limit) are picked once, in a materialized CTE (skipped when locked, see skipLockedRows), then
 * deleted. Answers how many were deleted.
 */
export async function deletePickedRows(
  // biome-ignore lint/suspicious/noExplicitAny: any table of the schema.
  db: Kysely<any>,
  dialect: DialectName,
  table: string,
  key: string,
  // biome-ignore lint/suspicious/noExplicitAny: a select of `key` from `table`.
  pick: SelectQueryBuilder<any, any, any>,
): Promise<number> {
  const result = await db
    .with(
      (cte) => cte("due").materialized(),
      () => skipLockedRows(pick, dialect),
    )
    .deleteFrom(table)
    // biome-ignore lint/suspicious/noExplicitAny: the CTE and the table, whatever the schema.
    .where(key, "in", (eb: ExpressionBuilder<any, any>) => eb.selectFrom("due").select(`due.${key}`))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

const STATEMENT_CACHE_LIMIT = 500;

/**
 * better-sqlite3 compiles SQL on every `prepare`; Kysely prepares on every query. This keeps
 * the compiled statements by SQL text, so a hot query is compiled once per process. Safe
 * because Kysely runs one statement at a time on the connection and never leaves one iterating
 * (we do not stream).
 */
export function cachingSqliteDatabase(
  sqlite: BetterSqlite3.Database,
  beforeStatement: () => void = () => {},
): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      beforeStatement();
      sqlite.close();
    },
    prepare(sqlAsked: string): BetterSqlite3.Statement {
      beforeStatement();
      // Transactions take the write lock when they begin (Kysely sends a deferred `begin`). A
      // deferred transaction that reads first and then writes, while another process (a CLI
      // command beside the server) committed in between, is refused at once with SQLITE_BUSY,
      // without waiting: its snapshot is stale. Taken at `begin`, the lock is waited for
      // (busy_timeout) like any other. This process has one connection, so it loses nothing.
      const sql = sqlAsked === "begin" ? "begin immediate" : sqlAsked;
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_LIMIT) statements.clear();
        statement = sqlite.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Reads the first row of a SELECT (prepared.ts's direct lookups) through a statement in raw
 * mode, which answers the values as an array, and makes the row object here, the same shape
 * for every row of a query: better-sqlite3 builds each row object property by property in C++,
 * which was a fifth of a session lookup (a 21-column row: 8 -> 6.5 µs, in one process). The
 * statements are this reader's own, not the shared cache's: raw mode is a statement's setting.
 * Like better-sqlite3, a column name that comes twice keeps the last value.
 *
 * Contract: the caller runs `checkSchema` at the start of every snapshot it reads in (the turn's
 * read transaction does). SQLite prepares a statement again when the schema changed under it
 * (another process ran `connect-hub migrate`), and a `select *` then answers the new columns,
 * in the new order; the names learned with the old schema are forgotten when its version moves.
 */
export function firstRowReader(sqlite: BetterSqlite3.Database) {
  const readers = new Map<string, (parameters: readonly unknown[]) => Record<string, unknown> | undefined>();
  const schemaVersion = sqlite.prepare<[], number>("pragma schema_version").pluck();
  let knownVersion: number | undefined;
  const read = (sql: string, parameters: readonly unknown[]): Record<string, unknown> | undefined => {
    let reader = readers.get(sql);
    if (!reader) {
      if (readers.size >= STATEMENT_CACHE_LIMIT) readers.clear();
      reader = firstRowOf(sqlite.prepare<unknown[], unknown[]>(sql).raw(true));
      readers.set(sql, reader);
    }
    return reader(parameters);
  };
  return Object.assign(read, {
    /** Forgets every statement's column names when the schema changed since the last check. */
    checkSchema(): void {
      const version = schemaVersion.get();
      if (version !== knownVersion) readers.clear();
      knownVersion = version;
    },
  });
}

function firstRowOf(statement: BetterSqlite3.Statement<unknown[], unknown[]>) {
  // Learned after the statement's first run: preparing reads the connection's cached schema,
  // which only running a statement brings up to date (SQLite then prepares it again).
  let names: string[] | undefined;
  // Every row starts as a copy of this object, so all share one hidden class.
  let shape: Record<string, unknown> = {};
  return (parameters: readonly unknown[]): Record<string, unknown> | undefined => {
    const values = statement.get(parameters);
    if (values === undefined) return undefined;
    if (names === undefined) {
      names = statement.columns().map((column) => column.name);
      shape = Object.fromEntries(names.map((name) => [name, null]));
    }
    const row = { ...shape };
    for (let index = 0; index < names.length; index++) row[names[index] as string] = values[index];
    return row;
  };
}

/**
 * One read transaction for the direct lookups of an event-loop turn. Outside a transaction,
 * SQLite takes and releases a WAL read lock for every statement (two fcntl calls and an fstat
 * of the database file, a tenth of an authenticate's database time); the lookups a turn
 * serves together read from one snapshot instead, taken by the first of them.
 *
 * Contract: the transaction ends before anything else runs on the connection (`end`, called
 * by the caching driver before every statement Kysely prepares, and before closing) and, at
 * the latest, when the turn's I/O callbacks are done (setImmediate), so it never delays a
 * write, never holds a snapshot past the turn, and a lookup after a write of this process
 * sees the write. `onSnapshot` runs first in each new transaction (firstRowReader's schema check).
 */
export function turnReadTransaction(sqlite: BetterSqlite3.Database, onSnapshot: () => void = () => {}) {
  const begin = sqlite.prepare("begin");
  const commit = sqlite.prepare("commit");
  let open = false;
  const end = (): void => {
    if (!open) return;
    open = false;
    if (sqlite.open && sqlite.inTransaction) commit.run();
  };
  return {
    /** Joins (or begins) the turn's read transaction: false while a Kysely transaction holds the connection. */
    join(): boolean {
      if (open) return true;
      if (sqlite.inTransaction) return false;
      begin.run();
      open = true;
      setImmediate(end);
      // Its first statement takes the snapshot the turn's lookups read.
      onSnapshot();
      return true;
    },
    end,
  };
}

const PREPARABLE = /^\s*(?:select|insert|update|delete|with)\b/i;

/**
 * Sends data statements as named prepared statements, so PostgreSQL parses and plans each
 * distinct query once per connection rather than on every request. The name is derived from
 * the SQL text, so the same text always maps to the same statement on every connection.
 */
export function preparingPostgresPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (sql: string): string | undefined => {
    if (!PREPARABLE.test(sql)) return undefined;
    let name = names.get(sql);
    if (!name) {
      if (names.size >= STATEMENT_CACHE_LIMIT) names.clear();
      name = `ch_${createHash("sha1").update(sql).digest("hex").slice(0, 20)}`;
      names.set(sql, name);
    }
    return name;
  };
  // One wrapper per pg client: Kysely keeps its connection state keyed by the client object.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => ({
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's overloads (text or cursor) pass through.
    query: ((sqlOrCursor: any, parameters?: readonly unknown[]) => {
      if (typeof sqlOrCursor !== "string") return client.query(sqlOrCursor);
      const name = nameOf(sqlOrCursor);
      const values = parameters ? [...parameters] : [];
      return name ? client.query({ name, text: sqlOrCursor, values }) : client.query(sqlOrCursor, values);
    }) as PostgresPoolClient["query"],
    release: (destroy?: boolean) => client.release(destroy),
  });
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        // A connection cut while checked out emits "error" on the client, where the pool's
        // listener is not attached: without this the process would crash. The query in
        // flight (if any) fails on its own and answers 503; the pool drops the client.
        client.on("error", () => {});
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
