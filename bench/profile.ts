/**
 * Where a request's CPU time goes: the server runs under V8's sampling profiler (`--cpu-prof`)
 * while it answers a fixed number of requests, and each sample taken during that window is
 * charged to the piece of the request path it was in (logging, rate limit, headers, ...).
 * Together with the server's own CPU time for the window (from /proc), that gives microseconds
 * per request for each piece. CPU time, unlike requests per second, hardly depends on what
 * else the machine is running, so these figures hold on a busy machine too.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import {
  type BenchDatabase,
  type RunningServer,
  runLoad,
  startBaseline,
  startHub,
  startReference,
} from "./targets.js";

/** The pieces of the request path, in the order the report lists them. */
export const PIECES = [
  "request log",
  "rate limit",
  "security headers",
  "API key auth",
  "body parsing",
  "body validation",
  "response serialisation",
  "session rules + tokens",
  "database (Kysely, SQLite, group commit)",
  "Fastify routing and hooks",
  "node:http, sockets, timers",
  "garbage collection",
  "other (V8, native)",
] as const;
export type Piece = (typeof PIECES)[number];

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * A frame that belongs to one of our pieces (or a library doing that piece's work). Checked
 * from the innermost frame outwards, so JSON.stringify called by pino counts as logging, and
 * the SQLite step called by the session service counts as database.
 */
function specificPiece({ url, functionName }: CallFrame): Piece | undefined {
  if (
    /\/(pino|pino-std-serializers|sonic-boom|fast-redact|@pinojs\/[^/]+)\/|\/dist\/http\/logging\.js/.test(
      url,
    )
  )
    return "request log";
  if (/@fastify\/rate-limit\/|toad-cache|\/dist\/http\/rate-limit\.js/.test(url)) return "rate limit";
  if (/\/dist\/http\/security-headers\.js/.test(url)) return "security headers";
  if (/\/dist\/http\/auth\.js|\/dist\/tenancy\//.test(url)) return "API key auth";
  if (/secure-json-parse|fastify\/lib\/content-type-parser\.js|fastify\/lib\/contentTypeParser\.js/.test(url))
    return "body parsing";
  if (/\/ajv\/|\/ajv-formats\/|\/dist\/http\/validation\.js|fastify\/lib\/validation\.js/.test(url))
    return "body validation";
  if (url === "" && /^validate\d*$/.test(functionName)) return "body validation";
  if (/fast-json-stringify|fastify\/lib\/error-serializer\.js/.test(url)) return "response serialisation";
  if (/fastify\/lib\/reply\.js/.test(url) && /serialize/i.test(functionName)) return "response serialisation";
  if (/\/dist\/connect-sessions\/service\.js|\/dist\/crypto\//.test(url)) return "session rules + tokens";
  if (/better-sqlite3|\/kysely\/|\/dist\/db\/|\/dist\/connect-sessions\/store\.js/.test(url))
    return "database (Kysely, SQLite, group commit)";
  return undefined;
}

/**
 * Frames where Fastify moves on to the next step of a request from inside the previous step's
 * callback (a hook's `done`, the body parser's callback): what runs beneath them belongs to
 * the next step, not to the piece that called `done`, so the search for a piece stops here.
 */
function isStepBoundary({ url, functionName }: CallFrame): boolean {
  if (/fastify\/lib\/handle-request\.js/.test(url)) return true;
  return /fastify\/lib\/reply\.js/.test(url) && /^(?:onSendEnd|wrapOnSendEnd)$/.test(functionName);
}

function generalPiece({ url, functionName }: CallFrame): Piece | undefined {
  if (
    /\/fastify\/|find-my-way|fastq|avvio|light-my-request|\/dist\/app\.js|\/dist\/connect-sessions\//.test(
      url,
    )
  )
    return "Fastify routing and hooks";
  if (url.startsWith("node:")) return "node:http, sockets, timers";
  if (functionName === "(garbage collector)") return "garbage collection";
  return undefined;
}

/** Microseconds of CPU per request for each piece, from the samples in [fromUs, toUs]. */
export function chargeSamples(
  profile: CpuProfile,
  window: { fromUs: number; toUs: number },
  cpuMicrosPerRequest: number,
): Record<Piece, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const pieceOf = new Map<number, Piece | null>();
  const classify = (id: number): Piece | null => {
    const known = pieceOf.get(id);
    if (known !== undefined) return known;
    let general: Piece | undefined;
    let piece: Piece | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = (byId.get(at) as ProfileNode).callFrame;
      if (frame.functionName === "(idle)") {
        pieceOf.set(id, null);
        return null;
      }
      piece = specificPiece(frame);
      if (piece) break;
      general ??= generalPiece(frame);
      if (isStepBoundary(frame)) break;
    }
    const charged = piece ?? general ?? "other (V8, native)";
    pieceOf.set(id, charged);
    return charged;
  };
  const counts = Object.fromEntries(PIECES.map((p) => [p, 0])) as Record<Piece, number>;
  let busy = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index] ?? 0;
    if (at < window.fromUs || at > window.toUs) return;
    const piece = classify(id);
    if (!piece) return;
    counts[piece]++;
    busy++;
  });
  for (const piece of PIECES) counts[piece] = busy ? (counts[piece] / busy) * cpuMicrosPerRequest : 0;
  return counts;
}

