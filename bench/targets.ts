/**
 * What the benchmark measures and drives: server processes pinned to one CPU, the load
 * generator pinned to another, and databases prepared and seeded with sessions in bulk SQL.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@connect-hub/server/dist/config.js";
import { migrateToLatest, openDatabase } from "@connect-hub/server/dist/db/database.js";
import { TenancyService } from "@connect-hub/server/dist/tenancy/service.js";
import SQLite from "better-sqlite3";
import pg from "pg";
import { freePort } from "./free-port.js";
import type { LoadResult, LoadSpec } from "./load-worker.js";
import { findWrk, runWrk } from "./wrk.js";

export { freePort };

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../..");
const HUB_BIN = path.join(ROOT, "packages/server/bin/connect-hub.js");

export const HAS_TASKSET = (() => {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** CPU 0 for the server, CPU 1 for the load generator (when there are two and taskset exists). */
function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return HAS_TASKSET ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];
}

export interface RunningServer {
  url: string;
  pid: number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number;
  /** Highest resident memory of the process so far, in MiB (VmHWM). */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/** Waits until the server answers or exits: no time limit, a busy machine can start slowly. */
async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`server exited with ${child.exitCode ?? child.signalCode}`);
    const up = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startPinned(
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<RunningServer> {
  const [command, argv] = pinned(0, process.execPath, args);
  const child = spawn(command, argv, { env, stdio: ["ignore", "ignore", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    pid: child.pid ?? 0,
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    peakRssMiB: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kib / 1024;
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export async function startBaseline(bodyBytes: number): Promise<RunningServer> {
  const port = await freePort();
  return startPinned(
    [path.join(here, "baseline-server.js"), String(port), String(bodyBytes)],
    process.env,
    port,
  );
}

/** The plain Fastify + better-sqlite3 reference (reference-server.ts) on a SQLite database. */
export async function startReference(databaseUrl: string): Promise<RunningServer> {
  const port = await freePort();
  return startPinned(
    [path.join(here, "reference-server.js"), String(port), sqliteFile(databaseUrl)],
    process.env,
    port,
  );
}

const sqliteFile = (databaseUrl: string): string => databaseUrl.replace(/^(?:file|sqlite):(?:\/\/)?/, "");

export async function startHub(
  databaseUrl: string,
  extraEnv: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): Promise<RunningServer> {
  const port = await freePort();
  return startPinned(
    [...nodeArgs, HUB_BIN, "serve"],
    {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      // The benchmark is one client hammering one key: lift the per-key limit out of the way.
      RATE_LIMIT_PER_MINUTE: "10000000",
      SWEEP_INTERVAL_SECONDS: "0",
      ...extraEnv,
    },
    port,
  );
}

/** wrk, when the run asked for it (LoadSpec.generator) and it is installed. */
const WRK = findWrk();

export function runLoad(spec: LoadSpec): LoadResult {
  if (spec.generator === "wrk") {
    if (!WRK) throw new Error("wrk is not installed: apt-get install wrk (or set WRK_PATH)");
    return runWrk(WRK, spec, (command, args) => pinned(1, command, args));
  }
  const [command, argv] = pinned(1, process.execPath, [
    path.join(here, "load-worker.js"),
    JSON.stringify(spec),
  ]);
  const output = execFileSync(command, argv, { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split("\n").pop() ?? "{}") as LoadResult;
}

/** A database ready to serve: migrated, with an API key. */
export interface BenchDatabase {
  dialect: "sqlite" | "postgres";
  url: string;
  apiKey: string;
  projectId: string;
  sessions: number;
  drop(): Promise<void>;
}

export async function prepareDatabase(url: string, drop: () => Promise<void>): Promise<BenchDatabase> {
  const db = openDatabase(loadConfig({ DATABASE_URL: url }).database);
  try {
    await migrateToLatest(db);
    const created = await new TenancyService(db.kysely).createApiKey({ project: "bench" });
    return {
      dialect: db.dialect,
      url,
      apiKey: created.key,
      projectId: created.project.id,
      sessions: 0,
      drop,
    };
  } finally {
    await db.close();
  }
}

/** Benchmark tokens are `chs_bench_<n>`: valid session tokens whose hashes SQL can compute. */
export const benchToken = (n: number): string => `chs_bench_${n}`;

const SEED_COLUMNS =
  "project_id, token_hash, status, origin_owner_id, origin_owner_name, categories, multiple, type, expires_at, created_at, updated_at";

/** Adds sessions `from..to` (inclusive) in bulk SQL, not through HTTP. */
export async function seedSessions(database: BenchDatabase, from: number, to: number): Promise<void> {
  const now = new Date().toISOString();
  const expires = "2099-01-01T00:00:00.000Z";
  if (database.dialect === "sqlite") {
    const sqlite = new SQLite(sqliteFile(database.url));
    sqlite.pragma("journal_mode = WAL");
    sqlite.function("bench_sha256", { deterministic: true }, (value: unknown) =>
      createHash("sha256").update(String(value)).digest("hex"),
    );
    sqlite
      .prepare(
        `with recursive n(i) as (select cast(? as integer) union all select i + 1 from n where i < cast(? as integer))
         insert into connect_sessions (${SEED_COLUMNS})
         select ?, bench_sha256('chs_bench_' || i), 'pending', 'bench-' || i, 'Bench', '["hris"]', 0, 'production', ?, ?, ?
         from n`,
      )
      .run(from, to, database.projectId, expires, now, now);
    sqlite.close();
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(
      `insert into connect_sessions (${SEED_COLUMNS})
       select $3, encode(sha256(convert_to('chs_bench_' || i, 'UTF8')), 'hex'), 'pending', 'bench-' || i, 'Bench', '["hris"]', 0, 'production', $4, $5, $5
       from generate_series($1::int, $2::int) as i`,
      [from, to, database.projectId, expires, now],
    );
    await client.query("analyze connect_sessions");
    await client.end();
  }
  database.sessions = to;
}

/** A file of `count` tokens drawn at random from the seeded ones, for the load generator. */
export function writeTokenSample(file: string, sessions: number, count: number): string {
  const tokens = Array.from({ length: Math.min(count, sessions) }, (_, i) =>
    benchToken(count >= sessions ? i + 1 : 1 + Math.floor(Math.random() * sessions)),
  );
  writeFileSync(file, `${tokens.join("\n")}\n`);
  return file;
}

/** A fresh PostgreSQL database for the run, or undefined when none is reachable. */
export async function createPostgresDatabase(
  adminUrl: string,
): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `connect_hub_bench_${Date.now()}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
