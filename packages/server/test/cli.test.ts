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

/** Runs the CLI with `input` on standard input. */
function cliWithInput(input: string, ...args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-cli-"));
  env = {
    ...process.env,
    DATABASE_URL: `sqlite:${path.join(dataDir, "hub.sqlite")}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
  };
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

    const rotated = await cli("keys", "rotate", keyId);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^chk_[A-Za-z0-9_-]{43}\n$/);
    expect(rotated.stderr).toContain(`revoked ${keyId}`);
    expect((await cli("keys", "revoke", keyId)).code).toBe(1);
    const rotatedId = (await cli("keys", "list")).stdout
      .split("\n")
      .find((line) => line.includes(`${rotated.stdout.slice(0, 8)}...`))
      ?.split("\t")[0] as string;
    expect((await cli("keys", "revoke", rotatedId)).code).toBe(0);
    expect(await cli("keys", "list")).toMatchObject({ stdout: expect.stringContaining("revoked") });
    const again = await cli("keys", "revoke", rotatedId);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no active API key with id ${rotatedId}`);
  });

  it("lists providers and manages integrations and allowed origins", async () => {
    const providers = await cli("providers", "--category", "hris");
    expect(providers.code).toBe(0);
    expect(providers.stdout).toMatch(/^KEY\tNAME\tAUTH\tCATEGORIES\tVERIFIES\n/);
    expect(providers.stdout).toContain("bamboohr\tBambooHR\tapi_key\thris");
    // The sandbox is on outside production, and says it verifies credentials.
    expect(providers.stdout).toContain("sandbox-api-key\tSandbox (API key)\tapi_key\thris,ats,crm\tyes");
    const noVerify = await cli(
      "integrations",
      "enable",
      "sandbox-api-key",
      "--no-verify",
      "--project",
      "cli-p",
    );
    expect(noVerify.stdout).toContain("sandbox-api-key\tapi_key\tenabled\tready\t-\toff");
    const kept = await cli("integrations", "enable", "sandbox-api-key", "--project", "cli-p");
    expect(kept.stdout).toContain("sandbox-api-key\tapi_key\tenabled\tready\t-\toff");
    expect(providers.stdout).not.toContain("greenhouse");

    expect((await cli("integrations", "enable", "bamboohr", "--project", "cli-p")).code).toBe(0);
    const refused = await cli("integrations", "enable", "hubspot", "--project", "cli-p");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("set client_id and client_secret");
    const enabled = await cliWithInput(
      "hub-secret-from-stdin\n",
      "integrations",
      "enable",
      "hubspot",
      "--client-id",
      "hub-client",
      "--client-secret-stdin",
      "--scopes",
      "crm.objects.contacts.read, oauth",
      "--project",
      "cli-p",
    );
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toContain("hubspot\toauth2\tenabled\tready\thub-client");
    expect(enabled.stdout + enabled.stderr).not.toContain("hub-secret-from-stdin");
    expect((await cli("integrations", "disable", "bamboohr", "--project", "cli-p")).code).toBe(0);
    const listed = await cli("integrations", "list", "--project", "cli-p");
    const [bamboohr, hubspot] = listed.stdout.split("\n").slice(1, 3);
    expect(bamboohr).toMatch(/^bamboohr\tapi_key\tdisabled\tnot ready\t-\t/);
    expect(hubspot).toMatch(/^hubspot\toauth2\tenabled\tready\thub-client\t/);
    expect((await cli("integrations", "remove", "bamboohr", "--project", "cli-p")).code).toBe(0);
    expect((await cli("integrations", "list", "--project", "cli-p")).stdout).not.toContain("bamboohr");
    expect((await cli("integrations", "enable", "nope", "--project", "cli-p")).stderr).toContain(
      "not in the catalog",
    );

    const origins = await cli("projects", "set-origins", "https://app.example.com", "--project", "cli-p");
    expect(origins).toMatchObject({ code: 0, stdout: "https://app.example.com\n" });
    expect(
      (await cli("projects", "set-origins", "https://app.example.com/path", "--project", "cli-p")).code,
    ).toBe(1);
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
