/**
 * Every answer the server gives, whatever produced it (a route, the router, the body parser,
 * Node's HTTP parser, a timeout), is the error envelope with the security headers and a
 * request id that also appears in the log line.
 */
import { connect } from "node:net";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends bytes as they are (fetch would refuse or fix most of these inputs); `keepOpen` leaves
 * the socket writable, as a client still sending would.
 */
function rawRequest(server: TestServer, request: string | Buffer, keepOpen = false): Promise<RawAnswer> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () =>
      keepOpen ? socket.write(request) : socket.end(request),
    );
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk;
      const [head = "", ...rest] = data.split("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(head)?.[1];
      const body = rest.join("\r\n\r\n");
      if (length !== undefined && Buffer.byteLength(body) >= Number(length)) socket.destroy();
    });
    socket.on("close", () => {
      const [head = "", ...rest] = data.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    });
    socket.on("error", reject);
  });
}

function expectEnvelope(answer: RawAnswer, status: number, label: string): Record<string, unknown> {
  expect(answer.status, `${label}: ${answer.body}`).toBe(status);
  expect(answer.headers["content-type"], label).toMatch(/^application\/json/);
  expect(answer.headers["x-content-type-options"], label).toBe("nosniff");
  expect(answer.headers["content-security-policy"], label).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(answer.headers["x-frame-options"], label).toBe("DENY");
  expect(answer.headers["cache-control"], label).toBe("no-store");
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  expect(Object.keys(body).sort(), label).toEqual(["message", "request_id", "statusCode", "timestamp"]);
  expect(body.statusCode, label).toBe(status);
  expect(body.timestamp, label).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  expect(answer.headers["x-request-id"], label).toBe(body.request_id);
  return body;
}

describe("every answer is the envelope with the security headers", () => {
  let server: TestServer;
  let apiKey: string;
  const lines: string[] = [];
  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    server = await startTestServer({ env: { BODY_LIMIT_BYTES: "2048" }, logStream: stream });
    apiKey = await server.createApiKey();
  });
  afterAll(() => server.close());

  const get = (path: string, extra = "") =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`;
  const post = (path: string, body: string, type = "application/json", extra = "") =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;

  const cases: [label: string, request: (auth: string) => string, status: number, message?: RegExp][] = [
    ["malformed percent-escape in a path id", (a) => get("/accounts/%ff", a), 400, /percent-escape/],
    ["malformed percent-escape in an unknown path", () => get("/nope/%zz"), 400, /percent-escape/],
    ["an id of 255 characters reaches the route", (a) => get(`/accounts/${"a".repeat(255)}`, a), 404],
    ["an id over the schema's 255 characters", (a) => get(`/accounts/${"a".repeat(256)}`, a), 400],
    ["an id longer than the router takes", (a) => get(`/accounts/${"a".repeat(3000)}`, a), 414],
    ["an unknown route", () => get("/nope"), 404],
    [
      "a method the route does not have",
      (a) => `DELETE /connect_sessions HTTP/1.1\r\nHost: x\r\n${a}Connection: close\r\n\r\n`,
      404,
    ],
    ["no API key", () => post("/connect_sessions", "{}"), 401],
    [
      "a body over the limit",
      (a) => post("/connect_sessions", JSON.stringify({ x: "y".repeat(3000) }), "application/json", a),
      413,
    ],
    ["a body that is not JSON", (a) => post("/connect_sessions", "{", "application/json", a), 400],
    ["a text/plain body", (a) => post("/connect_sessions", "hi", "text/plain", a), 415],
    ["a form body", (a) => post("/connect_sessions", "a=b", "application/x-www-form-urlencoded", a), 415],
    [
      "__proto__ in a body",
      (a) => post("/connect_sessions", '{"__proto__":{"x":1}}', "application/json", a),
      400,
    ],
    [
      "a NUL in a header",
      () => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Thing: a\u0000b\r\nConnection: close\r\n\r\n`,
      400,
    ],
    ["a malformed request line", () => "NOT HTTP\r\n\r\n", 400],
    ["headers over the limit", () => get("/healthz", `X-Big: ${"a".repeat(20_000)}\r\n`), 431],
  ];

  for (const [label, request, status, message] of cases) {
    it(`answers ${label} with ${status}`, async () => {
      const answer = await rawRequest(server, request(`Authorization: ${basicAuth(apiKey)}\r\n`));
      const body = expectEnvelope(answer, status, label);
      if (message) expect(body.message).toMatch(message);
    });
  }

  it("puts each answer's request id in its log line, and never repeats the bad path", async () => {
    const answer = await rawRequest(server, get("/accounts/%ff-secret-looking"));
    const body = expectEnvelope(answer, 400, "bad url");
    const entries = lines.map((line) => JSON.parse(line) as { reqId?: string; msg: string });
    expect(entries.some((entry) => entry.reqId === body.request_id && entry.msg === "request rejected")).toBe(
      true,
    );
    expect(lines.join("\n")).not.toContain("secret-looking");
  });
});

describe("a request that does not arrive in time", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { REQUEST_TIMEOUT_SECONDS: "1" } });
  });
  afterAll(() => server.close());

  it("answers 408 in the envelope, with the security headers and a request id", async () => {
    const partial =
      "POST /connect/api/credentials HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    const answer = await rawRequest(server, partial, true);
    expectEnvelope(answer, 408, "timeout");
    expect(answer.headers["retry-after"]).toBe("1");
  });
});

describe("request ids", () => {
  let direct: TestServer;
  let proxied: TestServer;
  beforeAll(async () => {
    direct = await startTestServer();
    proxied = await startTestServer({ env: { TRUST_PROXY: "127.0.0.1" } });
  });
  afterAll(async () => {
    await direct.close();
    await proxied.close();
  });

  it("are generated, unique, on successes too", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${direct.url}/healthz`);
      ids.add(response.headers.get("x-request-id") ?? "");
    }
    expect(ids.size).toBe(5);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]+-[0-9a-z]+$/);
  });

  it("are taken from a trusted proxy only, and only when well-formed", async () => {
    const from = async (server: TestServer, id: string) =>
      (await fetch(`${server.url}/nope`, { headers: { "x-request-id": id } })).headers.get("x-request-id");
    expect(await from(proxied, "lb-1234.abc")).toBe("lb-1234.abc");
    expect(await from(direct, "lb-1234.abc")).not.toBe("lb-1234.abc");
    expect(await from(proxied, "has space")).not.toBe("has space");
    expect(await from(proxied, "x".repeat(200))).not.toBe("x".repeat(200));
  });
});
