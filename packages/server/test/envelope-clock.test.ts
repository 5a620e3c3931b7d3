/**
 * The envelope's time and the answer while closing, over real sockets:
 * - every error answer's `timestamp` comes from the clock given to buildApp (a router 404, an
 *   auth 401, a malformed request answered before Fastify sees it), never the wall clock;
 * - a request that arrives while the server is closing (pipelined behind one in flight) gets a
 *   503 in our envelope with the request id, the security headers and `Retry-After`, not
 *   Fastify's own 503 body.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "./support/http.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";

const FIXED = "2031-05-06T07:08:09.010Z";

/** Collects a socket's bytes until the server closes it. */
function collect(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk;
    });
    socket.on("close", () => resolve(data));
    socket.on("error", reject);
  });
}

/** Splits raw HTTP/1.1 answers (Content-Length framed) into status, headers and body. */
function parseAnswers(raw: string): Array<{ status: number; headers: Record<string, string>; body: string }> {
  const answers = [];
  let rest = raw;
  while (rest.startsWith("HTTP/1.1")) {
    const headEnd = rest.indexOf("\r\n\r\n");
    const [statusLine = "", ...lines] = rest.slice(0, headEnd).split("\r\n");
    const headers = Object.fromEntries(
      lines.map((line) => [
        line.slice(0, line.indexOf(":")).toLowerCase(),
        line.slice(line.indexOf(":") + 1).trim(),
      ]),
    );
    const length = Number(headers["content-length"] ?? 0);
    const body = rest.slice(headEnd + 4, headEnd + 4 + length);
    answers.push({ status: Number(statusLine.split(" ")[1]), headers, body });
    rest = rest.slice(headEnd + 4 + length);
  }
  return answers;
}

describe("error timestamps from the app's clock", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock: () => new Date(FIXED) });
  });
  afterAll(() => server?.close());

  it("stamps a router 404 and an auth 401 with the injected time", async () => {
    for (const [path, status] of [
      ["/no/such/route", 404],
      ["/connect_sessions", 401],
    ] as const) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ statusCode: status, timestamp: FIXED });
    }
  });

  it("stamps a malformed request, answered before Fastify, with the injected time", async () => {
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    const raw = collect(socket);
    socket.write("GET / HTTP/1.1\r\nHost x\r\n\r\n");
    const [answer] = parseAnswers(await raw);
    expect(answer?.status).toBe(400);
    expect(JSON.parse(answer?.body ?? "{}")).toMatchObject({ statusCode: 400, timestamp: FIXED });
  });
});

describe("a request arriving while the server closes", () => {
  let server: TestServer;
  let apiKey: string;
  beforeAll(async () => {
    server = await startTestServer();
    apiKey = await server.createApiKey();
  });
  afterAll(() => server?.close());

  it("gets a 503 in the envelope, with the request id, security headers and Retry-After", async () => {
    const port = Number(new URL(server.url).port);
    const body = JSON.stringify({ origin_owner_id: "closing", origin_owner_name: "Closing" });
    const socket = connect(port, "127.0.0.1");
    const raw = collect(socket);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    // `Expect: 100-continue`: the server's "100 Continue" says it has this request in flight.
    const continued = new Promise<void>((resolve) =>
      socket.on("data", (chunk) => {
        if (String(chunk).includes("100 Continue")) resolve();
      }),
    );
    socket.write(
      `POST /connect_sessions HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth(apiKey)}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body.slice(0, 10)}`,
    );
    await continued;
    const closed = server.app.close();
    // Closing has begun once a new connection is refused.
    await waitUntil(() =>
      fetch(`${server.url}/healthz`).then(
        async (response) => {
          await response.arrayBuffer();
          return undefined;
        },
        () => true,
      ),
    );
    // The rest of the body, and a second request behind it on the same connection.
    socket.write(`${body.slice(10)}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    const answers = parseAnswers((await raw).replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ""));
    await closed;
    expect(answers.map((answer) => answer.status)).toEqual([201, 503]);
    const refused = answers[1];
    expect(refused?.headers["content-type"]).toMatch(/^application\/json/);
    expect(refused?.headers["retry-after"]).toBe("1");
    expect(refused?.headers["x-content-type-options"]).toBe("nosniff");
    expect(refused?.headers["x-request-id"]).toBeTruthy();
    expect(JSON.parse(refused?.body ?? "{}")).toEqual({
      statusCode: 503,
      message: "Service unavailable: the server is shutting down; retry shortly",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      request_id: refused?.headers["x-request-id"],
    });
  });
});
