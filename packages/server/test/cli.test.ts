/**
 * The operator's CLI, run as a real process from the built package, on one SQLite database
 * per file. Each test starts only a few processes, so a busy machine cannot push it past its
 * timeout (refusals and error reports are in cli-errors.test.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { ENVIRONMENT_VARIABLES } from "../src/config-variables.js";
import { parseEncryptionKeys, SecretBox } from "../src/crypto/secrets.js";
import { type Db, openDatabase } from "../src/db/database.js";
import { TenancyService } from "../src/tenancy/service.js";
import { systemClock } from "../src/time.js";
import { WebhookService, webhookRules } from "../src/webhooks/service.js";
import { adminRequest, submitCredentials } from "./support/hub.js";
import { BIN, cliWithInput, cli as runCli, TEST_ENCRYPTION_KEY } from "./support/process.js";
import { basicAuth, freePort, startTestServer, type TestServer } from "./support/server.js";

let dataDir: string;
let env: NodeJS.ProcessEnv;
/** The CLI's database opened in the test too, for setup that is not what a test is about. */
let db: Db;
const cli = (...args: string[]) => runCli(env, ...args);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-cli-"));
  env = {
    DATABASE_URL: `sqlite:${path.join(dataDir, "hub.sqlite")}`,
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: "warn",
  };
  const migrated = await cli("migrate");
  expect(migrated.code, migrated.stderr).toBe(0);
  db = openDatabase(loadConfig(env).database);
  // The projects the integrations and settings commands below work on (keys create makes them).
  for (const project of ["cli-p", "cli-q", "cli-r"]) await keyFor(project);
});
afterAll(async () => {
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A key made in the test (not through the CLI), with its id. */
const keyFor = (project: string) => new TenancyService(db.kysely).createApiKey({ project });

/** Internal ids (`key_...`, `proj_...`) that the operator did not type have no place in a message. */
const expectNoInternalIds = (text: string) => expect(text).not.toMatch(/\b(?:key|proj)_[A-Za-z0-9_-]{8,}/);

describe("connect-hub CLI", () => {
  it("prints its version, and serve --help lists every environment variable", async () => {
    const version = await cli("--version");
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(version).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });

    const help = await cli("serve", "--help");
    expect(help.code).toBe(0);
    for (const variable of ENVIRONMENT_VARIABLES) {
      const line = help.stdout.split("\n").find((text) => text.startsWith(`  ${variable.name} `));
      expect(line, variable.name).toContain(variable.description);
    }
    expect(help.stdout).toMatch(/^ {2}PORT +the HTTP port \(default 4000\)$/m);
  });

  it("creates and lists keys, showing a key only once and only by its ends", async () => {
    const created = await cli("keys", "create", "--project", "acme");
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(created.stdout).toMatch(/^chk_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toBe(
      `created the API key ${key.slice(0, 8)}...${key.slice(-4)} for project "acme" in organization "default"; it is shown only once\n`,
    );

    const listed = await cli("keys", "list");
    expect(listed.stdout).not.toContain(key);
    expect(listed.stdout).toMatch(/^ID\tPROJECT\tKEY\tCREATED\tSTATUS\n/);
    expect(listed.stdout).toContain(`\tacme\t${key.slice(0, 8)}...${key.slice(-4)}\t`);

    const json = await cli("keys", "list", "--json");
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(rows.find((row) => row.project === "acme")).toEqual({
      id: expect.stringMatching(/^key_/),
      project: "acme",
      project_id: expect.stringMatching(/^proj_/),
      key: `${key.slice(0, 8)}...${key.slice(-4)}`,
      created_at: expect.stringMatching(/Z$/),
      revoked_at: null,
    });
    expect(json.stdout).not.toContain(key);
  });

  it("rotates and revokes keys by id, saying which key in words the operator recognises", async () => {
    const { key, id: keyId } = await keyFor("rotating");

    const rotated = await cli("keys", "rotate", keyId);
    expect(rotated.code).toBe(0);
    const newKey = rotated.stdout.trim();
    expect(rotated.stdout).toMatch(/^chk_[A-Za-z0-9_-]{43}\n$/);
    expect(rotated.stderr).toBe(
      `revoked ${key.slice(0, 8)}...${key.slice(-4)} and created ${newKey.slice(0, 8)}...${newKey.slice(-4)} for project "rotating"; the new key is shown only once\n`,
    );
    const again = await cli("keys", "revoke", keyId);
    expect(again).toMatchObject({ code: 1, stdout: "" });
    expect(again.stderr).toMatch(
      /^connect-hub: the API key chk_.{4}\.\.\..{4} was already revoked at .+Z\n$/,
    );
    expectNoInternalIds(rotated.stderr + again.stderr);
  });

  it("revokes a key, after which the list says so", async () => {
    const { key, id: keyId } = await keyFor("revoking");
    const revoked = await cli("keys", "revoke", keyId);
    expect(revoked).toMatchObject({
      code: 0,
      stderr: `revoked the API key ${key.slice(0, 8)}...${key.slice(-4)} of project "revoking"\n`,
    });
    const after = JSON.parse((await cli("keys", "list", "--json")).stdout) as Array<Record<string, string>>;
    expect(after.find((row) => row.id === keyId)?.revoked_at).toMatch(/Z$/);
  });

  it("lists the provider catalog, as a table or JSON", async () => {
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
    const json = JSON.parse((await cli("providers", "--json")).stdout) as Array<Record<string, unknown>>;
    expect(json.find((p) => p.key === "hubspot")).toEqual({
      key: "hubspot",
      name: "HubSpot",
      auth_type: "oauth2",
      categories: ["crm", "marketing"],
      verification: true,
    });
  });

  it("enables integrations, naming the CLI's flags when something is missing", async () => {
    expect((await cli("integrations", "enable", "bamboohr", "--project", "cli-p")).code).toBe(0);
    const refused = await cli("integrations", "enable", "hubspot", "--project", "cli-p");
    expect(refused).toMatchObject({
      code: 1,
      stderr:
        "connect-hub: HubSpot uses OAuth2: pass --client-id ID and --client-secret-stdin (from your HubSpot app) to enable it\n",
    });
  });

  it("enables an OAuth2 integration with its secret from standard input", async () => {
    const enabled = await cliWithInput(
      env,
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
  });

  it("refuses a provider that is not in the catalog", async () => {
    const unknown = await cli("integrations", "enable", "nope", "--project", "cli-p");
    expect(unknown).toMatchObject({
      code: 1,
      stderr: 'connect-hub: there is no provider "nope" in the catalog: `connect-hub providers` lists them\n',
    });
  });

  it("disables an integration, which the list then shows", async () => {
    expect((await cli("integrations", "enable", "ashby", "--project", "cli-q")).code).toBe(0);
    expect((await cli("integrations", "disable", "ashby", "--project", "cli-q")).code).toBe(0);
    const listed = await cli("integrations", "list", "--project", "cli-q", "--json");
    // A new project also offers the sandbox providers (on outside production).
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows.filter((row) => !String(row.provider).startsWith("sandbox-"))).toEqual([
      expect.objectContaining({ provider: "ashby", enabled: false, ready: false, client_secret_set: false }),
    ]);
  });

  it("removes an integration", async () => {
    expect((await cli("integrations", "enable", "ashby", "--project", "cli-r")).code).toBe(0);
    expect((await cli("integrations", "remove", "ashby", "--project", "cli-r")).code).toBe(0);
    const listed = (await cli("integrations", "list", "--project", "cli-r")).stdout.split("\n");
    expect(listed[0]).toBe("PROVIDER\tAUTH\tSTATE\tREADY\tCLIENT_ID\tVERIFY");
    expect(listed.filter((line) => line.startsWith("ashby"))).toEqual([]);
  });

  it("refuses a project that does not exist rather than creating it, for reads and changes alike", async () => {
    const projectNames = async () =>
      (await db.kysely.selectFrom("projects").select("name").execute()).map((row) => row.name).sort();
    const before = await projectNames();
    const refusal =
      'connect-hub: no project "cli-typo" in organization "default": check --project and --organization (`connect-hub keys create` makes one)\n';
    for (const command of [
      ["integrations", "list"],
      ["integrations", "enable", "bamboohr"],
      ["integrations", "disable", "bamboohr"],
      ["projects", "set-origins", "https://app.example.com"],
    ]) {
      const refused = await cli(...command, "--project", "cli-typo");
      expect(refused, command.join(" ")).toMatchObject({ code: 1, stdout: "", stderr: refusal });
    }
    expect(await projectNames()).toEqual(before);
  });

  it("sets allowed origins, refusing what is not an exact origin", async () => {
    const origins = await cli("projects", "set-origins", "https://app.example.com", "--project", "cli-p");
    expect(origins).toMatchObject({ code: 0, stdout: "https://app.example.com\n" });
    const refused = await cli(
      "projects",
      "set-origins",
      "https://app.example.com/path",
      "--project",
      "cli-p",
    );
    expect(refused).toMatchObject({
      code: 1,
      stderr:
        "connect-hub: each entry must be an exact origin (scheme://host[:port], no path or trailing slash)\n",
    });
  });

  it("serves, accepts a key made by the CLI, and stops cleanly on SIGTERM", async () => {
    const key = (await cli("keys", "create")).stdout.trim();
    const port = await freePort();
    const child: ChildProcess = spawn(process.execPath, [BIN, "serve"], {
      env: {
        ...process.env,
        ...env,
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
        PORT: String(port),
        HOST: "127.0.0.1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Waits for the server to say it listens (or to exit), however long a busy machine takes.
    let output = "";
    await new Promise<void>((resolve) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
        if (output.includes('"msg":"Connect Hub is listening"')) resolve();
      });
      void exited.then(() => resolve());
    });
    expect(child.exitCode, output).toBeNull();
    const url = `http://127.0.0.1:${port}`;
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

describe("support commands: sessions and accounts", () => {
  let server: TestServer;
  let supportEnv: NodeJS.ProcessEnv;
  let connectedAccountId: string;
  const support = (...args: string[]) => runCli(supportEnv, ...args);

  beforeAll(async () => {
    server = await startTestServer({ env: { ENCRYPTION_KEY: TEST_ENCRYPTION_KEY } });
    const apiKey = await server.createApiKey("support");
    await adminRequest(server, apiKey, "PUT", "/integrations/ashby", { verify_credentials: false });
    supportEnv = {
      DATABASE_URL: server.databaseUrl,
      DATA_DIR: server.dataDir,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      PUBLIC_URL: server.url,
      LOG_LEVEL: "warn",
    };
  });
  afterAll(() => server.close());

  it("creates a session whose auth link connects an account", async () => {
    const created = await support(
      "sessions",
      "create",
      "--owner-id",
      "cust-9",
      "--owner-name",
      "Acme Ltd",
      "--provider",
      "ashby",
      "--label",
      "from support",
      "--project",
      "support",
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`^${server.url}/connect\\?token=chs_[A-Za-z0-9_-]{43}\\n$`));
    expect(created.stderr).toMatch(
      /^created connect session \d+ for "Acme Ltd" \(cust-9\) in project "support"; the link works until .+Z\n$/,
    );
    const token = new URL(created.stdout.trim()).searchParams.get("token") as string;
    const connected = await submitCredentials(server, token, "ashby", { api_key: "ashby-secret-key-123" });
    expect(connected.status).toBe(201);
    const accountId = (connected.body.account as { id: string }).id;

    connectedAccountId = accountId;
  });

  it("lists the connected account as a table, or JSON with filters, never with credentials", async () => {
    const accountId = connectedAccountId;
    const table = await support("accounts", "list", "--project", "support", "--owner-id", "cust-9");
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split("\n")[0]).toBe("ID\tPROVIDER\tSTATUS\tOWNER_ID\tOWNER_NAME\tLABEL\tCREATED");
    expect(table.stdout).toContain(`${accountId}\tashby\tactive\tcust-9\tAcme Ltd\tfrom support\t`);
    const json = await support("accounts", "list", "--project", "support", "--json", "--status", "active");
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        id: accountId,
        provider: "ashby",
        origin_owner_id: "cust-9",
        label: "from support",
      }),
    ]);
    expect(json.stdout).not.toContain("ashby-secret-key-123");
    const none = await support(
      "accounts",
      "list",
      "--project",
      "support",
      "--owner-id",
      "someone-else",
      "--json",
    );
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it("prints the whole session with --json, and refuses bad input naming the flag", async () => {
    const json = await support(
      "sessions",
      "create",
      "--owner-id",
      "cust-10",
      "--owner-name",
      "Beta",
      "--categories",
      "hris,ats",
      "--expires-in",
      "600",
      "--metadata",
      '{"plan":"gold"}',
      "--project",
      "support",
      "--json",
    );
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      origin_owner_id: "cust-10",
      categories: ["hris", "ats"],
      metadata: { plan: "gold" },
      status: "pending",
      token: expect.stringMatching(/^chs_/),
      auth_link_url: expect.stringContaining("/connect?token=chs_"),
    });
    const badCategory = await support(
      "sessions",
      "create",
      "--owner-id",
      "c",
      "--owner-name",
      "C",
      "--categories",
      "hris,nonsense",
      "--project",
      "support",
    );
    expect(badCategory.code).toBe(1);
    expect(badCategory.stderr).toMatch(
      /^connect-hub: --categories: must be one of ats, hris, .+ \(got "nonsense"\)\n$/,
    );
    const badStatus = await support("accounts", "list", "--project", "support", "--status", "sleeping");
    expect(badStatus).toMatchObject({
      code: 1,
      stderr:
        'connect-hub: --status: must be one of active, inactive, suspended, archived, expired, error (got "sleeping")\n',
    });
  });

  it("refuses a project that does not exist instead of creating it", async () => {
    const result = await support(
      "sessions",
      "create",
      "--owner-id",
      "c",
      "--owner-name",
      "C",
      "--project",
      "typo",
    );
    expect(result).toMatchObject({
      code: 1,
      stderr:
        'connect-hub: no project "typo" in organization "default": check --project and --organization (`connect-hub keys create` makes one)\n',
    });
    const accounts = await support("accounts", "list", "--project", "typo");
    expect(accounts.code).toBe(1);
    const tenants = await server.db.kysely.selectFrom("projects").select("name").execute();
    expect(tenants.map((t) => t.name)).not.toContain("typo");
  });
});

describe("webhook listings", () => {
  it("lists endpoints and attempts as tables or JSON, never with a secret", async () => {
    const { project } = await keyFor("hooks");
    const secrets = new SecretBox(parseEncryptionKeys(TEST_ENCRYPTION_KEY));
    const { secret } = await new WebhookService(
      db.kysely,
      secrets,
      systemClock,
      webhookRules(loadConfig(env), db.dialect),
    ).create(project.id, { url: "https://hooks.example.com/in", events: ["*"] });
    const listed = await cli("webhooks", "list", "--project", "hooks", "--json");
    const [endpoint] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(endpoint).toMatchObject({ url: "https://hooks.example.com/in", events: ["*"], enabled: true });
    expect(listed.stdout).not.toContain(secret);
    const attempts = await cli("webhooks", "attempts", String(endpoint?.id), "--project", "hooks", "--json");
    expect(attempts).toMatchObject({ code: 0, stdout: "[]\n" });
  });
});
