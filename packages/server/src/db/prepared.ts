/**
 * Queries built once and run many times. Kysely builds and compiles a query on every call,
 * which on the hot paths costs more than the database takes to answer. A prepared query is
 * built once per dialect with placeholders, and each call only supplies the values; with the
 * statement caches in dialect.ts the database then also reuses its plan.
 *
 * Contract for `build`: every argument goes into the query as a value, untouched (no
 * branching on it, no transformation), because at build time it is only a placeholder.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from "kysely";
import type { Database } from "./schema.js";

const MARK = "\u0000connect-hub-prepared-parameter:";

/** What a DirectReader answers when it cannot read now; the lookup then goes through Kysely. */
export const NOT_NOW = Symbol("not now");

/**
 * Runs a lookup's SELECT at once, without Kysely's connection queue and its promises (a third
 * of an authenticate's database time): answers its first row (undefined for none), or NOT_NOW
 * when it cannot (the connection is inside a transaction), and the query then goes through
 * Kysely, waiting its turn. A transaction's own reads always go through Kysely (a Transaction
 * is never registered). Driver errors are thrown as they are, as through Kysely.
 */
export type DirectReader = (sql: string, parameters: readonly unknown[]) => unknown;

const directReaders = new WeakMap<object, DirectReader>();

/** Lets prepared lookups on `db` itself (not its transactions) use `reader` (SQLite: database.ts). */
export function allowDirectReads(db: Kysely<Database>, reader: DirectReader): void {
  directReaders.set(db, reader);
}

interface Prepared<Row> {
  query: CompiledQuery<Row>;
  /** For each compiled parameter: which argument fills it, or undefined for a constant. */
  slots: (number | undefined)[];
}

/** The query `build` makes for `db`'s dialect, compiled once, with this call's values. */
function compiler<Args extends unknown[], Row>(
  build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
): (db: Kysely<Database>, args: Args) => CompiledQuery<Row> {
  // SQL text differs by dialect; the adapter's class tells the dialect of a db or transaction.
  const byDialect = new Map<unknown, Prepared<Row>>();
  return (db, args) => {
    const dialect = db.getExecutor().adapter.constructor;
    let prepared = byDialect.get(dialect);
    if (!prepared) {
      const placeholders = args.map((_, index) => `${MARK}${index}`) as Args;
      const query = build(db, ...placeholders).compile();
      const slots = query.parameters.map((value) =>
        typeof value === "string" && value.startsWith(MARK) ? Number(value.slice(MARK.length)) : undefined,
      );
      prepared = { query, slots };
      byDialect.set(dialect, prepared);
    }
    const { query, slots } = prepared;
    const parameters = slots.map((slot, index) =>
      slot === undefined ? query.parameters[index] : args[slot],
    );
    return { ...query, parameters };
  };
}

export function preparedQuery<Args extends unknown[], Row>(
  build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
): (db: Kysely<Database>, ...args: Args) => Promise<QueryResult<Row>> {
  const compile = compiler(build);
  return (db, ...args) => db.executeQuery<Row>(compile(db, args));
}

/**
 * A prepared SELECT of at most one row (by a unique key): answers that row or undefined. On
 * SQLite it is read at once (allowDirectReads), stepping the statement once rather than on
 * to its end, as a query for all rows must.
 */
export function preparedLookup<Args extends unknown[], Row>(
  build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
): (db: Kysely<Database>, ...args: Args) => Promise<Row | undefined> {
  const compile = compiler(build);
  return (db, ...args) => {
    const query = compile(db, args);
    const direct = directReaders.get(db);
    if (direct) {
      try {
        const row = direct(query.sql, query.parameters);
        if (row !== NOT_NOW) return Promise.resolve(row as Row | undefined);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return db.executeQuery<Row>(query).then((result) => result.rows[0]);
  };
}
