/**
 * What the CLI refuses and how it says so: a database that is missing (nothing gets created),
 * unmigrated or unreachable; bad options, settings and ids; a port in use. Every report is one
 * line on stderr with a non-zero exit, the stack only with --debug or LOG_LEVEL=debug.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Migrator } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, pendingMigrations } from "../src/db/database.js";
import { migrationProvider } from "../src/db/migrations/index.js";
import { createTestPostgresDatabase, postgresAvailable, TEST_POSTGRES_URL } from "./support/postgres.js";
import { cli } from "./support/process.js";
import { freePort } from "./support/server.js";

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "connect-hub-cli-errors-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder of its own per test, with the environment of a CLI pointed into it. */
function sandbox(name: string) {
  const dir = path.join(root, name);
  const file = path.join(dir, "data", "hub.sqlite");
  return {
    dir,
    file,
    env: { DATABASE_URL: `file:${file}`, DATA_DIR: path.join(dir, "data"), LOG_LEVEL: "warn" },
  };
}

const oneLine = (stderr: string) => {
  expect(stderr.endsWith("\n")).toBe(true);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
};

describe("a database that does not exist", () => {
  it.each([
    ["keys list"],
    ["keys create --project p"],
    ["keys revoke key_x"],
    ["sessions create --owner-id o --owner-name O"],
    ["accounts list"],
    ["integrations enable ashby"],
    ["webhooks list"],
    ["secrets reseal"],
  ])("`%s` refuses it, naming the path, and creates nothing", async (command) => {
    const box = sandbox(command.replace(/\W+/g, "-"));
    const result = await cli(box.env, ...command.split(" "));
    expect(result).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `connect-hub: there is no database at ${box.file}: check DATABASE_URL (\`connect-hub migrate\` creates a new one)\n`,
    });
    expect(existsSync(box.dir)).toBe(false);
  });

  it("`db copy` refuses a missing --from and creates neither database", async () => {
    const box = sandbox("copy");
    const result = await cli(
      box.env,
      "db",
      "copy",
      "--from",
      `file:${path.join(box.dir, "typo.sqlite")}`,
      "--to",
      `file:${path.join(box.dir, "copy.sqlite")}`,
    );
    expect(result).toMatchObject({
      code: 1,
      stderr: `connect-hub: there is no database at ${path.join(box.dir, "typo.sqlite")}: check --from\n`,
    });
    expect(existsSync(box.dir)).toBe(false);
  });

  it("`providers` needs no database at all", async () => {
    const box = sandbox("providers");
    const result = await cli(box.env, "providers", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).length).toBeGreaterThan(40);
    expect(existsSync(box.dir)).toBe(false);
  });
});

describe("a database behind the code's schema", () => {
  it("is refused by every command but migrate, which says what it applied", async () => {
    const box = sandbox("behind");
    const db = openDatabase({ dialect: "sqlite", file: box.file });
    const migrator = new Migrator({ db: db.kysely, provider: migrationProvider("sqlite") });
    expect((await migrator.migrateTo("2026-11-25-0002-accounts")).error).toBeUndefined();
    // Every migration after the first two, in the order the code lists them.
    const pending = Object.keys(await migrationProvider("sqlite").getMigrations()).slice(2);
    await db.close();

    const refused = await cli(box.env, "keys", "list");
    expect(refused).toMatchObject({
      code: 1,
      stderr: `connect-hub: the database at ${box.file} needs ${pending.length} migration(s) (${pending.join(", ")}): run \`connect-hub migrate\` first\n`,
    });
    const reopened = openDatabase({ dialect: "sqlite", file: box.file });
    expect(await pendingMigrations(reopened)).toHaveLength(pending.length);
    await reopened.close();

    const migrated = await cli(box.env, "migrate");
    expect(migrated).toMatchObject({
      code: 0,
      stderr: `applied ${pending.length} migration(s) to ${box.file}: ${pending.join(", ")}\n`,
    });
    expect(await cli(box.env, "migrate")).toMatchObject({
      code: 0,
      stderr: `no migrations pending: ${box.file} is up to date\n`,
    });
  });

  it("refuses an empty file as having no tables, and one that is not SQLite", async () => {
    const box = sandbox("empty");
    const dataDir = path.dirname(box.file);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(box.file, "");
    const empty = await cli(box.env, "webhooks", "list");
    expect(empty).toMatchObject({
      code: 1,
      stderr: `connect-hub: the database at ${box.file} has no Connect Hub tables: run \`connect-hub migrate\` first\n`,
    });
    writeFileSync(box.file, "this is a text file, not a database\n".repeat(200));
    const notSqlite = await cli(box.env, "keys", "list");
    expect(notSqlite).toMatchObject({
      code: 1,
      stderr: `connect-hub: ${box.file} is not a SQLite database: check DATABASE_URL\n`,
    });
    expect(readdirSync(dataDir).filter((name) => name.endsWith(".key"))).toEqual([]);
  });
});

