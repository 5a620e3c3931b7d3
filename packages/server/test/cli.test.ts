/** The operator's CLI, run as a real process from the built package. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, freePort } from "./support/server.js";

const BIN = fileURLToPath(new URL("../bin/connect-hub.js", import.meta.url));
const run = promisify(execFile);
let dataDir: string;
let env: NodeJS.ProcessEnv;

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-cli-"));
  env = { ...process.env, DATABASE_URL: `sqlite:${path.join(dataDir, "hub.sqlite")}`, LOG_LEVEL: "warn" };
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("connect-hub CLI", () => {
  it("migrates an empty database", async () => {
    const result = await cli("migrate");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(await cli("migrate")).toMatchObject({ code: 0, stderr: "database is up to date\n" });
  });

  it("creates, lists and revokes keys", async () => {
    const created = await cli("keys", "create", "--project", "acme");
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(created.stdout).toMatch(/^chk_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toContain('project "acme"');

    const listed = await cli("keys", "list");
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(key);
    expect(listed.stdout).toContain(`${key.slice(0, 8)}...${key.slice(-4)}`);
    const keyId =
      listed.stdout
        .split("\n")
        .find((line) => line.includes("acme"))
        ?.split("\t")[0] ?? "";
    expect(keyId).toMatch(/^key_/);

    expect((await cli("keys", "revoke", keyId)).code).toBe(0);
    expect(await cli("keys", "list")).toMatchObject({ stdout: expect.stringContaining("revoked") });
    const again = await cli("keys", "revoke", keyId);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no active API key with id ${keyId}`);
  });

  it("refuses a bad setting with a clear message", async () => {
    const previous = env;
    env = { ...env, ORGANIZATION_ID_TYPE: "uuid" };
    const result = await cli("keys", "list");
    env = previous;
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'connect-hub: ORGANIZATION_ID_TYPE must be one of string, number (got "uuid")\n',
    );
  });

  it("rejects an unknown command", async () => {
    const result = await cli("frobnicate");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("frobnicate");
  });

  it("serves, accepts a key made by the CLI, and stops cleanly on SIGTERM", async () => {
    const key = (await cli("keys", "create")).stdout.trim();
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, [BIN, "serve"], {
      env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const response = await fetch(`${url}/connect_sessions`, {
      method: "POST",
      headers: { authorization: basicAuth(key), "content-type": "application/json" },
      body: JSON.stringify({ origin_owner_id: "cust-1", origin_owner_name: "Acme", categories: ["hris"] }),
    });
    expect(response.status).toBe(201);
    const session = await response.json();
    expect(session.auth_link_url).toBe(`http://localhost:${port}/connect?token=${session.token}`);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
