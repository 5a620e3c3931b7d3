/**
 * Structured request logs (pino). Secrets never reach a log line, by construction rather than
 * by redaction: the request line is built from named fields only (method, URL with token query
 * parameters masked, address, user agent, status, time), never headers or bodies; an error's
 * own fields are scrubbed of secret-named ones. pino's path redaction is not used: with
 * wildcard paths it cloned and searched every object of every line, a tenth of an
 * authenticate's CPU, to guard fields a request line never holds.
 */
import fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import pino from "pino";
import type { LogFormat, LogLevel } from "../config.js";

const SECRET_QUERY_PARAMS = /([?&](?:token|code|state|api_key|access_token|refresh_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.includes("?") ? url.replace(SECRET_QUERY_PARAMS, "$1[REDACTED]") : url;
}

/** JSON lines go to standard output (see stdoutOncePerTurn) unless `stream` is given. */
export function loggerOptions(level: LogLevel, stream?: NodeJS.WritableStream | pino.DestinationStream) {
  const destination: pino.DestinationStream = stream ?? stdoutOncePerTurn();
  return {
    level,
    stream: destination,
    serializers: {
      req(request: FastifyRequest) {
        return {
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
          userAgent: request.headers["user-agent"],
        };
      },
      res(reply: { statusCode: number }) {
        return { statusCode: reply.statusCode };
      },
      err: scrubbedError,
    },
  };
}

/** Field names whose values are secrets wherever they appear in a logged error. */
const SECRET_FIELDS =
  /^(?:authorization|cookie|set-cookie|idempotency-key|token|access_token|refresh_token|id_token|password|api_key|apikey|client_secret|secret|code_verifier)$/i;
const MAX_SCRUB_DEPTH = 8;

function scrub(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_SCRUB_DEPTH) return "[TRUNCATED]";
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] = SECRET_FIELDS.test(key) ? "[REDACTED]" : scrub(field, depth + 1);
  }
  return copy;
}

/**
 * pino's error serializer (type, message, stack, cause, own fields), with every field named
 * like a secret replaced at any depth: an error from a client library may carry the request's
 * headers or body. Errors are rare, so this costs nothing on the hot path.
 */
export function scrubbedError(error: Error): pino.SerializedError {
  return scrub(pino.stdSerializers.err(error), 0) as pino.SerializedError;
}

let sharedStdout: pino.DestinationStream | undefined;

/**
 * Standard output, written once per turn of the event loop (see linesOncePerTurn), shared by
 * every logger of the process so lines keep their order. Lines still pending when the process
 * exits (a crash included) are written by the exit handler. A write that meets a full pipe
 * retries until it goes through (sonic-boom's synchronous mode, as pino's default): the log is
 * never dropped.
 */
export function stdoutOncePerTurn(): pino.DestinationStream {
  if (!sharedStdout) {
    const stdout = linesOncePerTurn(pino.destination({ dest: 1, sync: true }));
    process.once("exit", () => stdout.flush(() => {}));
    sharedStdout = stdout;
  }
  return sharedStdout;
}

/**
 * The lines logged while one turn's I/O callbacks run are joined and written to `sink` in one
 * write when they are done (setImmediate): a busy server makes one system call per turn rather
 * than one per line, and a quiet one still writes each line at once. `sink` writes
 * synchronously; not pino's asynchronous mode, whose writes go through libuv's thread pool:
 * the hop to that thread and back cost a fifth of an authenticate's CPU (the benchmark pins
 * the server to one core, as a container's CPU limit would). `flush` writes what is pending
 * at once.
 */
export function linesOncePerTurn(
  sink: pino.DestinationStream & { flush(done: (error?: Error) => void): void },
) {
  let pending = "";
  let scheduled = false;
  const writePending = (): void => {
    scheduled = false;
    if (pending === "") return;
    const lines = pending;
    pending = "";
    sink.write(lines);
  };
  return {
    write(line: string): void {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(writePending);
      }
    },
    flush(done: (error?: Error) => void): void {
      writePending();
      sink.flush(done);
    },
  };
}

/**
 * Where log lines go: standard output, as JSON (for log collectors) or as readable lines (for
 * a person at a terminal). LOG_FORMAT decides; unset, it is pretty when standard output is a
 * terminal and JSON otherwise. Pretty lines are formatted in this thread and written
 * synchronously, line by line, so none comes out of order or is lost at shutdown.
 */
export async function logDestination(
  format: LogFormat | undefined,
  isTerminal: boolean = process.stdout.isTTY === true,
): Promise<pino.DestinationStream> {
  if ((format ?? (isTerminal ? "pretty" : "json")) === "json") return stdoutOncePerTurn();
  // Pretty lines are for a person at a terminal: written synchronously, so they can never
  // come out of order (the last lines at shutdown did, through the asynchronous buffer).
  const stdout = pino.destination({ dest: 1, sync: true });
  // Loaded only when wanted: JSON logging (production) never pays for it.
  const { prettyFactory } = await import("pino-pretty");
  const prettify = prettyFactory({
    colorize: isTerminal,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname",
  });
  return {
    write: (line: string) => stdout.write(prettify(line)),
    flush: (done: (error?: Error) => void) => stdout.flush(done),
  } as pino.DestinationStream;
}

