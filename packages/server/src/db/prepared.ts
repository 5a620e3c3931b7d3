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

interface Prepared<Row> {
  query: CompiledQuery<Row>;
  /** For each compiled parameter: which argument fills it, or undefined for a constant. */
  slots: (number | undefined)[];
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
      prepared = { query, slots };
      byDialect.set(dialect, prepared);
    }
    const { query, slots } = prepared;
    const parameters = slots.map((slot, index) =>
      slot === undefined ? query.parameters[index] : args[slot],
    );
    return db.executeQuery<Row>({ ...query, parameters });
  };
}
