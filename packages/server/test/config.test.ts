import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { ENVIRONMENT_VARIABLES } from "../src/config-variables.js";

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
      busyTimeoutMs: 5000,
    });
    expect(loadConfig({ SQLITE_BUSY_TIMEOUT: "250ms" }).database).toMatchObject({ busyTimeoutMs: 250 });
  });

  it.each([
    [{ PORT: "abc" }, "PORT must be a whole number"],
    [{ PORT: "70000" }, "PORT must be between 0 and 65535"],
    [{ PUBLIC_URL: "not a url" }, "PUBLIC_URL must be an absolute http(s) URL"],
    [{ PUBLIC_URL: "ftp://x" }, "PUBLIC_URL must use http or https"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL must look like"],
    [{ DATABASE_URL: "postgres://u:secret@h:notaport/db" }, "not a valid PostgreSQL URL"],
    [{ DATABASE_POOL_SIZE: "0" }, "DATABASE_POOL_SIZE must be between 1 and 1000"],
    [{ REDIS_URL: "localhost:6379" }, "REDIS_URL must look like redis://"],
    [{ TRUST_PROXY: "some proxy" }, "TRUST_PROXY must be true, false, a hop count"],
    [{ METRICS_ENABLED: "maybe" }, "METRICS_ENABLED must be true or false"],
    [{ SESSION_RETENTION_SECONDS: "-1" }, "SESSION_RETENTION_SECONDS must be a whole number"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of"],
    [{ ORGANIZATION_ID_TYPE: "uuid" }, "ORGANIZATION_ID_TYPE must be one of string, number"],
    [{ BODY_LIMIT_BYTES: "1" }, "BODY_LIMIT_BYTES must be between"],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("selects PostgreSQL from a postgres:// URL, with a pool size", () => {
    expect(
      loadConfig({ DATABASE_URL: "postgres://hub@db.internal:5432/hub", DATABASE_POOL_SIZE: "25" }).database,
    ).toEqual({
      dialect: "postgres",
      url: "postgres://hub@db.internal:5432/hub",
      poolSize: 25,
    });
    expect(loadConfig({ DATABASE_URL: "postgresql://hub@db/hub" }).database).toMatchObject({ poolSize: 10 });
  });

  it("reads the scale-out settings", () => {
    const config = loadConfig({
      REDIS_URL: "redis://127.0.0.1:6379/2",
      TRUST_PROXY: "10.0.0.0/8, 127.0.0.1",
      API_KEY_CACHE_SECONDS: "0",
      SWEEP_INTERVAL_SECONDS: "30",
      SWEEP_BATCH_SIZE: "100",
      SESSION_RETENTION_SECONDS: "3600",
      METRICS_ENABLED: "true",
      METRICS_TOKEN: "scrape-secret",
    });
    expect(config).toMatchObject({
      redisUrl: "redis://127.0.0.1:6379/2",
      trustProxy: "10.0.0.0/8,127.0.0.1",
      apiKeyCacheSeconds: 0,
      sweeper: { intervalSeconds: 30, batchSize: 100, sessionRetentionSeconds: 3600 },
      metrics: { enabled: true, token: "scrape-secret" },
    });
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({})).toMatchObject({
      redisUrl: undefined,
      apiKeyCacheSeconds: 5,
      sweeper: { intervalSeconds: 60, batchSize: 500, sessionRetentionSeconds: 604800 },
      metrics: { enabled: false, token: undefined },
    });
  });

  it("never echoes database credentials in its errors", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://user:hunter2@db/x" })).toThrow(/\*\*\*@/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://user:hunter2@db/x" })).not.toThrow(/hunter2/);
  });

  describe("encryption keys", () => {
    const key = Buffer.alloc(32, 1).toString("base64");

    it("refuses to start in production without ENCRYPTION_KEY", () => {
      expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(
        /ENCRYPTION_KEY is required when NODE_ENV=production/,
      );
      expect(loadConfig({ NODE_ENV: "production", ENCRYPTION_KEY: key }).encryptionKeys).toHaveLength(1);
    });

    it("leaves development to a generated key", () => {
      expect(loadConfig({}).encryptionKeys).toBeUndefined();
    });

    it("reads several keys for rotation, current first, and refuses short ones", () => {
      const other = Buffer.alloc(32, 2).toString("base64");
      const keys = loadConfig({ ENCRYPTION_KEY: `new:${key},old:${other}` }).encryptionKeys;
      expect(keys?.map((k) => k.id)).toEqual(["new", "old"]);
      expect(() => loadConfig({ ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(ConfigError);
      expect(() => loadConfig({ ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/must be 32 bytes/);
    });
  });
});

describe("the list of environment variables (serve --help, README)", () => {
  /** The names `loadConfig` reads, found by watching it read them. */
  const namesRead = (env: Record<string, string> = {}) => {
    const read = new Set<string>();
    loadConfig(
      new Proxy(env, {
        get(target, name) {
          if (typeof name === "string") read.add(name);
          return target[name as string];
        },
      }),
    );
    return read;
  };

  it("names exactly the variables loadConfig reads", () => {
    expect([...namesRead()].sort()).toEqual(ENVIRONMENT_VARIABLES.map((variable) => variable.name).sort());
  });

  it.each(ENVIRONMENT_VARIABLES.filter((variable) => variable.default !== undefined))(
    "$name: the default shown is the one used",
    (variable) => {
      expect(loadConfig({ [variable.name]: variable.default as string })).toEqual(loadConfig({}));
    },
  );

  it("is the README's configuration table", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## The CLI"));
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` /gm)].map((match) => match[1]);
    expect(documented).toEqual(ENVIRONMENT_VARIABLES.map((variable) => variable.name));
  });

  it("LOG_FORMAT is pretty or json, and unset leaves the choice to the terminal", () => {
    expect(loadConfig({}).logFormat).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
    expect(loadConfig({ LOG_FORMAT: "json" }).logFormat).toBe("json");
    expect(() => loadConfig({ LOG_FORMAT: "xml" })).toThrow(
      'LOG_FORMAT must be one of pretty, json (got "xml")',
    );
  });
});