/**
 * One log line per request, when it is answered (Fastify writes two: one on arrival, one on
 * completion). Half the logging cost on the hot path, and the line has everything: method,
 * URL (tokens masked), address, status, time. A successful request's line is written by
 * `RequestLogger.requestCompleted` (below), byte for byte what pino would write.
 */
export class OneLinePerRequest extends fastify.LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const log = reply.log;
    if (!error && log instanceof RequestLogger && log.requestCompleted(request, reply)) return;
    const entry = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) log.error({ ...entry, err: error }, "request errored");
    else log.info(entry, "request completed");
  }
}

const INFO = 30;
const REQUEST_COMPLETED = ',"msg":"request completed"';

/**
 * Each request's logger (Fastify's `childLoggerFactory`). A pino child binding the request id
 * is made only when something logs through it; the request line, which every request writes,
 * is built here instead from the root logger's own pieces (level, time, pid and host
 * bindings) and the same fields the serializers above pick, so it is the line pino would write
 * without a child logger, a serializer pass and a stringify per field on every request.
 */
export class RequestLogger implements FastifyBaseLogger {
  private bound: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: pino.Bindings,
    private readonly options: pino.ChildLoggerOptions,
    private readonly requestId: string,
  ) {}

  private get logger(): FastifyBaseLogger {
    this.bound ??= this.parent.child(this.bindings, this.options);
    return this.bound;
  }

  get level(): pino.LevelWithSilentOrString {
    return this.bound?.level ?? this.parent.level;
  }
  set level(level: pino.LevelWithSilentOrString) {
    this.logger.level = level;
  }
  // Methods, not arrow fields: no closures made per request.
  fatal(...args: unknown[]): void {
    logWith(this.logger, "fatal", args);
  }
  error(...args: unknown[]): void {
    logWith(this.logger, "error", args);
  }
  warn(...args: unknown[]): void {
    logWith(this.logger, "warn", args);
  }
  info(...args: unknown[]): void {
    logWith(this.logger, "info", args);
  }
  debug(...args: unknown[]): void {
    logWith(this.logger, "debug", args);
  }
  trace(...args: unknown[]): void {
    logWith(this.logger, "trace", args);
  }
  silent(...args: unknown[]): void {
    logWith(this.logger, "silent", args);
  }
  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }

  /**
   * Writes the request line when the root logger is plain pino at `info` (our loggerOptions:
   * no mixin, formatters or hooks) into a stream that wants no metadata; false otherwise, and
   * the caller logs it through pino.
   */
  requestCompleted(request: FastifyRequest, reply: FastifyReply): boolean {
    if (this.bound !== undefined) return false;
    const root = this.parent as unknown as PinoInternals;
    const stream = root[pino.symbols.streamSym];
    if (root[pino.symbols.levelValSym] > INFO || stream[pino.symbols.needsMetadataGsym] === true)
      return false;
    const userAgent = request.headers["user-agent"];
    const responseTime = reply.elapsedTime;
    stream.write(
      `${root[pino.symbols.lsCacheSym][INFO]}${root[pino.symbols.timeSym]()}${root[pino.symbols.chindingsSym]},"reqId":${JSON.stringify(this.requestId)},"req":{"method":${JSON.stringify(request.method)},"url":${JSON.stringify(redactUrl(request.url))},"remoteAddress":${JSON.stringify(request.ip)}${userAgent === undefined ? "" : `,"userAgent":${JSON.stringify(userAgent)}`}},"res":{"statusCode":${reply.statusCode}},"responseTime":${Number.isFinite(responseTime) ? responseTime : null}${REQUEST_COMPLETED}${root[pino.symbols.endSym]}`,
    );
    return true;
  }
}

function logWith(logger: FastifyBaseLogger, level: pino.LevelWithSilent, args: unknown[]): void {
  (logger[level] as (...args: unknown[]) => void).apply(logger, args);
}

/** The parts of a pino logger the request line is built from. */
interface PinoInternals {
  [pino.symbols.streamSym]: pino.DestinationStream & { [pino.symbols.needsMetadataGsym]?: boolean };
  [pino.symbols.levelValSym]: number;
  [pino.symbols.lsCacheSym]: Record<number, string>;
  [pino.symbols.timeSym]: () => string;
  [pino.symbols.chindingsSym]: string;
  [pino.symbols.endSym]: string;
}

/** Fastify's `childLoggerFactory`: see RequestLogger. */
export function requestLogger(
  this: unknown,
  logger: FastifyBaseLogger,
  bindings: pino.Bindings,
  options: pino.ChildLoggerOptions,
): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options, String(bindings.reqId));
}

/** Writes out the log lines still pending (see loggerOptions). */
export function flushLogs(log: FastifyBaseLogger): Promise<void> {
  return new Promise((resolve) => (log as pino.Logger).flush(() => resolve()));
}
