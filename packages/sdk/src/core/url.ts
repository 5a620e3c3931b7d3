/**
 * The parts of a URL an operation adds below `serverURL`: its path, with every path parameter
 * percent-encoded (`"acc 1/x"` becomes `acc%201%2Fx`, as StackOne's SDKs send it), and its
 * query, form style with arrays as repeated keys (`status=active&status=error`).
 */

/**
 * A path with its parameters percent-encoded: `` encodePath`/accounts/${id}/meta` ``.
 *
 * A parameter that is empty, `.` or `..` is refused with a `TypeError`: URLs resolve `.` and
 * `..` segments (encoded or not) before sending, so no URL can carry them, and an empty one
 * would address another route (`/accounts/` instead of one account).
 */
export function encodePath(literals: TemplateStringsArray, ...params: string[]): string {
  return literals.reduce((path, literal, index) => `${path}${encodePathParam(params[index - 1])}${literal}`);
}

function encodePathParam(value: unknown): string {
  if (typeof value !== "string" || value === "" || value === "." || value === "..") {
    throw new TypeError(
      `A path parameter must be a non-empty string other than "." and ".." (got ${JSON.stringify(value)})`,
    );
  }
  try {
    return encodeURIComponent(value);
  } catch {
    throw new TypeError("A path parameter must be well-formed Unicode (it has a lone surrogate)");
  }
}

/**
 * `?key=value&...` for the parameters that are set, or `""` when none is. `undefined` and
 * `null` mean "not set"; an array sends its key once per item, so an empty array sends nothing.
 */
export function queryString(params: Readonly<Record<string, unknown>> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const item of values) if (item !== undefined && item !== null) search.append(key, String(item));
  }
  const query = search.toString();
  return query === "" ? "" : `?${query}`;
}
