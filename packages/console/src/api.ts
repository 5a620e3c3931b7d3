/**
 * The console's only way to the server: its public JSON API, same origin, cookie session.
 * Changes carry the session's CSRF token (`x-csrf-token`); an all-projects session names the
 * chosen project in `x-connect-hub-project`. Errors arrive in the server's envelope
 * (`{statusCode, message, ...}`) and become an `ApiFailure` carrying that message.
 */

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

interface RequestScope {
  csrfToken: string | null;
  projectId: string | null;
}

const scope: RequestScope = { csrfToken: null, projectId: null };

/** Set once the session is known, and whenever the project picker changes. */
export function setRequestScope(changes: Partial<RequestScope>): void {
  Object.assign(scope, changes);
}

export type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function api<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && scope.csrfToken) headers["x-csrf-token"] = scope.csrfToken;
  if (scope.projectId) headers["x-connect-hub-project"] = scope.projectId;
  const response = await fetch(withQuery(path, query), {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    const message =
      parsed && typeof parsed === "object" && "message" in parsed && typeof parsed.message === "string"
        ? parsed.message
        : `${response.status} ${response.statusText}`;
    throw new ApiFailure(response.status, message);
  }
  return parsed as T;
}

export interface PageOf<T> {
  items: T[];
  hasMore: boolean;
}

/** One page of a list: every list answers a bare array, and a page shorter than `page_size` is the last. */
export async function listPage<T>(path: string, page: number, pageSize: number, query: Query = {}) {
  const items = await api<T[]>("GET", path, undefined, { ...query, page, page_size: pageSize });
  return { items, hasMore: items.length >= pageSize } satisfies PageOf<T>;
}

/** Every item of a short list (catalog, integrations), page by page. */
export async function listAll<T>(path: string, query: Query = {}): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= 50; page += 1) {
    const { items, hasMore } = await listPage<T>(path, page, 100, query);
    all.push(...items);
    if (!hasMore) break;
  }
  return all;
}
