import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration", () => {
  it("has working defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      publicUrl: "http://localhost:4000",
      organizationIdType: "string",
      logLevel: "info",
      database: { dialect: "sqlite", file: path.resolve("data/connect-hub.sqlite") },
    });
  });

  it("reads every documented variable", () => {
    const config = loadConfig({
      PORT: "8080",
      PUBLIC_URL: "https://hub.example.com/base/",
      DATABASE_URL: "file:/var/lib/hub.db",
      LOG_LEVEL: "debug",
      ORGANIZATION_ID_TYPE: "number",
      BODY_LIMIT_BYTES: "2048",
      RATE_LIMIT_PER_MINUTE: "10",
      REQUEST_TIMEOUT_SECONDS: "5",
    });
    expect(config).toMatchObject({
      port: 8080,
      publicUrl: "https://hub.example.com/base",
      database: { dialect: "sqlite", file: "/var/lib/hub.db" },
      logLevel: "debug",
      organizationIdType: "number",
      bodyLimitBytes: 2048,
      rateLimitPerMinute: 10,
      requestTimeoutSeconds: 5,
    });
    expect(loadConfig({ DATABASE_URL: "sqlite:rel/x.db" }).database).toEqual({
      dialect: "sqlite",
      file: path.resolve("rel/x.db"),
    });
  });

  it.each([
    [{ PORT: "abc" }, "PORT must be a whole number"],
    [{ PORT: "70000" }, "PORT must be between 0 and 65535"],
    [{ PUBLIC_URL: "not a url" }, "PUBLIC_URL must be an absolute http(s) URL"],
    [{ PUBLIC_URL: "ftp://x" }, "PUBLIC_URL must use http or https"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL must look like"],
    [{ DATABASE_URL: "postgres://u:secret@h/db" }, "PostgreSQL is not supported yet"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of"],
    [{ ORGANIZATION_ID_TYPE: "uuid" }, "ORGANIZATION_ID_TYPE must be one of string, number"],
    [{ BODY_LIMIT_BYTES: "1" }, "BODY_LIMIT_BYTES must be between"],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("never echoes database credentials in its errors", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://user:hunter2@db/x" })).toThrow(/\*\*\*@/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://user:hunter2@db/x" })).not.toThrow(/hunter2/);
  });
});
