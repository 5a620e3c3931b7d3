/**
 * The direct lookups of one event-loop turn share one SQLite read transaction (dialect.ts
 * turnReadTransaction), on a real file with a second connection beside it: the snapshot lasts
 * no longer than the turn, and nothing this process writes ever lands inside it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type Db, migrateToLatest, openDatabase } from "../src/db/database.js";
import { preparedLookup } from "../src/db/prepared.js";

const organizationNamed = preparedLookup((db, name: string) =>
  db.selectFrom("organizations").selectAll().where("name", "=", name),
);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("lookups of one turn", () => {
  let dir: string;
  let file: string;
  let db: Db;
  let other: SQLite.Database;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "connect-hub-turn-read-"));
    file = path.join(dir, "hub.sqlite");
    db = openDatabase(loadConfig({ DATABASE_URL: `file:${file}` }).database);
    await migrateToLatest(db);
    other = new SQLite(file);
  });
  afterAll(async () => {
    other.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const otherSees = (name: string) =>
    other.prepare("select count(*) as n from organizations where name = ?").get(name) as { n: number };

  it("read one snapshot, which ends with the turn", async () => {
    await nextTurn();
    expect(await organizationNamed(db.kysely, "beside")).toBeUndefined();
    // Another process commits while this turn's lookups are being served.
    other.prepare("insert into organizations (name, created_at) values ('beside', 'now')").run();
    expect(await organizationNamed(db.kysely, "beside")).toBeUndefined();
    await nextTurn();
    expect(await organizationNamed(db.kysely, "beside")).toMatchObject({ name: "beside" });
  });

  it("end before this process writes, so an answered write is committed, not held in the read", async () => {
    await nextTurn();
    expect(await organizationNamed(db.kysely, "mine")).toBeUndefined();
    await db.kysely.insertInto("organizations").values({ name: "mine", created_at: "now" }).execute();
    // Still the same turn: had the insert run inside the read transaction, it would not be
    // committed yet, and another connection would not see it.
    expect(otherSees("mine").n).toBe(1);
    expect(await organizationNamed(db.kysely, "mine")).toMatchObject({ name: "mine" });
  });

  it("end before a transaction of this process begins, and wait while one holds the connection", async () => {
    await nextTurn();
    expect(await organizationNamed(db.kysely, "in-transaction")).toBeUndefined();
    let lookupDuring: Promise<unknown> | undefined;
    await db.kysely.transaction().execute(async (trx) => {
      await trx.insertInto("organizations").values({ name: "in-transaction", created_at: "now" }).execute();
      // Outside the transaction: waits its turn behind it, then sees its commit.
      lookupDuring = organizationNamed(db.kysely, "in-transaction");
    });
    expect(await lookupDuring).toMatchObject({ name: "in-transaction" });
    expect(otherSees("in-transaction").n).toBe(1);
  });

  it("never keep another process from writing", async () => {
    await nextTurn();
    await organizationNamed(db.kysely, "anyone");
    other.pragma("busy_timeout = 0");
    expect(() =>
      other.prepare("insert into organizations (name, created_at) values ('writer', 'now')").run(),
    ).not.toThrow();
  });

  it("let the database close with the turn's read open", async () => {
    const second = openDatabase(loadConfig({ DATABASE_URL: `file:${file}` }).database);
    await organizationNamed(second.kysely, "anyone");
    await second.close();
    // The turn's end, after the close, has nothing left to end.
    await nextTurn();
  });

  // Last: it changes the table the others read.
  it("answer the columns of a schema another process changed between turns, in their new order", async () => {
    await nextTurn();
    await db.kysely.insertInto("organizations").values({ name: "rebuilt", created_at: "then" }).execute();
    expect(await organizationNamed(db.kysely, "rebuilt")).toMatchObject({
      name: "rebuilt",
      created_at: "then",
    });
    // A migration run beside the server: the table rebuilt with the same columns, reordered.
    other.exec(`create table organizations_new (created_at text not null, name text not null, id integer primary key autoincrement);
      insert into organizations_new (created_at, name, id) select created_at, name, id from organizations;
      drop table organizations;
      alter table organizations_new rename to organizations;`);
    await nextTurn();
    const row = await organizationNamed(db.kysely, "rebuilt");
    expect(row).toMatchObject({ name: "rebuilt", created_at: "then" });
    expect(Object.keys(row ?? {})).toEqual(["created_at", "name", "id"]);
  });
});
