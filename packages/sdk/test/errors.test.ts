/**
 * Every error class, against a real HTTP server that answers the status under test (the
 * statuses Connect Hub itself does not produce on these routes), and the light response
 * validation.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  ApiErrorResponse,
  BadGatewayResponse,
  BadRequestResponse,
  ConflictResponse,
  ConnectHub,
  ConnectHubError,
  ForbiddenResponse,
  HttpError,
  InternalServerErrorResponse,
  NotFoundResponse,
  NotImplementedResponse,
  RequestTimedOutResponse,
  ResponseValidationError,
  SDKError,
  TooManyRequestsResponse,
  UnauthorizedResponse,
  UnprocessableEntityResponse,
} from "../src/index.js";
import {
  errorEnvelope,
  type StubAnswer,
  type StubServer,
  sessionWithToken,
  startStubServer,
} from "./support/stub-server.js";

let stub: StubServer | undefined;
afterEach(() => stub?.close());

/** Creates a session against a stub that always gives `answer`; returns what was thrown, or the result. */
async function createAgainst(answer: StubAnswer): Promise<unknown> {
  stub = await startStubServer(() => answer);
  const hub = new ConnectHub({ serverURL: stub.url, retryConfig: { strategy: "none" } });
  return hub.connectSessions
    .createConnectSession({ originOwnerId: "cust-1", originOwnerName: "Acme" })
    .catch((error: unknown) => error);
}

const CLASS_BY_STATUS = [
  [400, BadRequestResponse],
  [401, UnauthorizedResponse],
  [403, ForbiddenResponse],
  [404, NotFoundResponse],
  [408, RequestTimedOutResponse],
  [409, ConflictResponse],
  [422, UnprocessableEntityResponse],
  [429, TooManyRequestsResponse],
  [500, InternalServerErrorResponse],
  [501, NotImplementedResponse],
  [502, BadGatewayResponse],
] as const;

describe("error classes", () => {
  it.each(CLASS_BY_STATUS)("%i with the error envelope throws %o", async (status, ErrorClass) => {
    const data = { statusCode: status, message: "detail", headers: null };
    const failure = await createAgainst({
      status,
      headers: { "x-request-id": "req-1" },
      body: errorEnvelope(status, `failed with ${status}`, { data }),
    });

    expect(failure).toBeInstanceOf(ErrorClass);
    expect(failure).toBeInstanceOf(ApiErrorResponse);
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure).toBeInstanceOf(ConnectHubError);
    expect(failure).toBeInstanceOf(Error);
    const error = failure as ApiErrorResponse;
    expect(error.name).toBe(ErrorClass.name);
    expect(error.statusCode).toBe(status);
    expect(error.message).toBe(`failed with ${status}`);
    expect(error.timestamp).toEqual(new Date("2026-01-02T03:04:05.678Z"));
    expect(error.data).toEqual(data);
    expect(error.headers.get("x-request-id")).toBe("req-1");
    expect(error.contentType).toBe("application/json; charset=utf-8");
    expect(error.rawResponse.status).toBe(status);
    expect(JSON.parse(error.body)).toMatchObject({ statusCode: status });
  });

  it("reads provider_errors", async () => {
    const providerErrors = [{ status: 401, url: "https://provider.test", raw: null, headers: null }];
    const failure = await createAgainst({
      status: 400,
      body: errorEnvelope(400, "Bad Request", { provider_errors: providerErrors }),
    });
    expect((failure as BadRequestResponse).providerErrors).toEqual(providerErrors);
  });

  it("keeps the class of the status when the JSON body lacks envelope fields", async () => {
    const failure = await createAgainst({ status: 401, body: { error: "no" } });
    expect(failure).toBeInstanceOf(UnauthorizedResponse);
    expect((failure as UnauthorizedResponse).message).toBe("HTTP 401");
    expect((failure as UnauthorizedResponse).timestamp).toBeUndefined();
  });

  it.each([503, 405, 418, 504])("%i throws SDKError", async (status) => {
    const failure = await createAgainst({ status, body: errorEnvelope(status, "Service Unavailable") });
    expect(failure).toBeInstanceOf(SDKError);
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure).toBeInstanceOf(ConnectHubError);
    const error = failure as SDKError;
    expect(error.name).toBe("SDKError");
    expect(error.statusCode).toBe(status);
    expect(error.message).toBe(`API error: HTTP ${status}: Service Unavailable`);
  });

  it("a mapped status with a body that is not JSON throws SDKError", async () => {
    const html = "<html><body>502 Bad Gateway</body></html>";
    const failure = await createAgainst({
      status: 502,
      headers: { "content-type": "text/html" },
      body: html,
    });
    expect(failure).toBeInstanceOf(SDKError);
    expect((failure as SDKError).statusCode).toBe(502);
    expect((failure as SDKError).body).toBe(html);
    expect((failure as SDKError).message).toContain("502 Bad Gateway");
  });

  it("a JSON error body that is not an object throws SDKError", async () => {
    const failure = await createAgainst({ status: 400, body: ["not", "an", "envelope"] });
    expect(failure).toBeInstanceOf(SDKError);
  });

  it("a success status other than the operation's throws SDKError", async () => {
    const failure = await createAgainst({ status: 200, body: sessionWithToken() });
    expect(failure).toBeInstanceOf(SDKError);
    expect((failure as SDKError).message).toMatch(/^Unexpected status: HTTP 200/);
  });

  it("201 with a body that is not JSON throws SDKError", async () => {
    const failure = await createAgainst({
      status: 201,
      headers: { "content-type": "text/plain" },
      body: "ok",
    });
    expect(failure).toBeInstanceOf(SDKError);
    expect((failure as SDKError).statusCode).toBe(201);
  });
});

