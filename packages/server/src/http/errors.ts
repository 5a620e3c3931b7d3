/**
 * The one error envelope. Every failure, whichever layer raised it, leaves the server as
 * `{statusCode, message, timestamp, data?, provider_errors?}` with `Content-Type:
 * application/json` (the body StackOne's SDKs parse into their typed errors), and 429 and 408
 * always carry `Retry-After` so default SDK clients back off briefly instead of for an hour.
 */
import type { ErrorObject } from "ajv";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isDatabaseUnavailable } from "../db/outage.js";
import { type Clock, systemClock } from "../time.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The app's clock (see useErrorClock): every envelope's `timestamp` comes from it. */
    errorClock?: Clock;
  }
}

/** Makes every envelope this app sends carry its clock's time (buildApp's injected clock). */
export function useErrorClock(app: FastifyInstance, clock: Clock): void {
  app.decorate("errorClock", clock);
}

export interface ErrorBody {
  statusCode: number;
  message: string;
  timestamp: string;
  /** The answer's `x-request-id`, to quote when asking for help. */
  request_id?: string;
  data?: Record<string, unknown> | null;
  provider_errors?: unknown[] | null;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly statusCode: number,
    message: string,
    readonly options: {
      data?: Record<string, unknown>;
      /** Failed calls to a provider, for the body's `provider_errors`. */
      providerErrors?: unknown[];
      retryAfterSeconds?: number;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
  }
}

export function errorBody(
  statusCode: number,
  message: string,
  extra: {
    data?: Record<string, unknown>;
    providerErrors?: unknown[];
    requestId?: string;
    /** The answer's time; the app's clock (`reply.server.errorClock`) wherever there is a reply. */
    now?: Date;
  } = {},
): ErrorBody {
  const body: ErrorBody = { statusCode, message, timestamp: (extra.now ?? systemClock()).toISOString() };
  if (extra.requestId !== undefined) body.request_id = extra.requestId;
  if (extra.data !== undefined) body.data = extra.data;
  if (extra.providerErrors !== undefined) body.provider_errors = extra.providerErrors;
  return body;
}

const DEFAULT_RETRY_AFTER_SECONDS = 1;
const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Sends the envelope; the single place that decides the error headers. */
export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  const { statusCode } = error;
  if (statusCode === 429 || statusCode === 408 || error.options.retryAfterSeconds !== undefined) {
    reply.header("retry-after", String(error.options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
  }
  for (const [name, value] of Object.entries(error.options.headers ?? {})) reply.header(name, value);
  return reply
    .code(statusCode)
    .type("application/json; charset=utf-8")
    .send(
      errorBody(statusCode, error.message, {
        ...error.options,
        requestId: reply.request.id,
        now: (reply.server.errorClock ?? systemClock)(),
      }),
    );
}

const CLOSING_RETRY_AFTER_SECONDS = 1;

/**
 * Once the app is closing, a request that still arrives (pipelined, or on a keep-alive
 * connection that was busy) gets a 503 in the envelope, with our headers and `Retry-After`,
 * and runs no handler: a load balancer sends the retry to another instance. (Fastify's own
 * `return503OnClosing` answer is outside the envelope, so it is turned off.) Register before
 * every other onRequest hook.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  // A callback hook, not an async one: every request runs it, and a promise apiece is not free.
  app.addHook("onRequest", (_request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    reply.header("connection", "close");
    // A hook that answers does not call done: Fastify stops the request here.
    sendError(
      reply,
      new ApiError(503, "Service unavailable: the server is shutting down; retry shortly", {
        retryAfterSeconds: CLOSING_RETRY_AFTER_SECONDS,
      }),
    );
  });
}

/** Turns whatever was thrown into an ApiError with a message that says what to fix. */
export function toApiError(error: FastifyError | ApiError | Error, bodyLimitBytes: number): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError & { validation?: ErrorObject[]; validationContext?: string };
  if (fastifyError.validation) {
    return new ApiError(
      400,
      describeValidationErrors(fastifyError.validation, fastifyError.validationContext),
    );
  }
  switch (fastifyError.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError(415, "Unsupported Content-Type: send the body as application/json");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError(413, `Request body is larger than the limit of ${bodyLimitBytes} bytes`);
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new ApiError(400, "Request body is empty: send a JSON object");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new ApiError(400, "Content-Length does not match the body that was sent");
    // The router's own refusals; the path is not repeated (it may hold anything).
    case "FST_ERR_BAD_URL":
      return new ApiError(400, "The URL path is not valid: it has a malformed percent-escape");
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new ApiError(414, "A path parameter is too long");
    case "FST_ERR_ASYNC_CONSTRAINT":
      return new ApiError(400, "Bad request");
  }
  if (isDatabaseUnavailable(error)) {
    return new ApiError(503, "Service unavailable: the database cannot be reached; retry shortly", {
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    });
  }
  if (fastifyError.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return new ApiError(
      400,
      "Request body is not valid JSON, or uses a forbidden key (__proto__ or constructor.prototype)",
    );
  }
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new ApiError(status, fastifyError.message || "Bad request");
  }
  return new ApiError(500, "Internal server error");
}

/** "origin_owner_id is required", "categories[0] must be one of: ats, hris, ...". */
export function describeValidationErrors(errors: readonly ErrorObject[], context = "body"): string {
  const first = errors.find((e) => e.keyword !== "anyOf" && e.keyword !== "oneOf") ?? errors[0];
  if (!first) return `Invalid request ${context}`;
  const subject = fieldPath(first.instancePath);
  const where = subject || (context === "body" ? "Request body" : `The ${context}`);
  const params = first.params as Record<string, unknown>;
  switch (first.keyword) {
    case "required":
      return `${joinPath(subject, String(params.missingProperty))} is required`;
    case "type":
      return `${where} must be ${describeType(params.type)}`;
    case "minLength":
      return params.limit === 1
        ? `${where} must not be empty`
        : `${where} must be at least ${params.limit} characters`;
    case "maxLength":
      return `${where} must be at most ${params.limit} characters`;
    case "enum":
      return `${where} must be one of: ${(params.allowedValues as unknown[]).filter((v) => v !== null).join(", ")}`;
    case "minimum":
      return `${where} must be at least ${params.limit}`;
    case "maximum":
      return `${where} must be at most ${params.limit}`;
    case "maxItems":
      return `${where} must have at most ${params.limit} items`;
    case "maxProperties":
      return `${where} must have at most ${params.limit} keys`;
    case "pattern":
    case "format":
      return `${where} is not in the expected format`;
    default:
      return `${where} ${first.message ?? "is invalid"}`;
  }
}

function fieldPath(instancePath: string): string {
  if (!instancePath) return "";
  return instancePath
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), "");
}

function joinPath(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean (true or false)",
  object: "a JSON object",
  array: "an array",
  null: "null",
};

function describeType(type: unknown): string {
  const types = (Array.isArray(type) ? type : String(type).split(",")).map(String);
  return types.map((t) => TYPE_WORDS[t] ?? t).join(" or ");
}

export function errorHandler(bodyLimitBytes: number) {
  return function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
    const apiError = toApiError(error, bodyLimitBytes);
    if (apiError.statusCode === 503) {
      request.log.warn({ err: error }, "request failed: the database is unavailable");
    } else if (apiError.statusCode >= 500) {
      request.log.error({ err: error }, "request failed");
    } else {
      request.log.info({ statusCode: apiError.statusCode, reason: apiError.message }, "request rejected");
    }
    return sendError(reply, apiError);
  };
}