export interface PieceProfile {
  endpoint: "create" | "authenticate";
  requests: number;
  /** Server CPU time (user + system) per request over the measured window. */
  cpuMicrosPerRequest: number;
  pieces: Record<Piece, number>;
  /** Per request CPU with LOG_LEVEL=warn (the request log off), measured the same way; NaN in a quick run. */
  cpuMicrosPerRequestWithoutLog: number;
  /** The bare node:http baseline's CPU per request, measured the same way. */
  baselineCpuMicrosPerRequest: number;
  /** The plain Fastify + better-sqlite3 reference (reference-server.ts); NaN for create, which it does not do. */
  referenceCpuMicrosPerRequest: number;
  /**
   * The same three measured with the load generator polling instead of sleeping (LoadSpec.poll):
   * what each server spends on its own work, without waking the load generator on loopback.
   */
  polling: { hub: number; baseline: number; reference: number };
}

/** CLOCK_MONOTONIC in microseconds: the clock V8's profile timestamps use on Linux. */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

interface ProfileOptions {
  requests: number;
  connections: number;
  tokensFile: string;
  work: string;
  /** Body size of each endpoint's answer, for the baseline. */
  responseBytes: Record<PieceProfile["endpoint"], number>;
  /** A smoke run: totals from the profiled run itself, no LOG_LEVEL=warn run. */
  quick?: boolean;
}

type Target = "hub profiled" | "hub" | "hub without log" | "baseline" | "reference";

function startTarget(
  database: BenchDatabase,
  endpoint: PieceProfile["endpoint"],
  options: ProfileOptions,
  target: Target,
  profiler: string[],
): Promise<RunningServer> {
  switch (target) {
    case "baseline":
      return startBaseline(options.responseBytes[endpoint]);
    case "reference":
      return startReference(database.url);
    default:
      return startHub(
        database.url,
        target === "hub without log" ? { LOG_LEVEL: "warn" } : {},
        target === "hub profiled" ? profiler : [],
      );
  }
}

interface RunResult {
  cpuMicrosPerRequest: number;
  /** With `alsoPolling`: the same server measured again right after, the load generator polling. */
  polledCpuMicrosPerRequest: number;
  profile?: CpuProfile;
  window: { fromUs: number; toUs: number };
}

/**
 * One server started, warmed up and measured (its CPU per request, and its CPU profile when
 * profiled); with `alsoPolling`, measured a second time, warm already, with the load generator
 * polling instead of sleeping: one start serves both, and starts are most of a short run.
 */
