/**
 * Turns an HTTP answer into the operation's model or the error that describes it. Success is
 * the operation's one status (201 for the connect-session operations, 200 for the accounts
 * ones) with a JSON body that passes the operation's reader; anything else throws (see
 * `models/errors.ts` for which class).
 */
import {
  ERROR_CLASS_BY_STATUS,
  type ErrorEnvelope,
  type HttpError,
  type HttpErrorDetails,
  ResponseValidationError,
  SDKError,
} from "../models/errors.js";
import { isJsonContentType, isJsonObject, parseJson, parseTimestamp, WireReader } from "./wire.js";

/** Reads an operation's model off a parsed body; problems go to `reader.issues`. */
export type BodyReader<T> = (reader: WireReader) => T;

export function readSuccessBody<T>(details: HttpErrorDetails, read: BodyReader<T>): T {
  const contentType = details.response.headers.get("content-type");
  if (!isJsonContentType(contentType)) {
    throw new SDKError(
      `Expected a JSON body with status ${details.response.status}, got content type "${contentType ?? ""}"`,
      details,
    );
  }
  const parsed = parseJson(details.body);
  if (!parsed.ok) throw new ResponseValidationError(["the body is not valid JSON"], details);
  const reader = new WireReader(parsed.value);
  const model = read(reader);
  if (reader.issues.length > 0) throw new ResponseValidationError(reader.issues, details);
  return model;
}

/** The error for any answer that is not the operation's success. */
export function errorForResponse(details: HttpErrorDetails): HttpError {
  const { status } = details.response;
  const envelope = readErrorEnvelope(details);
  const ErrorClass = ERROR_CLASS_BY_STATUS[status];
  if (ErrorClass && envelope) return new ErrorClass(envelope, details);
  const what = status >= 400 ? "API error" : "Unexpected status";
  const summary = envelope?.message ?? truncate(details.body, 200);
  return new SDKError(`${what}: HTTP ${status}${summary ? `: ${summary}` : ""}`, details);
}

/** The envelope's fields when the body is a JSON object; `undefined` for any other body. */
function readErrorEnvelope(details: HttpErrorDetails): ErrorEnvelope | undefined {
  if (!isJsonContentType(details.response.headers.get("content-type"))) return undefined;
  const parsed = parseJson(details.body);
  if (!parsed.ok || !isJsonObject(parsed.value)) return undefined;
  const body = parsed.value;
  const data = body.data;
  const providerErrors = body.provider_errors;
  return {
    message: typeof body.message === "string" ? body.message : `HTTP ${details.response.status}`,
    timestamp: parseTimestamp(body.timestamp),
    data: isJsonObject(data) || data === null ? data : undefined,
    providerErrors: Array.isArray(providerErrors) || providerErrors === null ? providerErrors : undefined,
  };
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}...` : text;
}
