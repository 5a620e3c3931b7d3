/**
 * A small real HTTP server (node:http on a free loopback port) that answers what a test
 * scripts, for the statuses and failures the real Connect Hub cannot be made to produce. It
 * records every request it receives, with the time it arrived.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface StubAnswer {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  /** Waits this long before answering. */
  delayMs?: number;
  /** Closes the connection without answering. */
  hangUp?: boolean;
}

export interface StubServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A delay no test outlives: an answer that never comes. A call that must give up (timeout,
 * abort, budget) proves it by settling at all; if it did not, the test would hang and fail.
 */
export const NEVER = 3_600_000;

/** Answers request number `index` (0-based) with what `script` returns for it. */
export async function startStubServer(
  script: (index: number, request: RecordedRequest) => StubAnswer,
): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        receivedAt: Date.now(),
      };
      requests.push(recorded);
      const answer = script(requests.length - 1, recorded);
      // Unreferenced: an answer held past the test (NEVER) does not keep the process alive.
      const timer = setTimeout(() => {
        if (answer.hangUp) {
          req.socket.destroy();
          return;
        }
        const jsonBody = typeof answer.body !== "string" && answer.body !== undefined;
        res.writeHead(answer.status, {
          ...(jsonBody ? { "content-type": "application/json; charset=utf-8" } : {}),
          ...answer.headers,
        });
        res.end(jsonBody ? JSON.stringify(answer.body) : answer.body);
      }, answer.delayMs ?? 0);
      timer.unref();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that nothing listens on (it was free a moment ago): connections are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The contract's error envelope. */
export function errorEnvelope(statusCode: number, message: string, extra: Record<string, unknown> = {}) {
  return { statusCode, message, timestamp: "2026-01-02T03:04:05.678Z", ...extra };
}

/** A valid `ConnectSessionTokenAuthLink` body, as Connect Hub sends it. */
export function sessionWithToken(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 42,
    organization_id: "7",
    project_id: "proj_1",
    categories: ["hris"],
    provider: null,
    provider_version: null,
    origin_owner_id: "cust-1",
    origin_owner_name: "Acme",
    origin_username: null,
    account_id: null,
    integration_id: null,
    label: null,
    multiple: false,
    metadata: null,
    external_trigger_token: null,
    type: "production",
    status: "pending",
    created_at: "2026-01-02T03:04:05.678Z",
    expires_at: "2026-01-02T03:34:05.678Z",
    token: "chs_stub",
    auth_link_url: "http://127.0.0.1/connect?token=chs_stub",
    ...overrides,
  };
}

/** `201` with a valid session: the success answer of `createConnectSession`. */
export const CREATED: StubAnswer = { status: 201, body: sessionWithToken() };

/** A valid `LinkedAccount` body, as Connect Hub sends it. */
export function linkedAccountBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "acc_stub",
    provider: "ashby",
    provider_name: "Ashby",
    status: "active",
    status_reasons: null,
    origin_owner_id: "cust-1",
    origin_owner_name: "Acme",
    origin_username: null,
    setup_information: null,
    label: null,
    type: "production",
    metadata: null,
    auth_type: "api_key",
    created_at: "2026-01-02T03:04:05.678Z",
    updated_at: "2026-01-02T03:04:05.678Z",
    ...overrides,
  };
}