async function profiledRun(
  database: BenchDatabase,
  endpoint: PieceProfile["endpoint"],
  options: ProfileOptions,
  target: Target,
  alsoPolling = false,
): Promise<RunResult> {
  const dir = mkdtempSync(path.join(options.work, "cpu-prof-"));
  const profiler = ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=250"];
  const server = await startTarget(database, endpoint, options, target, profiler);
  const spec = {
    url: server.url,
    connections: options.connections,
    apiKey: database.apiKey,
    kind: endpoint,
    durationSeconds: 0,
    ...(endpoint === "authenticate" ? { tokensFile: options.tokensFile } : {}),
  };
  const measure = (poll: boolean) => {
    const cpuBefore = server.cpuSeconds();
    const result = runLoad({ ...spec, poll, amount: options.requests });
    return ((server.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, result.total);
  };
  let window: { fromUs: number; toUs: number };
  let cpuMicrosPerRequest: number;
  let polledCpuMicrosPerRequest = Number.NaN;
  try {
    runLoad({ ...spec, poll: false, amount: Math.ceil(options.requests / 2) }); // warm-up: JIT, caches
    const fromUs = monotonicMicros();
    cpuMicrosPerRequest = measure(false);
    window = { fromUs, toUs: monotonicMicros() };
    if (alsoPolling) polledCpuMicrosPerRequest = measure(true);
  } finally {
    await server.stop();
  }
  const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
  const profile = file ? (JSON.parse(readFileSync(path.join(dir, file), "utf8")) as CpuProfile) : undefined;
  rmSync(dir, { recursive: true, force: true });
  return { cpuMicrosPerRequest, polledCpuMicrosPerRequest, window, ...(profile ? { profile } : {}) };
}

export async function profilePieces(
  database: BenchDatabase,
  options: ProfileOptions,
): Promise<PieceProfile[]> {
  const profiles: PieceProfile[] = [];
  for (const endpoint of ["create", "authenticate"] as const) {
    // The profiler costs CPU itself: it gives the shares, an unprofiled run the total.
    const profiled = await profiledRun(database, endpoint, options, "hub profiled");
    const all = await profiledRun(database, endpoint, options, "hub", true);
    const quiet = options.quick
      ? undefined
      : await profiledRun(database, endpoint, options, "hub without log");
    const baseline = await profiledRun(database, endpoint, options, "baseline", true);
    // The reference does authenticate's lookup only; on PostgreSQL there is none.
    const hasReference = endpoint === "authenticate" && database.dialect === "sqlite";
    const reference = hasReference
      ? await profiledRun(database, endpoint, options, "reference", true)
      : undefined;
    profiles.push({
      endpoint,
      requests: options.requests,
      cpuMicrosPerRequest: all.cpuMicrosPerRequest,
      pieces: profiled.profile
        ? chargeSamples(profiled.profile, profiled.window, all.cpuMicrosPerRequest)
        : (Object.fromEntries(PIECES.map((p) => [p, Number.NaN])) as Record<Piece, number>),
      cpuMicrosPerRequestWithoutLog: quiet?.cpuMicrosPerRequest ?? Number.NaN,
      baselineCpuMicrosPerRequest: baseline.cpuMicrosPerRequest,
      referenceCpuMicrosPerRequest: reference?.cpuMicrosPerRequest ?? Number.NaN,
      polling: {
        hub: all.polledCpuMicrosPerRequest,
        baseline: baseline.polledCpuMicrosPerRequest,
        reference: reference?.polledCpuMicrosPerRequest ?? Number.NaN,
      },
    });
  }
  return profiles;
}

export function printProfile(profiles: PieceProfile[]): void {
  const width = Math.max(...PIECES.map((p) => p.length)) + 4;
  const lines = [
    "",
    "where a request's CPU time goes (SQLite, every default on; µs of server CPU per request):",
    `${"".padEnd(width)}${profiles.map((p) => p.endpoint.padStart(14)).join("")}`,
  ];
  const row = (label: string, value: (p: PieceProfile) => number, digits = 1) =>
    lines.push(
      `${`  ${label}`.padEnd(width)}${profiles
        .map((p) => (Number.isNaN(value(p)) ? "-" : value(p).toFixed(digits)).padStart(14))
        .join("")}`,
    );
  for (const piece of PIECES) row(piece, (p) => p.pieces[piece]);
  row("total", (p) => p.cpuMicrosPerRequest);
  row("total with LOG_LEVEL=warn", (p) => p.cpuMicrosPerRequestWithoutLog);
  row("baseline (bare node:http)", (p) => p.baselineCpuMicrosPerRequest);
  row("ratio baseline / all on", (p) => p.baselineCpuMicrosPerRequest / p.cpuMicrosPerRequest, 3);
  row("plain Fastify + better-sqlite3", (p) => p.referenceCpuMicrosPerRequest);
  row(
    "ratio baseline / plain Fastify",
    (p) => p.baselineCpuMicrosPerRequest / p.referenceCpuMicrosPerRequest,
    3,
  );
  lines.push("  the same, the load generator polling instead of sleeping:");
  row("  total, every default on", (p) => p.polling.hub);
  row("  baseline (bare node:http)", (p) => p.polling.baseline);
  row("  plain Fastify + better-sqlite3", (p) => p.polling.reference);
  row("  ratio baseline / all on", (p) => p.polling.baseline / p.polling.hub, 3);
  row("  ratio baseline / plain Fastify", (p) => p.polling.baseline / p.polling.reference, 3);
  row("waking the sleeping load generator", (p) => p.cpuMicrosPerRequest - p.polling.hub);
  lines.push(
    "  (pieces: --cpu-prof samples, each charged to the innermost piece on its stack, as shares of",
    "   the total; totals and baseline: CPU per request of runs without the profiler. Plain",
    "   Fastify: the same token lookup and nothing else (bench/reference-server.ts). Polling: on",
    "   loopback a server pays, inside its own writev, for waking a sleeping load generator, at",
    "   nearly every answer when it is the slower side; the last row is that share of the total,",
    "   which a server answering clients across a network does not pay)",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}
