/**
 * Log lines hold no secrets by construction: the request line names its fields, and logged
 * errors are scrubbed of secret-named fields (pino's path redaction is not used; see
 * src/http/logging.ts).
 */
import { PassThrough } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loggerOptions, scrubbedError } from "../src/http/logging.js";

const SECRETS = ["chk_live_secret", "chs_session_secret", "hunter2", "client-secret-value", "Basic dXNlcg=="];

function errorCarryingSecrets(): Error {
  const error = new Error("token exchange failed") as Error & Record<string, unknown>;
  error.request = {
    headers: { authorization: "Basic dXNlcg==", Cookie: "sid=1" },
    body: { client_secret: "client-secret-value", password: "hunter2", api_key: "chk_live_secret" },
  };
  error.token = "chs_session_secret";
  error.attempts = [{ access_token: "chs_session_secret", status: 401 }];
  error.cause = Object.assign(new Error("inner"), { refresh_token: "chs_session_secret" });
  return error;
}

describe("logged errors", () => {
  it("keep message, stack and harmless fields, and lose every secret-named field at any depth", () => {
    const serialized = scrubbedError(errorCarryingSecrets()) as unknown as Record<string, unknown>;
    const text = JSON.stringify(serialized);
    for (const secret of SECRETS) expect(text, `contains ${secret}`).not.toContain(secret);
    expect(serialized.message).toContain("token exchange failed");
    expect(serialized.stack).toContain("token exchange failed");
    expect(serialized.attempts).toEqual([{ access_token: "[REDACTED]", status: 401 }]);
    expect(text).toContain("[REDACTED]");
  });

  it("reach the log through the app's logger options without their secrets", async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")));
    const options = loggerOptions("info", stream);
    const log = pino({ level: options.level, serializers: options.serializers }, options.stream);
    log.error({ err: errorCarryingSecrets() }, "request failed");
    await new Promise((resolve) => setImmediate(resolve));
    const line = chunks.join("");
    expect(line).toContain("token exchange failed");
    for (const secret of SECRETS) expect(line, `contains ${secret}`).not.toContain(secret);
  });

  it("cut a cyclic or deep field at a bounded depth", () => {
    const loop: Record<string, unknown> = { password: "hunter2" };
    loop.self = loop;
    const text = JSON.stringify(scrubbedError(Object.assign(new Error("cyclic"), { loop })));
    expect(text).not.toContain("hunter2");
    expect(text).toContain("[TRUNCATED]");
    expect(text.length).toBeLessThan(2000);
  });
});