describe("response validation", () => {
  it("201 with broken fields throws ResponseValidationError listing every issue", async () => {
    const failure = await createAgainst({
      status: 201,
      body: sessionWithToken({
        id: "42",
        created_at: "2026-01-02T03:04:05",
        token: undefined,
        label: 7,
        metadata: [],
      }),
    });
    expect(failure).toBeInstanceOf(ResponseValidationError);
    expect(failure).toBeInstanceOf(ConnectHubError);
    const error = failure as ResponseValidationError;
    expect(error.name).toBe("ResponseValidationError");
    expect(error.statusCode).toBe(201);
    expect(error.issues).toEqual([
      "id must be an integer",
      "created_at must be an ISO-8601 date-time with Z or an offset",
      "label must be a string or null",
      "metadata must be a JSON object or null",
      "token is required",
    ]);
    expect(error.message).toContain("id must be an integer; created_at must be");
  });

  it("201 with invalid JSON throws ResponseValidationError", async () => {
    const failure = await createAgainst({
      status: 201,
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(failure).toBeInstanceOf(ResponseValidationError);
    expect((failure as ResponseValidationError).issues).toEqual(["the body is not valid JSON"]);
  });

  it("201 with a JSON body that is not an object throws ResponseValidationError", async () => {
    const failure = await createAgainst({ status: 201, body: [sessionWithToken()] });
    expect(failure).toBeInstanceOf(ResponseValidationError);
    expect((failure as ResponseValidationError).issues[0]).toBe("the body must be a JSON object");
  });

  it("accepts unknown enum values, absent optional fields, offsets, and a numeric organization id", async () => {
    const body = sessionWithToken({
      organization_id: 7,
      categories: ["hris", "payroll"],
      type: "sandbox",
      status: "paused",
      created_at: "2026-01-02T04:04:05+0100",
      provider: undefined,
      metadata: { plan_name: "gold" },
      unknown_field: "ignored",
    });
    const result = await createAgainst({ status: 201, body });
    expect(result).not.toBeInstanceOf(Error);
    const link = (result as { connectSessionTokenAuthLink: Record<string, unknown> })
      .connectSessionTokenAuthLink;
    expect(link).toMatchObject({
      organizationId: "7",
      categories: ["hris", "payroll"],
      type: "sandbox",
      status: "paused",
      createdAt: new Date("2026-01-02T03:04:05Z"),
      metadata: { plan_name: "gold" },
    });
    expect(link).not.toHaveProperty("provider");
    expect(link).not.toHaveProperty("unknownField");
    expect(link).not.toHaveProperty("unknown_field");
  });
});
