/** Small helpers for talking JSON to a test server over real HTTP. */
import { basicAuth } from "./server.js";

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function postJson<T = Record<string, unknown>>(
  url: string,
  body: unknown,
  options: { apiKey?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.apiKey ? { authorization: basicAuth(options.apiKey) } : {}),
      ...options.headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/** Asserts the contract's error envelope and returns its message. */
export function expectErrorBody(response: JsonResponse, status: number): string {
  const body = response.body as { statusCode?: unknown; message?: unknown; timestamp?: unknown };
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
  if (!response.headers.get("content-type")?.startsWith("application/json")) {
    throw new Error(`error content-type was ${response.headers.get("content-type")}`);
  }
  if (body.statusCode !== status || typeof body.message !== "string" || typeof body.timestamp !== "string") {
    throw new Error(`not the error envelope: ${JSON.stringify(body)}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(body.timestamp)) {
    throw new Error(`timestamp is not ISO-8601 UTC: ${body.timestamp}`);
  }
  return body.message;
}

/**
 * Resolves with the first value `probe` answers (not undefined), asking again each time the
 * previous answer came back: for state only visible by asking (an attempt recorded, a row
 * changed). The test's own timeout bounds it.
 */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, intervalMs = 20): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
