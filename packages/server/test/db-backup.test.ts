/**
 * `connect-hub db backup --to PATH` against a real server process that keeps creating sessions
 * while the backup runs: the backup is one consistent snapshot (every session acknowledged
 * before it began, and the committed sessions as a whole, never half a batch), a single file
 * readable by its owner only, and a server started on it (the restore) answers for a session
 * made before the backup. Refusals: an existing file, a missing folder, PostgreSQL.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRequest } from "./support/hub.js";
import { cli, type ServerProcess, startServerProcess, TEST_ENCRYPTION_KEY } from "./support/process.js";

let dataDir: string;
let backupsDir: string;
let env: NodeJS.ProcessEnv;
let server: ServerProcess | undefined;
let restored: ServerProcess | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "connect-hub-backup-"));
  backupsDir = path.join(dataDir, "backups");
  mkdirSync(backupsDir, { mode: 0o700 });
  env = {
    DATABASE_URL: `file:${path.join(dataDir, "hub.sqlite")}`,
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: "warn",
  };
  expect((await cli(env, "migrate")).code).toBe(0);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  await restored?.stop("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

describe("connect-hub db backup", () => {
  it("copies a running server's database as one snapshot, which a server can start from", async () => {
    const created = await cli(env, "keys", "create", "--project", "backup");
    expect(created.code, created.stderr).toBe(0);
    const apiKey = created.stdout.trim();
    server = await startServerProcess(env);
    const live = server;
    const createSession = async (n: number) => {
      const answer = await adminRequest(live, apiKey, "POST", "/connect_sessions", {
        origin_owner_id: `owner-${n}`,
        origin_owner_name: `Owner ${n}`,
      });
      expect(answer.status).toBe(201);
      return answer.body as unknown as { id: number; token: string };
    };
    const before = await Promise.all(Array.from({ length: 20 }, (_, n) => createSession(n)));

    // Ten clients keep creating sessions until the backup has finished.
    let backingUp = true;
    let during = 0;
    const writers = Array.from({ length: 10 }, async (_, client) => {
      for (let n = 0; backingUp; n++) {
        await createSession(1000 * (client + 1) + n);
        during++;
      }
    });
    const file = path.join(backupsDir, "hub-1.sqlite");
    const backup = await cli(env, "db", "backup", "--to", file);
    backingUp = false;
    await Promise.all(writers);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toMatch(/^backed up .*hub\.sqlite to .*hub-1\.sqlite \(\d+ KiB, checked\)\n$/);
    expect(during, "no session was created while the backup ran").toBeGreaterThan(0);

    // One file, no WAL beside it, readable by its owner only.
    expect(readdirSync(backupsDir)).toEqual(["hub-1.sqlite"]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const copy = new Database(file, { readonly: true });
    const ids = copy.prepare("select id from connect_sessions order by id").pluck().all() as number[];
    expect(copy.pragma("quick_check", { simple: true })).toBe("ok");
    copy.close();
    for (const session of before) expect(ids).toContain(session.id);
    // A snapshot: committed sessions are whole group commits in id order, so a prefix of ids.
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, index) => index + 1));

    // The restore: the file put in place of a database, a server there answers for a session
    // made before the backup.
    const restoredDir = path.join(dataDir, "restored");
    mkdirSync(restoredDir, { mode: 0o700 });
    copyFileSync(file, path.join(restoredDir, "hub.sqlite"));
    restored = await startServerProcess({
      ...env,
      DATABASE_URL: `file:${path.join(restoredDir, "hub.sqlite")}`,
    });
    const authenticated = await adminRequest(restored, apiKey, "POST", "/connect_sessions/authenticate", {
      token: before[0]?.token,
    });
    expect(authenticated.status).toBe(201);
    expect(authenticated.body).toMatchObject({ id: before[0]?.id, origin_owner_id: "owner-0" });
  });

  it("never overwrites a file, and says what to do for a missing folder or PostgreSQL", async () => {
    const existing = path.join(backupsDir, "hub-1.sqlite");
    const sizeBefore = statSync(existing).size;
    const again = await cli(env, "db", "backup", "--to", existing);
    expect(again).toMatchObject({ code: 1, stdout: "" });
    expect(again.stderr).toBe(
      `connect-hub: ${existing} already exists: a backup never overwrites a file; choose a new name\n`,
    );
    expect(statSync(existing).size).toBe(sizeBefore);

    // An option where the path belongs is refused, not taken for a file name.
    const optionAsPath = await cli({ ...env }, "db", "backup", "--to", "--help");
    expect(optionAsPath.code).toBe(1);
    expect(optionAsPath.stderr).toMatch(/--to needs the path of the new file, not an option \(--help\)/);

    const missing = path.join(dataDir, "no-such-folder", "hub.sqlite");
    const noFolder = await cli(env, "db", "backup", "--to", missing);
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toMatch(/the folder .*no-such-folder does not exist: create it first/);

    const postgres = await cli(
      { ...env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" },
      "db",
      "backup",
      "--to",
      path.join(backupsDir, "pg.sqlite"),
    );
    expect(postgres.code).toBe(1);
    expect(postgres.stderr).toMatch(/back up PostgreSQL with pg_dump/);
    expect(readdirSync(backupsDir)).toEqual(["hub-1.sqlite"]);
  });
});
