/**
 * `npm run bench`: Connect Hub against a bare node:http baseline, measured in the same run on
 * the same machine, so the ratios mean something anywhere. See bench/README.md.
 *
 * Options: --quick (a few seconds, SQLite only: a smoke run), --duration S, --warmup S,
 * --rounds N, --connections 10,50, --sessions N (the large table, default 1,000,000),
 * --no-postgres, --postgres-url URL (default TEST_POSTGRES_URL or the local server),
 * --large-on-postgres (seed the large table on PostgreSQL too), --out FILE,
 * --no-profile (skip the CPU profile of the pieces), --profile-only (only that profile),
 * --profile-requests N (requests per profiled run, default 20,000), --requests N (each
 * measurement sends N requests instead of running for --duration: a smoke run then finishes
 * whatever the machine's load), --poll (the load generator polls instead of sleeping between
 * answers, in every measurement: see LoadSpec.poll; the profile measures both ways anyway),
 * --wrk (the table's measurements sent by wrk, as issue 11's were, instead of autocannon),
 * --idle-poll (idle CPUs poll before halting, the kernel's default, for the run: see idle.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { idleWarning, KERNEL_DEFAULT_HALT_POLL_NS, pollBeforeHalting, readIdleSettings } from "./idle.js";
import type { LoadGenerator, LoadResult } from "./load-worker.js";
import { type PieceProfile, printProfile, profilePieces } from "./profile.js";
import { measureProxy } from "./proxy.js";
import { type Measurement, reportText, summarise } from "./report.js";
import {
  type BenchDatabase,
  createPostgresDatabase,
  HAS_TASKSET,
  prepareDatabase,
  ROOT,
  type RunningServer,
  runLoad,
  seedSessions,
  startBaseline,
  startHub,
  startReference,
  writeTokenSample,
} from "./targets.js";
import { findWrk } from "./wrk.js";

const { values: options } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    duration: { type: "string" },
    warmup: { type: "string" },
    rounds: { type: "string" },
    connections: { type: "string" },
    sessions: { type: "string" },
    "no-postgres": { type: "boolean", default: false },
    "postgres-url": { type: "string" },
    "large-on-postgres": { type: "boolean", default: false },
    out: { type: "string" },
    "no-profile": { type: "boolean", default: false },
    "profile-only": { type: "boolean", default: false },
    "profile-requests": { type: "string" },
    requests: { type: "string" },
    poll: { type: "boolean", default: false },
    wrk: { type: "boolean", default: false },
    "idle-poll": { type: "boolean", default: false },
  },
});

const quick = options.quick ?? false;
const durationSeconds = Number(options.duration ?? (quick ? 1 : 8));
/** Set: each measurement sends this many requests instead of running for the duration. */
const requestsPerMeasurement = options.requests === undefined ? undefined : Number(options.requests);
const warmupSeconds = Number(options.warmup ?? (quick ? 1 : 3));
const rounds = Number(options.rounds ?? (quick ? 1 : 2));
const connectionCounts = (options.connections ?? (quick ? "10" : "10,50")).split(",").map(Number);
const largeSessions = Number(options.sessions ?? 1_000_000);
const SMALL_SESSIONS = 1_000;
const profileOnly = options["profile-only"] ?? false;
const poll = options.poll ?? false;
const idlePoll = options["idle-poll"] ?? false;
/** Who sends the load of the table's measurements; the profile always uses autocannon (profile.ts). */
const generator: LoadGenerator = options.wrk ? "wrk" : "autocannon";
const profileRequests = Number(options["profile-requests"] ?? (quick ? 2000 : 20_000));
const postgresUrl =
  options["postgres-url"] ?? process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

type Endpoint = "create" | "authenticate";

/**
 * Tokens authenticate sends in turn, drawn from the stored sessions: the same count for every
 * table size: with 5,000 per connection autocannon fell behind in bursts (the server idled a
 * quarter of the time, and the 1M figures, the only ones sent 5,000, came out ~20% below 1k
 * whatever the table size: bench/README, sixth round).
 */
const TOKEN_SAMPLE = 1000;

