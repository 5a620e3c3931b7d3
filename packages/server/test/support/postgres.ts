/**
 * The PostgreSQL that tests run against: TEST_POSTGRES_URL (CI creates a fresh database for
 * the run and exports it), else a local server with trust auth. Each test server gets a
 * database of its own, created here and dropped after.
 *
 * When PostgreSQL cannot be reached, its tests skip locally; under CI=true that is an error,
 * so a broken CI service can never pass as "skipped".
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch (error) {
    if (process.env.CI === "true") {
      throw new Error(`PostgreSQL is required in CI but unreachable at TEST_POSTGRES_URL: ${String(error)}`);
    }
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const postgresAvailable: boolean = await reachable(TEST_POSTGRES_URL);

export type TestDialect = "sqlite" | "postgres";
/** Every dialect a test written once should run on; PostgreSQL ones skip when it is unreachable. */
export const TEST_DIALECTS: readonly TestDialect[] = ["sqlite", "postgres"];
export const skipDialect = (dialect: TestDialect): boolean => dialect === "postgres" && !postgresAvailable;

export interface TestPostgresDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database `connect_hub_t_<random>` on the test server. */
export async function createTestPostgresDatabase(): Promise<TestPostgresDatabase> {
  const name = `connect_hub_t_${randomBytes(6).toString("hex")}`;
  await admin((client) => client.query(`create database ${name}`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}
