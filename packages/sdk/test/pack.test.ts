/**
 * The published artefact: builds the SDK, packs it with `npm pack`, installs the tarball into
 * a fresh project (offline: the package has no dependencies), and checks that ES module and
 * CommonJS consumers both load it and talk to a server with it, and that TypeScript resolves
 * its types for both.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATED, type StubServer, startStubServer } from "./support/stub-server.js";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

let workDir: string;
let consumerDir: string;
let stub: StubServer;

const execFileAsync = promisify(execFile);

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" },
  });
}

/** Runs a consumer script without blocking this process, which serves the stub it calls. */
async function runConsumer(script: string): Promise<Record<string, unknown>> {
  const { stdout } = await execFileAsync(process.execPath, [script], {
    cwd: consumerDir,
    env: { ...process.env, SERVER_URL: stub.url },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), "connect-hub-sdk-pack-"));
  run(process.execPath, [path.join(packageDir, "scripts/build.mjs")], packageDir);
  run(npm, ["pack", "--pack-destination", workDir], packageDir);
  const tarball = readdirSync(workDir).find((file) => file.endsWith(".tgz"));
  if (!tarball) throw new Error("npm pack produced no tarball");

  consumerDir = path.join(workDir, "consumer");
  mkdirSync(consumerDir);
  writeFileSync(path.join(consumerDir, "package.json"), JSON.stringify({ name: "consumer", private: true }));
  run(npm, ["install", "--offline", "--no-package-lock", path.join(workDir, tarball)], consumerDir);
  stub = await startStubServer(() => CREATED);
}, 60_000);

afterAll(async () => {
  await stub?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** A consumer script: loads the SDK, checks its classes, creates a session against the stub. */
function consumerScript(load: string): string {
  return `${load}
const hub = new sdk.ConnectHub({ serverURL: process.env.SERVER_URL, retryConfig: { strategy: "none" } });
hub.connectSessions
  .createConnectSession({ originOwnerId: "cust-1", originOwnerName: "Acme", categories: [sdk.Categories.Hris] })
  .then((res) => {
    const link = res.connectSessionTokenAuthLink;
    const error = new sdk.UnauthorizedResponse({ message: "m" }, { response: new Response("{}"), body: "{}" });
    console.log(JSON.stringify({
      status: res.statusCode,
      token: link.token,
      createdAtIsDate: link.createdAt instanceof Date,
      errorChain: error instanceof sdk.ApiErrorResponse && error instanceof sdk.ConnectHubError,
      errorName: error.name,
      accounts: typeof hub.accounts.listLinkedAccounts + " " + sdk.AccountStatus.Active,
      exports: Object.keys(sdk).sort(),
    }));
  });
`;
}

const EXPECTED_RESULT = {
  status: 201,
  token: "chs_stub",
  createdAtIsDate: true,
  errorChain: true,
  errorName: "UnauthorizedResponse",
  accounts: "function active",
};

describe("the packed package", () => {
  it("contains the ESM and CommonJS builds, their types, and no tests", () => {
    const files = run(npm, ["pack", "--dry-run", "--json"], packageDir);
    const paths =
      (JSON.parse(files) as { files: { path: string }[] }[])[0]?.files.map((file) => file.path) ?? [];
    for (const expected of [
      "package.json",
      "README.md",
      "dist/esm/index.js",
      "dist/esm/index.d.ts",
      "dist/cjs/index.js",
      "dist/cjs/index.d.ts",
      "dist/cjs/package.json",
    ]) {
      expect(paths).toContain(expected);
    }
    expect(paths.some((file) => file.startsWith("test/") || file.startsWith("examples/"))).toBe(false);
  });

  it("works from an ES module (import)", async () => {
    writeFileSync(
      path.join(consumerDir, "esm.mjs"),
      consumerScript('import * as sdk from "@connect-hub/sdk";'),
    );
    const output = await runConsumer("esm.mjs");
    expect(output).toMatchObject(EXPECTED_RESULT);
    expect(output.exports).toContain("ConnectHub");
  });

  it("works from CommonJS (require)", async () => {
    writeFileSync(
      path.join(consumerDir, "cjs.cjs"),
      consumerScript('const sdk = require("@connect-hub/sdk");'),
    );
    const output = await runConsumer("cjs.cjs");
    expect(output).toMatchObject(EXPECTED_RESULT);
    expect(output.exports).toContain("ConnectHub");
  });

  it("resolves its types for ES module and CommonJS TypeScript consumers", () => {
    const typed = `
import { AccountStatus, Categories, ConnectHub, type ConnectSessionTokenAuthLink, UnauthorizedResponse } from "@connect-hub/sdk";
export async function create(apiKey: string): Promise<ConnectSessionTokenAuthLink> {
  const hub = new ConnectHub({ serverURL: "http://localhost:4000", security: { username: apiKey, password: "" } });
  // @ts-expect-error an unknown category does not compile, so the types are not \`any\`
  await hub.connectSessions.createConnectSession({ originOwnerId: "c", originOwnerName: "A", categories: ["nope"] });
  const res = await hub.connectSessions.createConnectSession({
    originOwnerId: "c", originOwnerName: "A", categories: [Categories.Hris],
  });
  const createdAt: Date = res.connectSessionTokenAuthLink.createdAt;
  // @ts-expect-error an unknown status does not compile
  await hub.accounts.listLinkedAccounts({ status: ["nope"] });
  const { linkedAccounts } = await hub.accounts.listLinkedAccounts({ status: [AccountStatus.Active] });
  const updatedAt: Date | undefined = linkedAccounts[0]?.updatedAt;
  try {
    await hub.connectSessions.authenticateConnectSession({ token: res.connectSessionTokenAuthLink.token });
  } catch (error) {
    if (error instanceof UnauthorizedResponse) throw new Error(\`\${error.statusCode} at \${createdAt.toISOString()} \${updatedAt}\`);
  }
  return res.connectSessionTokenAuthLink;
}
`;
    writeFileSync(path.join(consumerDir, "typed.mts"), typed);
    writeFileSync(path.join(consumerDir, "typed.cts"), typed);
    writeFileSync(
      path.join(consumerDir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2022", "DOM"],
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ["typed.mts", "typed.cts"],
      }),
    );
    const typecheck = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json"], {
      cwd: consumerDir,
      encoding: "utf8",
    });
    expect(typecheck.stdout).toBe("");
    expect(typecheck.status).toBe(0);
  });
});
