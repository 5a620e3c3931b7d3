/**
 * Structured request logs (pino). Secrets never reach a log line: the Authorization and
 * cookie headers are redacted, and token query parameters are masked in URLs.
 */
import fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import pino from "pino";
import type { LogFormat, LogLevel } from "../config.js";

const SECRET_QUERY_PARAMS = /([?&](?:token|code|state|api_key|access_token|refresh_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.includes("?") ? url.replace(SECRET_QUERY_PARAMS, "$1[REDACTED]") : url;
}

/**
 * Standard output is written asynchronously: lines logged while a write is in flight go out
 * together in the next one, so a busy server makes one write per batch of lines rather than a
 * system call per line, and a quiet one still writes each line at once. `flushLogs` (called at
 * shutdown) writes whatever is pending; a crash can lose the last lines.
 */
export function loggerOptions(level: LogLevel, stream?: NodeJS.WritableStream | pino.DestinationStream) {
  const destination: pino.DestinationStream = stream ?? pino.destination({ dest: 1, sync: false });
  return {
    level,
    stream: destination,
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'req.headers["idempotency-key"]',
        "res.headers['set-cookie']",
        "*.token",
        "*.password",
        "*.api_key",
        "*.client_secret",
      ],
      censor: "[REDACTED]",
    },
    serializers: {
      req(request: FastifyRequest) {
        return {
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
          userAgent: request.headers["user-agent"],
        };
      },
    },
  };
}

/**
 * Where log lines go: standard output, as JSON (for log collectors) or as readable lines (for
 * a person at a terminal). LOG_FORMAT decides; unset, it is pretty when standard output is a
 * terminal and JSON otherwise. Pretty lines are formatted in this thread, line by line, and
 * written like JSON ones (batched, flushed by `flushLogs`), so none is lost at shutdown.
 */
export async function logDestination(
  format: LogFormat | undefined,
  isTerminal: boolean = process.stdout.isTTY === true,
): Promise<pino.DestinationStream> {
  const stdout = pino.destination({ dest: 1, sync: false });
  if ((format ?? (isTerminal ? "pretty" : "json")) === "json") return stdout;
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
 * URL (tokens masked), address, status, time.
 */
export class OneLinePerRequest extends fastify.LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const entry = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...entry, err: error }, "request errored");
    else reply.log.info(entry, "request completed");
  }
}

/** Writes out the log lines still pending (see loggerOptions). */
export function flushLogs(log: FastifyBaseLogger): Promise<void> {
  return new Promise((resolve) => (log as pino.Logger).flush(() => resolve()));
}
