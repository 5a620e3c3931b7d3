/** Rate limits, slow requests, property-based bad input, and what the logs may contain. */
import { connect } from "node:net";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody, type JsonResponse, postJson } from "./support/http.js";
import { basicAuth, startTestServer, type TestServer } from "./support/server.js";

describe("rate limiting", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: "5" } });
  });
  afterAll(() => server.close());

  it("answers 429 with Retry-After per API key, leaving other keys alone", async () => {
    const busy = await server.createApiKey("busy");
    const calm = await server.createApiKey("calm");
    const body = { origin_owner_id: "c", origin_owner_name: "A" };
    const statuses: number[] = [];
    let limited: JsonResponse | undefined;
    for (let i = 0; i < 7; i++) {
      const response = await postJson(`${server.url}/connect_sessions`, body, { apiKey: busy });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    if (!limited) throw new Error("never limited");
    expect(expectErrorBody(limited, 429)).toContain("Too many requests");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await postJson(`${server.url}/connect_sessions`, body, { apiKey: calm })).status).toBe(201);
  });
});

describe("slow requests", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { REQUEST_TIMEOUT_SECONDS: "1" } });
  });
  afterAll(() => server.close());

  it("answers a request that never finishes arriving with 408, Retry-After and the error body", async () => {
    const { port } = new URL(server.url);
    const apiKey = await server.createApiKey();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(
          `POST /connect_sessions HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth(apiKey)}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
        );
      });
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk;
      });
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
      setTimeout(() => reject(new Error("no answer in 10 s")), 10_000);
    });
    const [head = "", body = ""] = raw.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 408/);
    expect(head).toMatch(/retry-after: 1/i);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(body)).toMatchObject({
      statusCode: 408,
      message: expect.stringContaining("timed out"),
    });
  });
});

describe("bad input never breaks the server", () => {
  let server: TestServer;
  let apiKey: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: "1000000" } });
    apiKey = await server.createApiKey();
  });
  afterAll(() => server.close());

  const fieldValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  );
  const createBody = fc.record(
    {
      origin_owner_id: fieldValue,
      origin_owner_name: fieldValue,
      categories: fc.oneof(fieldValue, fc.array(fc.constantFrom("hris", "ats", "crm", "bogus"))),
      expires_in: fieldValue,
      metadata: fieldValue,
      multiple: fieldValue,
      type: fc.oneof(fieldValue, fc.constantFrom("production", "test")),
      label: fieldValue,
    },
    { requiredKeys: [] },
  );

  it("answers random create bodies with 201 or a 4xx envelope, never 500", async () => {
    await fc.assert(
      fc.asyncProperty(createBody, async (body) => {
        const response = await postJson(`${server.url}/connect_sessions`, body, { apiKey });
        if (response.status !== 201) expectErrorBody(response, response.status);
        expect(response.status === 201 || (response.status >= 400 && response.status < 500)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("answers random raw bodies and headers with a 4xx envelope, never 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.constantFrom(
          "application/json",
          "application/json; charset=utf-8",
          "text/plain",
          "application/octet-stream",
        ),
        fc.constantFrom("/connect_sessions", "/connect_sessions/authenticate"),
        async (raw, contentType, path) => {
          const response = await fetch(`${server.url}${path}`, {
            method: "POST",
            headers: { authorization: basicAuth(apiKey), "content-type": contentType },
            body: raw,
          });
          const body = await response.json();
          expect(response.status).toBeLessThan(500);
          if (response.status >= 400) expect(body.statusCode).toBe(response.status);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("answers random tokens on authenticate with 401 or 400, never 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `chs_${s}`),
        ),
        async (token) => {
          const response = await postJson(
            `${server.url}/connect_sessions/authenticate`,
            { token },
            { apiKey },
          );
          expect([400, 401]).toContain(response.status);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("logs", () => {
  it("write each request line exactly as pino would, request id included", async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    const server = await startTestServer({ logStream: stream });
    try {
      const userAgent = 'probe "quoted" \\ é\ttab';
      const response = await fetch(`${server.url}/connect?token=chs_secret&x=1`, {
        headers: { "user-agent": userAgent },
      });
      await response.text();
      const requestId = response.headers.get("x-request-id");
      const line = lines.find((text) => text.includes(`"reqId":"${requestId}"`));
      expect(line).toBeDefined();
      const fast = JSON.parse(line as string) as { time: number; responseTime: number };
      // The same fields through pino itself: the line must match byte for byte but for the time.
      lines.length = 0;
      server.app.log.child({ reqId: requestId }).info(
        {
          req: {
            method: "GET",
            url: "/connect?token=chs_secret&x=1",
            ip: "127.0.0.1",
            headers: { "user-agent": userAgent },
          },
          res: { statusCode: response.status },
          responseTime: fast.responseTime,
        },
        "request completed",
      );
      await new Promise((resolve) => setImmediate(resolve));
      const viaPino = lines[0] as string;
      const withoutTime = (text: string) => text.replace(/"time":\d+/, '"time":0');
      expect(withoutTime(line as string)).toBe(withoutTime(viaPino));
      expect(line).toContain("token=[REDACTED]");
    } finally {
      await server.close();
    }
  });

  it("record each request without keys, tokens or credentials", async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    const server = await startTestServer({ logStream: stream });
    try {
      const apiKey = await server.createApiKey();
      const created = await postJson(
        `${server.url}/connect_sessions`,
        { origin_owner_id: "c", origin_owner_name: "A" },
        { apiKey, headers: { "idempotency-key": "idem-secret-123", cookie: "session=cookie-secret" } },
      );
      const token = created.body.token as string;
      await postJson(`${server.url}/connect_sessions/authenticate`, { token }, { apiKey });
      await fetch(`${server.url}/connect?token=${token}`);
      await postJson(
        `${server.url}/connect_sessions/authenticate`,
        { token: "chs_wrong" },
        { apiKey: "chk_bad" },
      );
    } finally {
      await server.close();
    }
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = entries.filter((e) => e.msg === "request completed");
    expect(completed.length).toBeGreaterThanOrEqual(4);
    expect(entries.some((e) => JSON.stringify(e).includes("token=[REDACTED]"))).toBe(true);
    const all = lines.join("\n");
    for (const secret of ["chs_", "chk_", "idem-secret-123", "cookie-secret", "Basic "]) {
      expect(all, `log contains ${secret}`).not.toContain(secret);
    }
  });
});
