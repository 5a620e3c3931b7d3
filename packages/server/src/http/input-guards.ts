/**
 * Rules every input obeys before any route sees it, so no database and no serialiser is ever
 * handed something it cannot take:
 *
 * - No NUL character (U+0000) in any string: PostgreSQL refuses it in text (the whole
 *   group-commit batch would roll back), SQLite would store it; both databases answer 400.
 * - JSON bodies at most MAX_JSON_DEPTH levels deep: deeper values cost a stack overflow when
 *   serialised, and make every later read of them slow.
 * - Free-form objects (metadata) at most FREE_FORM_MAX_BYTES of JSON, merged result included.
 *
 * The checks are cheap on the common path: a body is walked only when its text holds a `\u0000`
 * escape or more brackets than the depth limit; a URL only when it holds `%00`.
 */
import type { FastifyBodyParser, FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

export const MAX_JSON_DEPTH = 32;
export const FREE_FORM_MAX_BYTES = 16_384;

const NUL = "\u0000";

/** Wraps Fastify's JSON parser (prototype-poisoning checks included) with the depth and NUL rules. */
export function guardedJsonParser(parse: FastifyBodyParser<string>): FastifyBodyParser<string> {
  return (request, body, done) => {
    parse(request, body, (error, value) => {
      if (error) return done(error, undefined);
      const problem = needsWalk(body) ? findProblem(value, "", 1) : undefined;
      if (problem) return done(problem, undefined);
      done(null, value);
    });
  };
}

function needsWalk(text: string): boolean {
  if (text.includes("\\u0000")) return true;
  let brackets = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    // `{` and `[` (inside strings too: an over-count only costs a walk).
    if ((code === 123 || code === 91) && ++brackets > MAX_JSON_DEPTH) return true;
  }
  return false;
}

/** The first NUL or over-deep value in a parsed body, as the 400 to answer. */
function findProblem(value: unknown, path: string, depth: number): ApiError | undefined {
  if (typeof value === "string") {
    return value.includes(NUL) ? nulError(path) : undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (depth > MAX_JSON_DEPTH) {
    return new ApiError(
      400,
      `${topField(path) || "Request body"} is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays`,
    );
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = findProblem(value[index], `${path}[${index}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key.includes(NUL)) {
      return new ApiError(400, `${path || "Request body"} has a key with the NUL character (\\u0000)`);
    }
    const problem = findProblem(
      (value as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
      depth + 1,
    );
    if (problem) return problem;
  }
  return undefined;
}

function topField(path: string): string {
  return /^[^.[]*/.exec(path)?.[0] ?? "";
}

function nulError(field: string): ApiError {
  return new ApiError(400, `${field || "Request body"} must not contain the NUL character (\\u0000)`);
}

/**
 * An onRequest hook: path ids and query parameters with a NUL (sent as `%00`) answer 400
 * naming the parameter. (Node refuses a NUL in a header before any request is made.)
 */
export function rejectNulInUrl(
  request: FastifyRequest,
  _reply: unknown,
  done: (error?: Error) => void,
): void {
  done(request.url.includes("%00") ? nulInUrl(request) : undefined);
}

function nulInUrl(request: FastifyRequest): ApiError | undefined {
  for (const [where, values] of [
    ["path parameter", request.params],
    ["query parameter", request.query],
  ] as const) {
    for (const [name, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
      const texts = Array.isArray(value) ? value : [value];
      if (texts.some((text) => typeof text === "string" && text.includes(NUL))) {
        return nulError(`${where} ${name}`);
      }
    }
  }
  return undefined;
}

/** Refuses a free-form object whose JSON is larger than FREE_FORM_MAX_BYTES; returns the JSON. */
export function freeFormJson(field: string, value: Record<string, unknown>): string {
  return boundedFreeForm(field, JSON.stringify(value));
}

/** The same bound on JSON already serialised (e.g. the result of merging a PATCH). */
export function boundedFreeForm(field: string, json: string, when = ""): string {
  if (json.length > FREE_FORM_MAX_BYTES / 3 && Buffer.byteLength(json) > FREE_FORM_MAX_BYTES) {
    throw new ApiError(400, `${field} must be at most ${FREE_FORM_MAX_BYTES} bytes of JSON${when}`);
  }
  return json;
}
