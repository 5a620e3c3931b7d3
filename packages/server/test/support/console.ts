/**
 * Console sessions for tests: a real sign-in link (made the way the CLI makes it) consumed
 * over HTTP, giving the cookie and the CSRF token a browser would hold.
 */
import { ConsoleService } from "../../src/console/service.js";
import type { ConsoleRole } from "../../src/db/schema.js";
import { findOrganizationByName, findProjectByName } from "../../src/tenancy/store.js";
import type { Clock } from "../../src/time.js";
import { basicAuth, type TestServer } from "./server.js";

export interface ConsoleBrowser {
  /** `name=value` for the Cookie header. */
  cookie: string;
  csrf: string;
  sessionId: string;
  /** A request as the console page makes it (same origin, CSRF token on changes). */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; csrf?: string | null },
    // biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely, as JSON
  ): Promise<{ status: number; headers: Headers; body: any }>;
}

export async function projectId(server: TestServer, project = "default", organization = "default") {
  const org = await findOrganizationByName(server.db.kysely, organization);
  const found = org && (await findProjectByName(server.db.kysely, Number(org.id), project));
  if (!found) throw new Error(`no project ${project}`);
  return found.id;
}

export async function signInLink(
  server: TestServer,
  options: { projectId?: string | null; role?: ConsoleRole; clock?: Clock } = {},
) {
  return new ConsoleService(server.db.kysely, server.config.publicUrl, options.clock).createSignInLink({
    projectId: options.projectId ?? null,
    role: options.role ?? "admin",
    createdBy: "test",
  });
}

/** Follows a link like a browser's first visit; returns the session cookie pair. */
export async function consumeLink(server: TestServer, url: string): Promise<Response> {
  return fetch(url.replace(server.config.publicUrl, server.url), { redirect: "manual" });
}

export function cookiePair(response: Response): string {
  const setCookie = response.headers.getSetCookie().find((line) => line.includes("connect_hub_console="));
  if (!setCookie) throw new Error(`no console cookie: ${response.status}`);
  return setCookie.split(";")[0] as string;
}

export async function consoleBrowser(
  server: TestServer,
  options: { projectId?: string | null; role?: ConsoleRole } = {},
): Promise<ConsoleBrowser> {
  const link = await signInLink(server, options);
  const response = await consumeLink(server, link.url);
  if (response.status !== 303) throw new Error(`sign-in refused: ${response.status}`);
  const cookie = cookiePair(response);
  const call: ConsoleBrowser["call"] = async (method, path, callOptions = {}) => {
    const csrf = callOptions.csrf === undefined ? browser.csrf : callOptions.csrf;
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        cookie,
        "sec-fetch-site": "same-origin",
        ...(csrf !== null && method !== "GET" ? { "x-csrf-token": csrf } : {}),
        ...(callOptions.body === undefined ? {} : { "content-type": "application/json" }),
        ...callOptions.headers,
      },
      body: callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const browser: ConsoleBrowser = { cookie, csrf: "", sessionId: "", call };
  const session = await call("GET", "/console/session");
  if (session.status !== 200) throw new Error(`no session: ${JSON.stringify(session.body)}`);
  browser.csrf = session.body.csrf_token;
  browser.sessionId = session.body.id;
  return browser;
}

/** An admin API call with an API key and optional extra headers. */
export async function keyCall(
  server: TestServer,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: basicAuth(apiKey),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
