/**
 * What a CLI start loads. A command loads only what it uses: `--version` and `--help` no
 * database driver, a database command neither the HTTP server nor the provider catalog. This
 * is what keeps a start close to Node's own start time, and the CLI tests clear of their
 * timeout on a busy machine; it is checked by the modules loaded, not by the clock.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, cli } from "./support/process.js";
import { freePort } from "./support/server.js";

const RECORDER = fileURLToPath(new URL("./support/record-imports.mjs", import.meta.url));
const run = promisify(execFile);
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "connect-hub-cli-start-"));
  env = { DATABASE_URL: `file:${path.join(dir, "hub.sqlite")}`, DATA_DIR: dir, LOG_LEVEL: "warn" };
  expect((await cli(env, "migrate")).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ES modules a CLI run resolved, as paths below node_modules or the package's dist. */
async function modulesLoaded(...args: string[]): Promise<string[]> {
  const file = path.join(dir, `imports-${args.join("-")}.txt`);
  writeFileSync(file, "");
  await run(process.execPath, ["--import", RECORDER, BIN, ...args], {
    env: { ...process.env, ...env, RECORD_IMPORTS_FILE: file },
  });
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((url) => {
      const inPackages = url.lastIndexOf("/node_modules/");
      if (inPackages >= 0) return url.slice(inPackages + 1);
      return url.replace(/^.*\/packages\/server\/dist\//, "dist/");
    });
}

/** The same for `serve`, stopped once it answers. */
async function modulesLoadedByServe(extraEnv: NodeJS.ProcessEnv): Promise<string[]> {
  const file = path.join(dir, `imports-serve-${Object.keys(extraEnv).join("-") || "plain"}.txt`);
  writeFileSync(file, "");
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", RECORDER, BIN, "serve"], {
    env: {
      ...process.env,
      ...env,
      ...extraEnv,
      PORT: String(port),
      HOST: "127.0.0.1",
      RECORD_IMPORTS_FILE: file,
    },
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  while (
    !(await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null) throw new Error("serve exited during start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGTERM");
  await exited;
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

const packagesOf = (modules: string[]) =>
  new Set(modules.flatMap((m) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m)?.[1] ?? []));

describe("a CLI start", () => {
  it("--version loads commander and nothing heavier", async () => {
    const loaded = await modulesLoaded("--version");
    expect([...packagesOf(loaded)]).toEqual(["commander"]);
    expect(loaded).not.toContain("dist/db/database.js");
  });

  it("console link loads neither the server nor TypeBox", async () => {
    const loaded = await modulesLoaded("console", "link");
    const packages = packagesOf(loaded);
    for (const heavy of ["fastify", "@sinclair/typebox", "openid-client", "undici", "ioredis", "pino"]) {
      expect(packages.has(heavy), heavy).toBe(false);
    }
    expect(loaded).not.toContain("dist/app.js");
  });

  it("serve loads the Redis client only with REDIS_URL and prom-client only with METRICS_ENABLED", async () => {
    const loadedPackages = async (extraEnv: NodeJS.ProcessEnv) =>
      packagesOf(
        (await modulesLoadedByServe(extraEnv)).map((url) => url.slice(url.lastIndexOf("/node_modules/") + 1)),
      );
    const plain = await loadedPackages({});
    expect(plain.has("fastify")).toBe(true);
    expect(plain.has("ioredis")).toBe(false);
    expect(plain.has("prom-client")).toBe(false);
    const configured = await loadedPackages({
      REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      METRICS_ENABLED: "true",
    });
    expect(configured.has("ioredis")).toBe(true);
    expect(configured.has("prom-client")).toBe(true);
  });

  it("a database command loads the database layer but not the server, the catalog or the drivers it does not use", async () => {
    const loaded = await modulesLoaded("keys", "list");
    const packages = packagesOf(loaded);
    expect(packages.has("kysely")).toBe(true);
    for (const heavy of ["fastify", "@fastify/swagger", "undici", "ajv", "ioredis", "prom-client", "pino"]) {
      expect(packages.has(heavy), heavy).toBe(false);
    }
    for (const own of [
      "dist/app.js",
      "dist/main.js",
      "dist/providers/catalog.js",
      "dist/webhooks/service.js",
    ]) {
      expect(loaded, own).not.toContain(own);
    }
  });
});
