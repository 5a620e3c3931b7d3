/**
 * Structured request logs (pino). Secrets never reach a log line: the Authorization and
 * cookie headers are redacted, and token query parameters are masked in URLs.
 */
import fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import pino from "pino";
import type { LogLevel } from "../config.js";

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
export function loggerOptions(level: LogLevel, stream?: NodeJS.WritableStream) {
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
