/**
 * The client's options: base URL, credentials, headers, the injectable fetch, hooks and the
 * debug logger, over real HTTP to a scripted node:http server.
 */
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectHub, type ConnectHubOptions, type HookContext } from "../src/index.js";
import { CREATED, errorEnvelope, type StubServer, startStubServer } from "./support/stub-server.js";

let stub: StubServer | undefined;
afterEach(() => stub?.close());

const REQUEST = { originOwnerId: "cust-1", originOwnerName: "Acme" };
const API_KEY = "chk_secret_api_key_value";

async function hubAgainstStub(options: Partial<ConnectHubOptions> = {}): Promise<ConnectHub> {
  stub = await startStubServer(() => CREATED);
  return new ConnectHub({ serverURL: stub.url, security: { username: API_KEY, password: "" }, ...options });
}

function onlyRequest(): StubServer["requests"][number] {
  const request = stub?.requests[0];
  if (!request || stub?.requests.length !== 1) throw new Error("expected exactly one request");
  return request;
}

describe("serverURL", () => {
  it("keeps a path prefix and drops trailing slashes", async () => {
    stub = await startStubServer(() => CREATED);
    const hub = new ConnectHub({ serverURL: `${stub.url}/hub/v1//` });
    await hub.connectSessions.createConnectSession(REQUEST);
    expect(onlyRequest().url).toBe("/hub/v1/connect_sessions");
  });

  it.each(["localhost:4000", "ftp://example.test", "http://example.test/?a=1"])(
    "refuses %s at construction",
    (serverURL) => {
      expect(() => new ConnectHub({ serverURL })).toThrow(TypeError);
    },
  );
});

describe("headers", () => {
  it("sends the API key as the Basic username with an empty password, and JSON headers", async () => {
    const hub = await hubAgainstStub();
    await hub.connectSessions.createConnectSession(REQUEST);
    const { headers, method } = onlyRequest();
    expect(method).toBe("POST");
    expect(headers.authorization).toBe(`Basic ${Buffer.from(`${API_KEY}:`).toString("base64")}`);
    expect(headers["content-type"]).toBe("application/json");
    expect(headers.accept).toBe("application/json");
  });

  it("encodes credentials as UTF-8 and takes them from a function", async () => {
    const hub = await hubAgainstStub({ security: async () => ({ username: "clé", password: "pässword" }) });
    await hub.connectSessions.createConnectSession(REQUEST);
    expect(onlyRequest().headers.authorization).toBe(
      `Basic ${Buffer.from("clé:pässword").toString("base64")}`,
    );
  });

  it("sends no Authorization header without credentials", async () => {
    const hub = await hubAgainstStub({ security: undefined });
    await hub.connectSessions.createConnectSession(REQUEST);
    expect(onlyRequest().headers.authorization).toBeUndefined();
  });

  it("sends the caller's Idempotency-Key, and none on authenticate", async () => {
    const hub = await hubAgainstStub();
    await hub.connectSessions.createConnectSession(REQUEST, { idempotencyKey: "order-42" });
    await hub.connectSessions.authenticateConnectSession({ token: "chs_x" }).catch(() => undefined);
    expect(stub?.requests[0]?.headers["idempotency-key"]).toBe("order-42");
    expect(stub?.requests[1]?.headers["idempotency-key"]).toBeUndefined();
    expect(stub?.requests[1]?.url).toBe("/connect_sessions/authenticate");
  });
});

describe("fetch and hooks", () => {
  it("uses the injected fetch", async () => {
    const seen: string[] = [];
    const hub = await hubAgainstStub({
      fetch: (request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname}`);
        return fetch(request);
      },
    });
    await hub.connectSessions.createConnectSession(REQUEST);
    expect(seen).toEqual(["POST /connect_sessions"]);
  });

  it("runs every hook set in order, on every attempt, with the attempt's context", async () => {
    stub = await startStubServer((index) =>
      index === 0
        ? { status: 503, headers: { "retry-after": "0" }, body: errorEnvelope(503, "busy") }
        : CREATED,
    );
    const events: string[] = [];
    const contexts: HookContext[] = [];
    const hub = new ConnectHub({
      serverURL: stub.url,
      retryConfig: { strategy: "backoff", backoff: { initialInterval: 10 } },
      hooks: [
        {
          beforeRequest: (request, context) => {
            contexts.push(context);
            request.headers.set("traceparent", `00-trace-${context.attempt}`);
            events.push(`tracing before ${context.attempt}`);
          },
          afterResponse: (response, _request, context) => {
            events.push(`tracing after ${context.attempt}: ${response.status}`);
          },
        },
        {
          beforeRequest: (_request, context) => void events.push(`logging before ${context.attempt}`),
          afterResponse: async (response) => {
            const body = (await response.clone().json()) as { message?: string; id?: number };
            events.push(`logging body: ${body.message ?? body.id}`);
          },
        },
      ],
    });
    const created = await hub.connectSessions.createConnectSession(REQUEST, { idempotencyKey: "k-1" });

    expect(events).toEqual([
      "tracing before 1",
      "logging before 1",
      "tracing after 1: 503",
      "logging body: busy",
      "tracing before 2",
      "logging before 2",
      "tracing after 2: 201",
      "logging body: 42",
    ]);
    expect(contexts).toEqual([
      { operationId: "createConnectSession", attempt: 1, idempotencyKey: "k-1" },
      { operationId: "createConnectSession", attempt: 2, idempotencyKey: "k-1" },
    ]);
    expect(stub.requests.map((request) => request.headers.traceparent)).toEqual(["00-trace-1", "00-trace-2"]);
    expect(await created.rawResponse.json()).toMatchObject({ id: 42 });
  });

  it("ends the call with a hook's own error", async () => {
    const hub = await hubAgainstStub({
      hooks: {
        beforeRequest: () => {
          throw new Error("hook refused");
        },
      },
    });
    await expect(hub.connectSessions.createConnectSession(REQUEST)).rejects.toThrow("hook refused");
    expect(stub?.requests).toHaveLength(0);
  });
});

describe("debugLogger", () => {
  it("logs requests and responses without the API key, the idempotency key or session tokens", async () => {
    const lines: string[] = [];
    const hub = await hubAgainstStub({
      debugLogger: { log: (message, details) => lines.push(`${message} ${inspect(details, { depth: 5 })}`) },
    });
    await hub.connectSessions.createConnectSession(
      { ...REQUEST, metadata: { plan: "gold" } },
      { idempotencyKey: "order-secret-key" },
    );
    await hub.connectSessions.authenticateConnectSession({ token: "chs_stub" }).catch(() => undefined);
    const log = lines.join("\n");

    expect(lines.length).toBe(4);
    expect(log).toContain("POST");
    expect(log).toContain("/connect_sessions (attempt 1)");
    expect(log).toContain("201 from POST");
    expect(log).toContain("plan: 'gold'");
    expect(log).toContain("[redacted]");
    for (const secret of [
      API_KEY,
      Buffer.from(`${API_KEY}:`).toString("base64"),
      "order-secret-key",
      "chs_stub",
    ]) {
      expect(log).not.toContain(secret);
    }
  });

  it("does not show the API key when the client itself is logged", () => {
    const hub = new ConnectHub({ serverURL: "http://127.0.0.1:1", security: { username: API_KEY } });
    expect(inspect(hub, { depth: 10, showHidden: true })).not.toContain(API_KEY);
    expect(JSON.stringify(hub)).not.toContain(API_KEY);
  });
});