describe.skipIf(!postgresAvailable)("PostgreSQL that is missing, empty or unreachable", () => {
  const withDatabase = (name: string) => {
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/${name}`;
    return url.toString();
  };

  it("refuses a database that does not exist, and does not create it", async () => {
    const name = `connect_hub_typo_${Date.now()}`;
    const result = await cli({ DATABASE_URL: withDatabase(name) }, "keys", "list");
    const url = new URL(TEST_POSTGRES_URL);
    expect(result).toMatchObject({
      code: 1,
      stderr: `connect-hub: PostgreSQL database "${name}" does not exist on ${url.hostname}:${url.port || 5432}: create it (createdb ${name}), then run \`connect-hub migrate\`\n`,
    });
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    const found = await client.query("select 1 from pg_database where datname = $1", [name]);
    await client.end();
    expect(found.rowCount).toBe(0);
  });

  it("refuses an empty database without creating tables in it", async () => {
    const database = await createTestPostgresDatabase();
    try {
      const result = await cli({ DATABASE_URL: database.url }, "accounts", "list");
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/has no Connect Hub tables: run `connect-hub migrate` first\n$/);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const tables = await client.query(
        "select table_name from information_schema.tables where table_schema = 'public'",
      );
      await client.end();
      expect(tables.rows).toEqual([]);
    } finally {
      await database.drop();
    }
  });

  it("says PostgreSQL cannot be reached, from migrate, from serve and from any other command", async () => {
    const port = await freePort();
    const env = { DATABASE_URL: `postgres://hub:secret-password@127.0.0.1:${port}/hub`, PORT: "0" };
    const expected = `connect-hub: cannot reach PostgreSQL at 127.0.0.1:${port} (connection refused): check DATABASE_URL and that PostgreSQL is running\n`;
    const [migrate, serve, list] = await Promise.all([
      cli(env, "migrate"),
      cli(env, "serve"),
      cli(env, "webhooks", "list"),
    ]);
    for (const result of [migrate, serve, list]) {
      expect(result).toMatchObject({ code: 1, stderr: expected });
    }
  });
});

describe("error reports", () => {
  it("a bad option value is the option's fault, found before anything is opened", async () => {
    const box = sandbox("overlap");
    const result = await cli(box.env, "webhooks", "rotate-secret", "wh_1", "--overlap", "a day");
    expect(result).toMatchObject({
      code: 1,
      stderr:
        "connect-hub: option '--overlap <seconds>' argument 'a day' is invalid. It must be a whole number of seconds from 0 to 604800. (see `connect-hub webhooks rotate-secret --help`)\n",
    });
    expect(existsSync(box.dir)).toBe(false);
  });

  it("an unknown key id, with the stack only under --debug or LOG_LEVEL=debug", async () => {
    const box = sandbox("revoke");
    expect((await cli(box.env, "migrate")).code).toBe(0);
    const [plain, debug, debugLevel] = await Promise.all([
      cli(box.env, "keys", "revoke", "key_nope"),
      cli(box.env, "--debug", "keys", "revoke", "key_nope"),
      cli({ ...box.env, LOG_LEVEL: "debug" }, "keys", "revoke", "key_nope"),
    ]);
    const message =
      'connect-hub: there is no API key with id "key_nope": `connect-hub keys list` shows the ids\n';
    expect(plain).toMatchObject({ code: 1, stderr: message });
    oneLine(plain.stderr);
    for (const result of [debug, debugLevel]) {
      expect(result.code).toBe(1);
      expect(result.stderr.startsWith(message)).toBe(true);
      expect(result.stderr).toMatch(/^\s+at .+cli\.js/m);
    }
  });

  it("a bad setting names the variable and where they are all listed", async () => {
    const box = sandbox("setting");
    const result = await cli({ ...box.env, ORGANIZATION_ID_TYPE: "uuid" }, "keys", "list");
    expect(result).toMatchObject({
      code: 1,
      stderr:
        'connect-hub: ORGANIZATION_ID_TYPE must be one of string, number (got "uuid") (`connect-hub serve --help` lists every variable)\n',
    });
  });

  it("an unknown command", async () => {
    const result = await cli({}, "frobnicate");
    expect(result).toMatchObject({
      code: 1,
      stderr: "connect-hub: unknown command 'frobnicate' (see `connect-hub --help`)\n",
    });
  });

  describe("a port in use", () => {
    let taken: Server;
    let port: number;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      port = (taken.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

    it("is one line, and the server process exits", async () => {
      const box = sandbox("port");
      const result = await cli({ ...box.env, PORT: String(port), HOST: "127.0.0.1" }, "serve");
      expect(result).toMatchObject({
        code: 1,
        stderr: `connect-hub: port ${port} on 127.0.0.1 is already in use: stop the other server or set PORT to a free port\n`,
      });
    });
  });
});
