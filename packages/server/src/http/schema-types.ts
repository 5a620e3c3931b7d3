/** Schema helpers shared by every resource's route schemas. */
import { type Static, type TSchema, Type } from "@sinclair/typebox";

/**
 * `schema | null`, written as a JSON Schema type array rather than `anyOf`, so a wrong value
 * gets one clear validation message ("label must be a string or null").
 */
export function Nullable<T extends TSchema>(schema: T) {
  const { type, enum: allowed, ...rest } = schema as TSchema & { type?: string | string[]; enum?: unknown[] };
  const types = Array.isArray(type) ? type : type ? [type] : [];
  return Type.Unsafe<Static<T> | null>({
    ...rest,
    ...(types.length ? { type: [...types, "null"] } : {}),
    ...(allowed ? { enum: [...allowed, null] } : {}),
  });
}

/** A closed set of strings, as a plain JSON Schema `enum` (one clear message when violated). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });
}

/** An ISO-8601 timestamp with `Z`, as every response carries them. */
export const Timestamp = Type.String({ format: "date-time", examples: ["2026-01-01T12:00:00.000Z"] });

/** The error envelope, for the OpenAPI document. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    message: Type.String(),
    timestamp: Timestamp,
    request_id: Type.Optional(
      Type.String({ description: "The answer's x-request-id: quote it when asking for help." }),
    ),
    data: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
    provider_errors: Type.Optional(Nullable(Type.Array(Type.Object({}, { additionalProperties: true })))),
  },
  { $id: "ErrorResponse", description: "The error body of every failed request." },
);

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref(ErrorResponse)]));

/**
 * Pagination of Connect Hub's own lists: the style of StackOne's `GET /accounts`, a bare
 * array with 1-based `page` and `page_size`. A page shorter than `page_size` is the last.
 */
export const MAX_PAGE_SIZE = 100;

export function PageQuery(defaultPageSize = MAX_PAGE_SIZE) {
  return Type.Object({
    page: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: "1-based page number." }),
    ),
    page_size: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PAGE_SIZE,
        default: defaultPageSize,
        description: `Items per page, at most ${MAX_PAGE_SIZE} (default ${defaultPageSize}). A shorter page is the last.`,
      }),
    ),
  });
}

export interface Page {
  readonly offset: number;
  readonly limit: number;
}

export function pageOf(query: { page?: number; page_size?: number }, defaultPageSize = MAX_PAGE_SIZE): Page {
  const limit = query.page_size ?? defaultPageSize;
  return { offset: ((query.page ?? 1) - 1) * limit, limit };
}

/** The page of an in-memory list. */
export function slicePage<T>(items: readonly T[], page: Page): T[] {
  return items.slice(page.offset, page.offset + page.limit);
}
