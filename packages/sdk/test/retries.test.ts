/**
 * Retries, timeouts, aborts and connection failures over real HTTP: a scripted node:http
 * server for the answers, a closed port for the failures.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  ConnectHub,
  type ConnectHubOptions,
  ConnectionError,
  InternalServerErrorResponse,
  NotImplementedResponse,
  RequestAbortedError,
  RequestTimeoutError,
  SDKError,
  TooManyRequestsResponse,
} from "../src/index.js";
import {
  CREATED,
  closedPort,
  errorEnvelope,
  NEVER,
  type StubAnswer,
  type StubServer,
  startStubServer,
} from "./support/stub-server.js";

let stub: StubServer | undefined;
afterEach(() => stub?.close());

const FAST_BACKOFF = { initialInterval: 20, maxInterval: 100, exponent: 2, maxElapsedTime: 5000 };
const REQUEST = { originOwnerId: "cust-1", originOwnerName: "Acme" };

async function hubAnswering(
  script: (index: number) => StubAnswer,
  options: Partial<ConnectHubOptions> = {},
): Promise<ConnectHub> {
  stub = await startStubServer(script);
  return new ConnectHub({ serverURL: stub.url, ...options });
}

function answers(...sequence: StubAnswer[]): (index: number) => StubAnswer {
  return (index) => sequence[Math.min(index, sequence.length - 1)] as StubAnswer;
}

const failWith = (status: number, headers: Record<string, string> = {}): StubAnswer => ({
  status,
  headers,
  body: errorEnvelope(status, `status ${status}`),
});

function requestsMade(): StubServer["requests"] {
  if (!stub) throw new Error("no stub server");
  return stub.requests;
}

describe("retries", () => {
  it("honours Retry-After on 429 and sends the same Idempotency-Key on the retry", async () => {
    const hub = await hubAnswering(answers(failWith(429, { "retry-after": "1" }), CREATED));
    const startedAt = Date.now();
    const created = await hub.connectSessions.createConnectSession(REQUEST);

    expect(created.statusCode).toBe(201);
    const [first, second] = requestsMade();
    expect(requestsMade()).toHaveLength(2);
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(990);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(990);
    expect(first?.headers["idempotency-key"]).toEqual(expect.any(String));
    expect(second?.headers["idempotency-key"]).toBe(first?.headers["idempotency-key"]);
    expect(second?.body).toBe(first?.body);
  });

  it("honours Retry-After given as an HTTP date", async () => {
    const retryAt = () => new Date(Date.now() + 2000).toUTCString();
    let retryAfter = "";
    const hub = await hubAnswering((index) => {
      if (index > 0) return CREATED;
      retryAfter = retryAt();
      return failWith(503, { "retry-after": retryAfter });
    });
    await hub.connectSessions.createConnectSession(REQUEST);
    const [first, second] = requestsMade();
    const waited = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(waited).toBeGreaterThanOrEqual(Date.parse(retryAfter) - (first?.receivedAt ?? 0) - 50);
    expect(waited).toBeGreaterThanOrEqual(900);
  });

  it("retries 408, 502, 503 and 504 and then succeeds", async () => {
    const hub = await hubAnswering(
      answers(failWith(408), failWith(502), failWith(503), failWith(504), CREATED),
      {
        retryConfig: { strategy: "backoff", backoff: FAST_BACKOFF },
      },
    );
    const created = await hub.connectSessions.createConnectSession(REQUEST);
    expect(created.statusCode).toBe(201);
    expect(requestsMade()).toHaveLength(5);
    expect(new Set(requestsMade().map((request) => request.headers["idempotency-key"])).size).toBe(1);
  });

  it.each([
    [500, InternalServerErrorResponse],
    [501, NotImplementedResponse],
  ])("does not retry %i", async (status, ErrorClass) => {
    const hub = await hubAnswering(answers(failWith(status), CREATED), {
      retryConfig: { strategy: "backoff", backoff: FAST_BACKOFF },
    });
    await expect(hub.connectSessions.createConnectSession(REQUEST)).rejects.toBeInstanceOf(ErrorClass);
    expect(requestsMade()).toHaveLength(1);
  });

  it("gives up within maxElapsedTime and throws the last answer's error", async () => {
    const hub = await hubAnswering(answers(failWith(503)), {
      retryConfig: {
        strategy: "backoff",
        backoff: { initialInterval: 100, exponent: 2, maxElapsedTime: 1000 },
      },
    });
    const failure = await hub.connectSessions.createConnectSession(REQUEST).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SDKError);
    expect((failure as SDKError).statusCode).toBe(503);
    expect(requestsMade().length).toBeGreaterThanOrEqual(3);
    // The budget ends the loop: 100 + 200 + 400 ms of backoff fit in 1000 ms, little more does.
    expect(requestsMade().length).toBeLessThanOrEqual(6);
  });

  it("stops at once when Retry-After lies beyond the budget", async () => {
    const hub = await hubAnswering(answers(failWith(429, { "retry-after": "3600" }), CREATED));
    await expect(hub.connectSessions.createConnectSession(REQUEST)).rejects.toBeInstanceOf(
      TooManyRequestsResponse,
    );
    expect(requestsMade()).toHaveLength(1);
  });

  it("does not retry with strategy none, set per call over the client's config", async () => {
    const hub = await hubAnswering(answers(failWith(429, { "retry-after": "0" }), CREATED), {
      retryConfig: { strategy: "backoff", backoff: FAST_BACKOFF },
    });
    await expect(
      hub.connectSessions.createConnectSession(REQUEST, { retries: { strategy: "none" } }),
    ).rejects.toBeInstanceOf(TooManyRequestsResponse);
    expect(requestsMade()).toHaveLength(1);
  });

  it("retries only the statuses in retryCodes", async () => {
    const hub = await hubAnswering(answers(failWith(500), CREATED), {
      retryConfig: { strategy: "backoff", backoff: FAST_BACKOFF, retryCodes: [500] },
    });
    await hub.connectSessions.createConnectSession(REQUEST);
    expect(requestsMade()).toHaveLength(2);
  });
});

describe("connection failures", () => {
  it("throws ConnectionError for a closed port", async () => {
    const hub = new ConnectHub({
      serverURL: `http://127.0.0.1:${await closedPort()}`,
      retryConfig: { strategy: "none" },
    });
    const failure = await hub.connectSessions.createConnectSession(REQUEST).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectionError);
    expect((failure as ConnectionError).name).toBe("ConnectionError");
    expect((failure as ConnectionError).message).toContain("ECONNREFUSED");
    expect((failure as ConnectionError).cause).toBeInstanceOf(Error);
  });

  it("retries connection failures within the budget, then throws ConnectionError", async () => {
    const attempts: number[] = [];
    const hub = new ConnectHub({
      serverURL: `http://127.0.0.1:${await closedPort()}`,
      retryConfig: { strategy: "backoff", backoff: { initialInterval: 50, maxElapsedTime: 600 } },
      hooks: { afterError: (_error, _request, context) => void attempts.push(context.attempt) },
    });
    await expect(hub.connectSessions.createConnectSession(REQUEST)).rejects.toBeInstanceOf(ConnectionError);
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts).toEqual(attempts.map((_, index) => index + 1));
    // 50 ms doubling within 600 ms: a handful of attempts, never an endless loop.
    expect(attempts.length).toBeLessThanOrEqual(10);
  });

  it("retries a connection dropped before the answer, with the same key", async () => {
    const hub = await hubAnswering(answers({ status: 0, hangUp: true }, CREATED), {
      retryConfig: { strategy: "backoff", backoff: FAST_BACKOFF },
    });
    const created = await hub.connectSessions.createConnectSession(REQUEST);
    expect(created.statusCode).toBe(201);
    const [first, second] = requestsMade();
    expect(second?.headers["idempotency-key"]).toBe(first?.headers["idempotency-key"]);
  });

  it("does not retry connection failures when retryConnectionErrors is false", async () => {
    const hub = await hubAnswering(answers({ status: 0, hangUp: true }, CREATED), {
      retryConfig: { strategy: "backoff", backoff: FAST_BACKOFF, retryConnectionErrors: false },
    });
    await expect(hub.connectSessions.createConnectSession(REQUEST)).rejects.toBeInstanceOf(ConnectionError);
    expect(requestsMade()).toHaveLength(1);
  });
});

describe("timeouts", () => {
  it("throws RequestTimeoutError when no answer arrives within timeoutMs", async () => {
    const hub = await hubAnswering(answers({ ...CREATED, delayMs: NEVER }), {
      timeoutMs: 200,
      retryConfig: { strategy: "none" },
    });
    const failure = await hub.connectSessions.createConnectSession(REQUEST).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestTimeoutError);
    expect((failure as RequestTimeoutError).name).toBe("RequestTimeoutError");
  });

  it("a call's timeoutMs overrides the client's, and a timed-out attempt is retried", async () => {
    const hub = await hubAnswering(answers({ ...CREATED, delayMs: NEVER }, CREATED), {
      timeoutMs: 10_000,
      retryConfig: { strategy: "backoff", backoff: FAST_BACKOFF },
    });
    const created = await hub.connectSessions.createConnectSession(REQUEST, { timeoutMs: 200 });
    expect(created.statusCode).toBe(201);
    expect(requestsMade()).toHaveLength(2);
  });
});

describe("aborts", () => {
  it("throws RequestAbortedError when the signal fires during the request", async () => {
    const hub = await hubAnswering(answers({ ...CREATED, delayMs: NEVER }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user navigated away")), 100);
    const failure = await hub.connectSessions
      .createConnectSession(REQUEST, { signal: controller.signal })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestAbortedError);
    expect((failure as RequestAbortedError).name).toBe("RequestAbortedError");
    expect(((failure as RequestAbortedError).cause as Error).message).toBe("user navigated away");
    expect(requestsMade()).toHaveLength(1);
  });

  it("throws RequestAbortedError when the signal fires while waiting to retry", async () => {
    const hub = await hubAnswering(answers(failWith(429, { "retry-after": "5" }), CREATED));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await expect(
      hub.connectSessions.createConnectSession(REQUEST, { signal: controller.signal }),
    ).rejects.toBeInstanceOf(RequestAbortedError);
    expect(requestsMade()).toHaveLength(1);
  });

  it("sends nothing when the signal has already fired", async () => {
    const hub = await hubAnswering(answers(CREATED));
    await expect(
      hub.connectSessions.createConnectSession(REQUEST, { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(RequestAbortedError);
    expect(requestsMade()).toHaveLength(0);
  });
});
