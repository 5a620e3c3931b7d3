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

/**
 * Runs a prepared SELECT at once, without Kysely's connection queue and its promises (a third
 * of an authenticate's database time): answers its rows, or undefined when it cannot (the
 * connection is inside a transaction), and the query then goes through Kysely, waiting its
 * turn. A transaction's own reads always go through Kysely (a Transaction is never
 * registered). Driver errors are thrown as they are, as through Kysely.
 */
export type DirectReader = (sql: string, parameters: readonly unknown[]) => unknown[] | undefined;

const directReaders = new WeakMap<object, DirectReader>();

/** Lets prepared SELECTs on `db` itself (not its transactions) use `reader` (SQLite: database.ts). */
export function allowDirectReads(db: Kysely<Database>, reader: DirectReader): void {
  directReaders.set(db, reader);
}

const SELECT = /^\s*select\b/i;

interface Prepared<Row> {
  query: CompiledQuery<Row>;
  /** For each compiled parameter: which argument fills it, or undefined for a constant. */
  slots: (number | undefined)[];
  select: boolean;
}

export function preparedQuery<Args extends unknown[], Row>(
  build: (db: Kysely<Database>, ...args: Args) => Compilable<Row>,
): (db: Kysely<Database>, ...args: Args) => Promise<QueryResult<Row>> {
  // SQL text differs by dialect; the adapter's class tells the dialect of a db or transaction.
  const byDialect = new Map<unknown, Prepared<Row>>();
  return (db, ...args) => {
    const dialect = db.getExecutor().adapter.constructor;
    let prepared = byDialect.get(dialect);
    if (!prepared) {
      const placeholders = args.map((_, index) => `${MARK}${index}`) as Args;
      const query = build(db, ...placeholders).compile();
      const slots = query.parameters.map((value) =>
        typeof value === "string" && value.startsWith(MARK) ? Number(value.slice(MARK.length)) : undefined,
      );
      prepared = { query, slots, select: SELECT.test(query.sql) };
      byDialect.set(dialect, prepared);
    }
    const { query, slots } = prepared;
    const parameters = slots.map((slot, index) =>
      slot === undefined ? query.parameters[index] : args[slot],
    );
    const direct = prepared.select ? directReaders.get(db) : undefined;
    if (direct) {
      try {
        const rows = direct(query.sql, parameters);
        if (rows) return Promise.resolve({ rows: rows as Row[] });
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return db.executeQuery<Row>({ ...query, parameters });
  };
}
