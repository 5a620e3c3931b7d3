/**
 * SQLite beside other processes (a CLI command next to the server, a backup): a transaction
 * takes the write lock when it begins, so one that reads first and writes after is never
 * refused because another process committed in between.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type Db, migrateToLatest, openDatabase } from "../src/db/database.js";

describe("SQLite transactions beside another process", () => {
  let dir: string;
  let file: string;
  let db: Db;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "connect-hub-sqlite-locking-"));
    file = path.join(dir, "hub.sqlite");
    db = openDatabase(loadConfig({ DATABASE_URL: `file:${file}` }).database);
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hold the write lock from their start, so a read-then-write transaction commits", async () => {
    // The other process: no waiting, so a refusal shows at once.
    const other = new SQLite(file);
    other.pragma("busy_timeout = 0");
    try {
      await db.kysely.transaction().execute(async (trx) => {
        await trx.selectFrom("organizations").selectAll().execute();
        // Had the transaction begun deferred, this write would succeed and the write below
        // would then be refused (SQLITE_BUSY: its snapshot is older than the other's commit).
        expect(() =>
          other.prepare("insert into organizations (name, created_at) values ('other', 'now')").run(),
        ).toThrow(/locked|busy/i);
        await trx.insertInto("organizations").values({ name: "mine", created_at: "now" }).execute();
      });
    } finally {
      other.close();
    }
    const names = await db.kysely.selectFrom("organizations").select("name").execute();
    expect(names.map((row) => row.name)).toEqual(["mine"]);
  });
});
