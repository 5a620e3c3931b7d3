/**
 * Everything the SDK throws. One base class, `ConnectHubError`, so a single `instanceof`
 * catches every failure of a call; below it, three kinds:
 *
 * - no answer at all: `ConnectionError`, `RequestTimeoutError`, `RequestAbortedError`;
 * - an answer that is not the operation's success (`HttpError` and its subclasses): one class
 *   per status of the seed's error table when the body is JSON, `SDKError` for any other
 *   status or a body that is not JSON;
 * - a success whose body breaks the contract: `ResponseValidationError`.
 *
 * Error bodies are read leniently: the status decides the class, and the envelope fields
 * (`message`, `timestamp`, `data`, `provider_errors`) are filled in when present, so an error
 * from a proxy in front of the server still reaches the caller as the right class.
 * Every class sets `name` itself, so names survive minification.
 */

export class ConnectHubError extends Error {
  override readonly name: string = "ConnectHubError";
}

/** The server could not be reached, or the connection broke before a full answer arrived. */
export class ConnectionError extends ConnectHubError {
  override readonly name = "ConnectionError";
}

/** No full answer arrived within `timeoutMs`. */
export class RequestTimeoutError extends ConnectHubError {
  override readonly name = "RequestTimeoutError";
}

/** The caller's `AbortSignal` fired; `cause` is the signal's reason. */
export class RequestAbortedError extends ConnectHubError {
  override readonly name = "RequestAbortedError";
}

/** What every error built from an HTTP answer carries. */
export interface HttpErrorDetails {
  response: Response;
  /** The body as text (already read; `rawResponse` is handed over unread). */
  body: string;
}

/** The server answered, but not with the operation's success. */
export class HttpError extends ConnectHubError {
  override readonly name: string = "HttpError";
  readonly statusCode: number;
  readonly contentType: string;
  readonly headers: Headers;
  readonly body: string;
  readonly rawResponse: Response;

  constructor(message: string, details: HttpErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.statusCode = details.response.status;
    this.contentType = details.response.headers.get("content-type") ?? "";
    this.headers = details.response.headers;
    this.body = details.body;
    this.rawResponse = details.response;
  }
}

/** Any status without a class of its own (405, 413, 415, 503, an unexpected 2xx...), or a body that is not JSON. */
export class SDKError extends HttpError {
  override readonly name = "SDKError";
}

/** A success status whose body is not JSON or lacks a required field; `issues` says what is wrong. */
export class ResponseValidationError extends HttpError {
  override readonly name = "ResponseValidationError";
  readonly issues: readonly string[];

  constructor(issues: readonly string[], details: HttpErrorDetails) {
    super(`The response body breaks the API contract: ${issues.join("; ")}`, details);
    this.issues = issues;
  }
}

/** The error envelope `{statusCode, message, timestamp, data?, provider_errors?}`, as parsed. */
export interface ErrorEnvelope {
  message: string;
  timestamp: Date | undefined;
  data: Record<string, unknown> | null | undefined;
  providerErrors: unknown[] | null | undefined;
}

/** An error status from the seed's table, answered with a JSON body. `message` is the server's. */
export class ApiErrorResponse extends HttpError {
  override readonly name: string = "ApiErrorResponse";
  /** When the server produced the error. */
  readonly timestamp: Date | undefined;
  /** Details the server attached (for example the validation failure). */
  readonly data: Record<string, unknown> | null | undefined;
  readonly providerErrors: unknown[] | null | undefined;

  constructor(envelope: ErrorEnvelope, details: HttpErrorDetails) {
    super(envelope.message, details);
    this.timestamp = envelope.timestamp;
    this.data = envelope.data;
    this.providerErrors = envelope.providerErrors;
  }
}

/** 400: the request body breaks the schema; `message` names the field. */
export class BadRequestResponse extends ApiErrorResponse {
  override readonly name = "BadRequestResponse";
}
/** 401: a missing, unknown or revoked API key, or an unknown or expired session token. */
export class UnauthorizedResponse extends ApiErrorResponse {
  override readonly name = "UnauthorizedResponse";
}
/** 403. */
export class ForbiddenResponse extends ApiErrorResponse {
  override readonly name = "ForbiddenResponse";
}
/** 404: an unknown route (check `serverURL`) or resource. */
export class NotFoundResponse extends ApiErrorResponse {
  override readonly name = "NotFoundResponse";
}
/** 408: the request did not reach the server in full in time; retried by default. */
export class RequestTimedOutResponse extends ApiErrorResponse {
  override readonly name = "RequestTimedOutResponse";
}
/** 409. */
export class ConflictResponse extends ApiErrorResponse {
  override readonly name = "ConflictResponse";
}
/** 422: for example an `Idempotency-Key` reused with a different body. */
export class UnprocessableEntityResponse extends ApiErrorResponse {
  override readonly name = "UnprocessableEntityResponse";
}
/** 429: over the rate limit; retried by default after `Retry-After`. */
export class TooManyRequestsResponse extends ApiErrorResponse {
  override readonly name = "TooManyRequestsResponse";
}
/** 500. */
export class InternalServerErrorResponse extends ApiErrorResponse {
  override readonly name = "InternalServerErrorResponse";
}
/** 501. */
export class NotImplementedResponse extends ApiErrorResponse {
  override readonly name = "NotImplementedResponse";
}
/** 502; retried by default. */
export class BadGatewayResponse extends ApiErrorResponse {
  override readonly name = "BadGatewayResponse";
}

type ApiErrorResponseClass = new (envelope: ErrorEnvelope, details: HttpErrorDetails) => ApiErrorResponse;

/** The seed's error table: the statuses that have a class of their own. */
export const ERROR_CLASS_BY_STATUS: Readonly<Record<number, ApiErrorResponseClass>> = {
  400: BadRequestResponse,
  401: UnauthorizedResponse,
  403: ForbiddenResponse,
  404: NotFoundResponse,
  408: RequestTimedOutResponse,
  409: ConflictResponse,
  422: UnprocessableEntityResponse,
  429: TooManyRequestsResponse,
  500: InternalServerErrorResponse,
  501: NotImplementedResponse,
  502: BadGatewayResponse,
};