const work = mkdtempSync(path.join(tmpdir(), "connect-hub-bench-"));
const measurements: Measurement[] = [];
/** What to undo if the run is interrupted: running servers, the PostgreSQL database. */
const cleanups = new Set<() => Promise<void>>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping servers and removing the benchmark's databases`);
    void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).finally(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Response sizes of the two endpoints, so each baseline answers the same number of bytes. */
async function responseSizes(database: BenchDatabase): Promise<Record<Endpoint, number>> {
  const hub = await startHub(database.url);
  try {
    const headers = {
      "content-type": "application/json",
      authorization: `Basic ${Buffer.from(`${database.apiKey}:`).toString("base64")}`,
    };
    const post = (route: string, body: unknown) =>
      fetch(`${hub.url}${route}`, { method: "POST", headers, body: JSON.stringify(body) }).then((r) =>
        r.text(),
      );
    const created = await post("/connect_sessions", {
      origin_owner_id: "bench-customer",
      origin_owner_name: "Bench Customer Inc",
      categories: ["hris", "ats"],
    });
    const authenticated = await post("/connect_sessions/authenticate", { token: "chs_bench_1" });
    return { create: Buffer.byteLength(created), authenticate: Buffer.byteLength(authenticated) };
  } finally {
    await hub.stop();
  }
}

async function measure(
  server: RunningServer,
  database: BenchDatabase,
  endpoint: Endpoint,
  connections: number,
  tokensFile: string,
): Promise<LoadResult & { peakRssMiB: number; cpuMicrosPerRequest: number }> {
  const spec = {
    url: server.url,
    connections,
    apiKey: database.apiKey,
    kind: endpoint,
    poll,
    generator,
    ...(endpoint === "authenticate" ? { tokensFile } : {}),
  };
  if (warmupSeconds > 0) runLoad({ ...spec, durationSeconds: warmupSeconds });
  const cpuBefore = server.cpuSeconds();
  const result = runLoad({
    ...spec,
    durationSeconds,
    ...(requestsPerMeasurement ? { amount: requestsPerMeasurement } : {}),
  });
  const cpuMicrosPerRequest = ((server.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, result.total);
  return { ...result, peakRssMiB: server.peakRssMiB(), cpuMicrosPerRequest };
}

async function measureDatabase(database: BenchDatabase, endpoints: Endpoint[], label: string): Promise<void> {
  const sizes = await responseSizes(database);
  const tokensFile = writeTokenSample(
    path.join(work, `tokens-${database.dialect}.txt`),
    database.sessions,
    TOKEN_SAMPLE,
  );
  for (let round = 0; round < rounds; round++) {
    for (const connections of connectionCounts) {
      for (const endpoint of endpoints) {
        // The reference does authenticate's lookup on SQLite only (reference-server.ts).
        const targets: Array<Measurement["target"]> =
          database.dialect === "sqlite" && endpoint === "authenticate" && label === "1k"
            ? ["baseline", "hub", "reference"]
            : ["baseline", "hub"];
        // Interleaved, alternating who goes first, so drift (heat, page cache) hits all alike.
        const order = round % 2 === 0 ? targets : targets.toReversed();
        const start = {
          baseline: () => startBaseline(sizes[endpoint]),
          hub: () => startHub(database.url),
          reference: () => startReference(database.url),
        };
        for (const target of order) {
          const server = await start[target]();
          const stop = () => server.stop();
          cleanups.add(stop);
          try {
            const result = await measure(server, database, endpoint, connections, tokensFile);
            measurements.push({
              database: database.dialect,
              endpoint,
              storedSessions: label,
              connections,
              target,
              round,
              ...result,
            });
            log(
              `${database.dialect} ${endpoint} (${label} sessions) c=${connections} ${target}: ${Math.round(result.requestsPerSecond)} req/s p99 ${result.latencyP99Ms} ms${result.non2xx ? ` non2xx=${result.non2xx}` : ""}`,
            );
          } finally {
            cleanups.delete(stop);
            await server.stop();
          }
        }
      }
    }
  }
}

/** The CPU profile of the pieces (see profile.ts), on the same database and load. */
async function profileDatabase(database: BenchDatabase): Promise<PieceProfile[]> {
  const connections = Math.max(...connectionCounts);
  log(`${database.dialect}: profiling the pieces, ${profileRequests} requests per run, c=${connections}...`);
  return profilePieces(database, {
    requests: profileRequests,
    connections,
    tokensFile: writeTokenSample(path.join(work, "tokens-profile.txt"), database.sessions, TOKEN_SAMPLE),
    work,
    responseBytes: await responseSizes(database),
    quick,
  });
}

async function benchmark(
  database: BenchDatabase,
  large: boolean,
  profile: boolean,
): Promise<PieceProfile[] | undefined> {
  await seedSessions(database, 1, SMALL_SESSIONS);
  if (!profileOnly) await measureDatabase(database, ["create", "authenticate"], "1k");
  const profiles = profile ? await profileDatabase(database) : undefined;
  if (!large || profileOnly) return profiles;
  log(`${database.dialect}: seeding ${largeSessions.toLocaleString("en")} sessions in bulk SQL...`);
  const started = Date.now();
  await seedSessions(database, SMALL_SESSIONS + 1, largeSessions);
  log(`${database.dialect}: seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await measureDatabase(database, ["authenticate"], `${largeSessions / 1_000_000}M`);
  return profiles;
}

async function main(): Promise<void> {
  if (generator === "wrk" && poll) throw new Error("--wrk and --poll do not go together: wrk cannot poll");
  if (generator === "wrk" && requestsPerMeasurement)
    throw new Error("--wrk and --requests do not go together: wrk runs for a duration");
  if (generator === "wrk" && !findWrk())
    throw new Error("--wrk: wrk is not installed (apt-get install wrk, or set WRK_PATH)");
  log(`load generator: ${generator}${poll ? ", polling" : ""}`);
  log(
    `cpus: ${cpus().length}, node ${process.version}, taskset: ${HAS_TASKSET ? "server on CPU 0, load on CPU 1" : "not available"}`,
  );
  const idleBefore = readIdleSettings();
  if (idlePoll) {
    const restore = pollBeforeHalting(KERNEL_DEFAULT_HALT_POLL_NS);
    // process.exit after a signal runs exit handlers too, so the machine's setting comes back.
    process.once("exit", restore);
    log(
      `idle: CPUs poll up to ${KERNEL_DEFAULT_HALT_POLL_NS / 1000} µs before halting for this run (--idle-poll)`,
    );
  }
  const idleNote = idlePoll ? undefined : idleWarning(idleBefore);
  if (idleNote) log(idleNote);
  const [busy = 0] = loadavg();
  if (busy > 0.5) {
    log(`note: load average ${busy.toFixed(2)}: other processes are busy, so figures will be noisy`);
  }
  const sqliteDir = path.join(work, "sqlite");
  mkdirSync(sqliteDir);
  const sqlite = await prepareDatabase(`file:${path.join(sqliteDir, "bench.sqlite")}`, async () => {});
  const profiles = await benchmark(sqlite, !quick, !options["no-profile"]);
  if (!profileOnly)
    measurements.push(
      ...(await measureProxy(sqlite, {
        work,
        rounds,
        connectionCounts,
        durationSeconds,
        ...(requestsPerMeasurement ? { requests: requestsPerMeasurement } : {}),
        warmupSeconds,
        poll,
        generator,
        log,
        cleanups,
      })),
    );

  if (!quick && !profileOnly && !options["no-postgres"]) {
    const created = await createPostgresDatabase(postgresUrl);
    if (!created) {
      log(`PostgreSQL not reachable at ${postgresUrl.replace(/\/\/[^@/]*@/, "//***@")}: skipped`);
    } else {
      cleanups.add(created.drop);
      const postgres = await prepareDatabase(created.url, created.drop);
      try {
        await benchmark(postgres, options["large-on-postgres"] ?? false, false);
      } finally {
        await postgres.drop();
      }
    }
  }

  const summary = summarise(measurements);
  if (!profileOnly) process.stdout.write(reportText(summary, idleNote ? [idleNote] : []));
  if (profiles) printProfile(profiles);
  const out =
    options.out ??
    path.join(ROOT, "bench/results", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model,
          node: process.version,
          taskset: HAS_TASKSET,
          loadAverageAtStart: busy,
          loadAverageAtEnd: loadavg()[0],
          idle: idleBefore,
        },
        settings: {
          quick,
          durationSeconds,
          warmupSeconds,
          rounds,
          connectionCounts,
          largeSessions,
          profileRequests,
          poll,
          idlePollNs: idlePoll ? KERNEL_DEFAULT_HALT_POLL_NS : undefined,
        },
        loadGenerator: poll ? "autocannon, polling" : generator,
        summary,
        measurements,
        profiles,
      },
      null,
      2,
    )}\n`,
  );
  log(`results written to ${path.relative(process.cwd(), out)}`);
}

main()
  .catch((error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
