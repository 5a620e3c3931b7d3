/**
 * Everything that differs between the SQL dialects lives here, so stores and migrations are
 * written once.
 */
import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from "kysely";

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

export type AnyDb = Kysely<unknown>;
