/**
 * Structured request logs (pino). Secrets never reach a log line: the Authorization and
 * cookie headers are redacted, and token query parameters are masked in URLs.
 */
import type { FastifyRequest } from "fastify";
import type { LogLevel } from "../config.js";

const SECRET_QUERY_PARAMS = /([?&](?:token|code|state|api_key|access_token|refresh_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, "$1[REDACTED]");
}

export function loggerOptions(level: LogLevel, stream?: NodeJS.WritableStream) {
  return {
    level,
    ...(stream ? { stream } : {}),
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
