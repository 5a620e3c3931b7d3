/**
 * Starts a real Connect Hub on a free loopback port over a fresh SQLite file or a fresh
 * PostgreSQL database, for tests that talk to it over HTTP. Every test server is independent:
 * its own database, its own keys.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { freePort } from "../../../../bench/free-port.js";
import { buildApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import { type Db, migrateToLatest, type OpenDatabaseOptions, openDatabase } from "../../src/db/database.js";
import type { DnsLookup } from "../../src/outbound/client.js";
import { TenancyService } from "../../src/tenancy/service.js";
import type { Clock } from "../../src/time.js";
import { createTestPostgresDatabase, type TestDialect } from "./postgres.js";

export interface TestServer {
  url: string;
  config: Config;
  app: FastifyInstance;
  db: Db;
  dataDir: string;
  /** The SQLite file (for the sqlite dialect). */
  databaseFile: string;
  /** What DATABASE_URL the server runs on; other processes can share it. */
  databaseUrl: string;
  /** Issues an API key; a new project name makes a new tenant. */
  createApiKey(project?: string, organization?: string): Promise<string>;
  close(): Promise<void>;
}

export { freePort };

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: Clock;
  logStream?: NodeJS.WritableStream;
  /** Which database to run on; default SQLite. */
  dialect?: TestDialect;
  /** Leave the schema unmigrated (to test readiness). */
  skipMigrations?: boolean;
  /** How the server's outbound calls resolve names (default: the system resolver). */
  dnsLookup?: DnsLookup;
  /** Observe or hold the driver's work (see driver-probe.ts). */
  wrapDriver?: OpenDatabaseOptions["wrapDriver"];
  /** Listen on this port (default: a free one), e.g. when PUBLIC_URL must be known first. */
  port?: number;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-test-"));
  const databaseFile = path.join(dataDir, "connect-hub.sqlite");
  const postgres = options.dialect === "postgres" ? await createTestPostgresDatabase() : undefined;
  const databaseUrl = postgres ? postgres.url : `file:${databaseFile}`;
  const port = options.port ?? (await freePort());
  const config = loadConfig({
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    SWEEP_INTERVAL_SECONDS: "0",
    LOG_LEVEL: options.logStream ? "info" : "silent",
    // Tests see only the providers they enable; the sandbox tests turn it back on.
    SANDBOX_PROVIDERS: "false",
    ...options.env,
  });
  const db = openDatabase(config.database, options.wrapDriver ? { wrapDriver: options.wrapDriver } : {});
  if (!options.skipMigrations) await migrateToLatest(db);
  const app = await buildApp({
    config,
    db,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(options.dnsLookup ? { dnsLookup: options.dnsLookup } : {}),
  });
  await app.listen({ port, host: "127.0.0.1" });
  const tenancy = new TenancyService(db.kysely);
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    app,
    db,
    dataDir,
    databaseFile,
    databaseUrl,
    createApiKey: async (project = "default", organization = "default") =>
      (await tenancy.createApiKey({ project, organization })).key,
    close: async () => {
      await app.close();
      await db.close();
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function basicAuth(apiKey: string): string {
  return `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}`;
}
