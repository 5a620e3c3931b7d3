/**
 * Opens the configured database (SQLite file or PostgreSQL pool) behind one Kysely instance,
 * and runs migrations. Stores never see which one it is: the differences live in dialect.ts.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type SQLite from "better-sqlite3";
import {
  type Dialect,
  type Driver,
  Kysely,
  type MigrationResultSet,
  Migrator,
  PostgresDialect,
  SqliteDialect,
} from "kysely";
import type pg from "pg";
import type { DatabaseConfig } from "../config.js";
import {
  cachingSqliteDatabase,
  type DialectName,
  firstRowReader,
  preparingPostgresPool,
  turnReadTransaction,
} from "./dialect.js";
import { GroupCommit } from "./group-commit.js";
import { migrationProvider } from "./migrations/index.js";
import { allowDirectReads, NOT_NOW } from "./prepared.js";
import type { Database } from "./schema.js";

export interface PoolStats {
  /** Connections open (busy or idle). */
  total: number;
  idle: number;
  /** Queries waiting for a free connection. */
  waiting: number;
  max: number;
}

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectName;
  /** Commits the writes of concurrent requests together; see group-commit.ts. */
  readonly writes: GroupCommit;
  /** Connection pool usage (SQLite has one connection: always total 1). */
  poolStats(): PoolStats;
  close(): Promise<void>;
}

/**
 * The drivers load on first use: a process on SQLite never loads PostgreSQL's, and the other
 * way round (a CLI start is noticeably faster for it).
 */
const requireDriver = createRequire(import.meta.url);

export interface OpenDatabaseOptions {
  /**
   * Wraps the driver Kysely talks to: tests count transactions and statements, hold a commit
   * back or fail one, through the real driver underneath. Production passes nothing.
   */
  wrapDriver?: (driver: Driver) => Driver;
}

export function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Db {
  return config.dialect === "postgres"
    ? openPostgres(config.url, config.poolSize, options)
    : openSqlite(config.file, config.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, options);
}

function withDriver(dialect: Dialect, options: OpenDatabaseOptions): Dialect {
  const wrap = options.wrapDriver;
  if (!wrap) return dialect;
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => wrap(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

/** SQLITE_BUSY_TIMEOUT's default. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The database holds sealed credentials and token hashes: a folder it creates is 0700 and the
 * file 0600 (SQLite gives the -wal and -shm files the database file's mode). Existing folders
 * and files keep the modes the operator gave them.
 */
function openSqlite(file: string, busyTimeoutMs: number, options: OpenDatabaseOptions): Db {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // "a" creates the file when missing (with this mode) and never truncates an existing one.
  closeSync(openSync(file, "a", 0o600));
  const Sqlite = requireDriver("better-sqlite3") as typeof SQLite;
  const sqlite = new Sqlite(file);
  // WAL lets readers run beside the writer; synchronous=FULL makes every answered commit
  // survive a power loss, which is the durability promise of the API.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("foreign_keys = ON");
  // better-sqlite3 waits synchronously: while another process holds the lock, this process
  // answers nothing else. Only tools beside the server (a backup, the sqlite3 shell) take it.
  sqlite.pragma(`busy_timeout = ${Math.round(busyTimeoutMs)}`);
  // Lookups by token hash land on random index pages: let the OS page cache serve them through
  // a memory map rather than a read() per page, so a large table costs no more than a small one.
  sqlite.pragma("mmap_size = 1073741824");
  sqlite.pragma("cache_size = -65536");
  // A statement that may fail halfway inside a transaction (a multi-row INSERT, an upsert)
  // keeps a statement journal to undo itself alone: in memory, not a temporary file created,
  // written and deleted for every other group commit. Crash recovery never reads it (the WAL
  // does that), so durability is unchanged.
  sqlite.pragma("temp_store = MEMORY");
  // Hot reads skip Kysely's queue when no transaction holds the connection (prepared.ts); not
  // when a test wraps the driver to watch or hold back what reaches it.
  const readFirstRow = options.wrapDriver ? undefined : firstRowReader(sqlite);
  const turnRead = turnReadTransaction(sqlite, () => readFirstRow?.checkSchema());
  const statements = cachingSqliteDatabase(sqlite, turnRead.end);
  const kysely = new Kysely<Database>({
    dialect: withDriver(new SqliteDialect({ database: statements }), options),
  });
  if (readFirstRow)
    allowDirectReads(kysely, (sql, parameters) =>
      turnRead.join() ? readFirstRow(sql, parameters) : NOT_NOW,
    );
  let closed = false;
  return {
    kysely,
    dialect: "sqlite",
    writes: new GroupCommit(kysely),
    poolStats: () => ({ total: closed ? 0 : 1, idle: closed ? 0 : 1, waiting: 0, max: 1 }),
    close: async () => {
      closed = true;
      await kysely.destroy();
    },
  };
}

function openPostgres(url: string, poolSize: number, options: OpenDatabaseOptions): Db {
  const { Pool } = requireDriver("pg") as typeof pg;
  const pool = new Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its server (restart, failover) emits here; without a listener
  // the process would crash. The pool drops the client and opens a new one when needed.
  pool.on("error", () => {});
  const kysely = new Kysely<Database>({
    dialect: withDriver(new PostgresDialect({ pool: preparingPostgresPool(pool) }), options),
  });
  return {
    kysely,
    dialect: "postgres",
    // Leave connections for reads: at most half the pool commits at once.
    writes: new GroupCommit(kysely, { concurrency: Math.max(1, Math.floor(poolSize / 2)) }),
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: poolSize,
    }),
    close: () => kysely.destroy(),
  };
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
}

/**
 * Applies every pending migration; returns the names applied now. Safe to run from several
 * processes at once: Kysely's migrator takes a lock (an advisory lock on PostgreSQL).
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db: db.kysely, provider: migrationProvider(db.dialect) });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName;
    // No migration ran: the database could not be reached or locked; that error says why.
    if (failed === undefined) throw result.error;
    throw new MigrationError(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** The names of known migrations not applied yet (empty when the schema is current). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db: db.kysely, provider: migrationProvider(db.dialect) });
  const migrations = await migrator.getMigrations();
  return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
