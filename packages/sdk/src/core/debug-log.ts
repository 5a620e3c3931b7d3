/**
 * What `debugLogger` is shown. Credentials never reach it: the `Authorization`, cookie and
 * idempotency headers are masked, and in JSON bodies the values of session tokens, auth links
 * (which embed the token) and anything named like a secret are masked too.
 */
import type { DebugLogger, HookContext } from "./options.js";
import { isJsonObject, parseJson } from "./wire.js";

const REDACTED = "[redacted]";
const SECRET_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "idempotency-key",
]);
const SECRET_BODY_KEY = /token|auth_link_url|secret|password|credential|api_?key/i;

export function redactHeaders(headers: Headers): Record<string, string> {
  const shown: Record<string, string> = {};
  headers.forEach((value, name) => {
    shown[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : value;
  });
  return shown;
}

/** The body with secrets masked; non-JSON bodies are shown only by their length. */
export function redactBody(body: string): unknown {
  if (body === "") return undefined;
  const parsed = parseJson(body);
  return parsed.ok ? redactValue(parsed.value) : `<${body.length} characters, not JSON>`;
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, entry]) => [
      key,
      SECRET_BODY_KEY.test(key) && entry !== null ? REDACTED : redactValue(entry),
    ]),
  );
}

/** A debug logger bound to one call; every method is a no-op without a logger. */
export class CallLog {
  constructor(
    private readonly logger: DebugLogger | undefined,
    private readonly method: string,
    private readonly url: string,
  ) {}

  request(request: Request, body: string | undefined, context: HookContext): void {
    this.logger?.log(`connect-hub: ${this.method} ${this.url} (attempt ${context.attempt})`, {
      headers: redactHeaders(request.headers),
      body: body === undefined ? undefined : redactBody(body),
    });
  }

  response(response: Response, body: string, elapsedMs: number): void {
    this.logger?.log(`connect-hub: ${response.status} from ${this.method} ${this.url} in ${elapsedMs} ms`, {
      headers: redactHeaders(response.headers),
      body: redactBody(body),
    });
  }

  failure(error: Error): void {
    this.logger?.log(`connect-hub: ${this.method} ${this.url} failed: ${error.name}: ${error.message}`);
  }

  retry(delayMs: number, reason: string): void {
    this.logger?.log(`connect-hub: retrying ${this.method} ${this.url} in ${delayMs} ms after ${reason}`);
  }
}
