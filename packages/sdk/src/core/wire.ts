/**
 * JSON on the wire, by hand and without a schema library.
 *
 * Writing: `toWire` renames a request model's camelCase fields to their snake_case wire names
 * and sends only what the caller set.
 *
 * Reading: each read checks one field's presence and type and records an issue instead of
 * throwing, so a broken body is reported with every problem at once. The checks are
 * deliberately light (the contract's required fields and JSON types); unknown fields are
 * ignored, and `null` is accepted on every optional field, as the contract allows.
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

/** The wire name of each field of a request model. */
export type WireNames<T> = { readonly [K in keyof Required<T>]: string };

/**
 * A request model on the wire: the fields the caller set, renamed to their wire names, values
 * as given (`null` stays `null`); fields without a wire name are not sent.
 */
export function toWire<T extends object>(value: T, names: WireNames<T>): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const [field, wireName] of Object.entries(names) as [keyof T & string, string][]) {
    const entry = value[field];
    if (entry !== undefined) wire[wireName] = entry;
  }
  return wire;
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
const ARRAY: Check<unknown[]> = {
  accepts: (value): value is unknown[] => Array.isArray(value),
  expected: "an array",
};
const STRING_OR_NUMBER: Check<string | number> = {
  accepts: (value): value is string | number => isString(value) || Number.isFinite(value),
  expected: "a string or a number",
};

/**
 * Reads one JSON value of a body: the fields of an object, or the items of an array. Required
 * reads return a placeholder when the field is wrong; callers must check `issues` before using
 * what they read. Readers of nested values share their parent's `issues` and name the path
 * (`[2].created_at is required`, `status_reasons[0].timestamp is required`).
 */
export class WireReader {
  readonly issues: string[];
  private readonly value: unknown;
  private readonly path: string;
  private checkedObject: JsonObject | undefined;

  constructor(value: unknown, path = "", issues: string[] = []) {
    this.value = value;
    this.path = path;
    this.issues = issues;
  }

  /** The value itself as an array, each item read by `read`. */
  list<T>(read: (reader: WireReader) => T): T[] {
    if (!Array.isArray(this.value)) {
      this.issues.push(`${this.describe()} must be a JSON array`);
      return [];
    }
    return this.value.map((item, index) => read(new WireReader(item, `${this.path}[${index}]`, this.issues)));
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

  object(key: string): JsonObject {
    return this.required(key, OBJECT, {});
  }

  date(key: string): Date {
    const value = this.fields()[key];
    const date = parseTimestamp(value);
    if (date) return date;
    this.issues.push(value === undefined ? `${this.name(key)} is required` : this.notADate(key));
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

  optionalDate(key: string): Date | null | undefined {
    const value = this.fields()[key];
    if (value === undefined || value === null) return value;
    const date = parseTimestamp(value);
    if (!date) this.issues.push(`${this.notADate(key)} or null`);
    return date;
  }

  /** A nested object read by `read`, or `null`/absent. */
  optionalNested<T>(key: string, read: (reader: WireReader) => T): T | null | undefined {
    const value = this.optional(key, OBJECT);
    return value ? read(this.child(key, value)) : value;
  }

  /** An array of nested values, each read by `read`, or `null`/absent. */
  optionalList<T>(key: string, read: (reader: WireReader) => T): T[] | null | undefined {
    const value = this.optional(key, ARRAY);
    return value ? this.child(key, value).list(read) : value;
  }

  private child(key: string, value: unknown): WireReader {
    return new WireReader(value, this.name(key), this.issues);
  }

  /** The value as an object; anything else is reported once and read as `{}`. */
  private fields(): JsonObject {
    if (this.checkedObject === undefined) {
      if (isJsonObject(this.value)) {
        this.checkedObject = this.value;
      } else {
        this.checkedObject = {};
        this.issues.push(`${this.describe()} must be a JSON object`);
      }
    }
    return this.checkedObject;
  }

  private describe(): string {
    return this.path === "" ? "the body" : this.path;
  }

  private name(key: string): string {
    return this.path === "" ? key : `${this.path}.${key}`;
  }

  private notADate(key: string): string {
    return `${this.name(key)} must be an ISO-8601 date-time with Z or an offset`;
  }

  private required<T>(key: string, check: Check<T>, placeholder: T): T {
    const value = this.fields()[key];
    if (check.accepts(value)) return value;
    this.issues.push(
      value === undefined ? `${this.name(key)} is required` : `${this.name(key)} must be ${check.expected}`,
    );
    return placeholder;
  }

  private optional<T>(key: string, check: Check<T>): T | null | undefined {
    const value = this.fields()[key];
    if (value === undefined || value === null || check.accepts(value)) return value;
    this.issues.push(`${this.name(key)} must be ${check.expected} or null`);
    return undefined;
  }
}
