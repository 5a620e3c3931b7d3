/**
 * Reading JSON off the wire by hand, without a schema library: each read checks one field's
 * presence and type and records an issue instead of throwing, so a broken body is reported
 * with every problem at once. The checks are deliberately light (the contract's required
 * fields and JSON types); unknown fields are ignored, and `null` is accepted on every optional
 * field, as the contract allows.
 */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `application/json`, with or without parameters, and `application/*+json`. */
export function isJsonContentType(contentType: string | null): boolean {
  return contentType !== null && /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(contentType);
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false };

export function parseJson(text: string): JsonParseResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Date-times with `Z` or an offset (`+01:00` or `+0100`), as StackOne's SDKs require them. */
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function parseTimestamp(value: unknown): Date | undefined {
  if (typeof value !== "string" || !TIMESTAMP_PATTERN.test(value)) return undefined;
  const withColonOffset = value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const date = new Date(withColonOffset);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A copy without the keys whose value is `undefined`: what is not set is not sent or shown. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

type Check<T> = { accepts: (value: unknown) => value is T; expected: string };

const isString = (value: unknown): value is string => typeof value === "string";

const STRING: Check<string> = { accepts: isString, expected: "a string" };
const INTEGER: Check<number> = {
  accepts: (value): value is number => Number.isSafeInteger(value),
  expected: "an integer",
};
const BOOLEAN: Check<boolean> = {
  accepts: (value): value is boolean => typeof value === "boolean",
  expected: "a boolean",
};
const OBJECT: Check<JsonObject> = { accepts: isJsonObject, expected: "a JSON object" };
const STRING_ARRAY: Check<string[]> = {
  accepts: (value): value is string[] => Array.isArray(value) && value.every(isString),
  expected: "an array of strings",
};
const STRING_OR_NUMBER: Check<string | number> = {
  accepts: (value): value is string | number => isString(value) || Number.isFinite(value),
  expected: "a string or a number",
};

/**
 * Reads the fields of one JSON object. Required reads return a placeholder when the field is
 * wrong; callers must check `issues` before using what they read.
 */
export class WireReader {
  readonly issues: string[] = [];
  private readonly object: JsonObject;

  constructor(value: unknown) {
    if (isJsonObject(value)) {
      this.object = value;
    } else {
      this.object = {};
      this.issues.push("the body must be a JSON object");
    }
  }

  string(key: string): string {
    return this.required(key, STRING, "");
  }

  integer(key: string): number {
    return this.required(key, INTEGER, 0);
  }

  /** A JSON string or number, as a string (organization ids are sent either way). */
  stringOrNumber(key: string): string {
    return String(this.required(key, STRING_OR_NUMBER, ""));
  }

  date(key: string): Date {
    const value = this.object[key];
    const date = parseTimestamp(value);
    if (date) return date;
    this.issues.push(
      value === undefined ? `${key} is required` : `${key} must be an ISO-8601 date-time with Z or an offset`,
    );
    return new Date(Number.NaN);
  }

  optionalString(key: string): string | null | undefined {
    return this.optional(key, STRING);
  }

  optionalBoolean(key: string): boolean | null | undefined {
    return this.optional(key, BOOLEAN);
  }

  optionalObject(key: string): JsonObject | null | undefined {
    return this.optional(key, OBJECT);
  }

  optionalStringArray(key: string): string[] | null | undefined {
    return this.optional(key, STRING_ARRAY);
  }

  private required<T>(key: string, check: Check<T>, placeholder: T): T {
    const value = this.object[key];
    if (check.accepts(value)) return value;
    this.issues.push(value === undefined ? `${key} is required` : `${key} must be ${check.expected}`);
    return placeholder;
  }

  private optional<T>(key: string, check: Check<T>): T | null | undefined {
    const value = this.object[key];
    if (value === undefined || value === null || check.accepts(value)) return value;
    this.issues.push(`${key} must be ${check.expected} or null`);
    return undefined;
  }
}
