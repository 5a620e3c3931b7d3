/**
 * The direct lookups' reader (dialect.ts firstRowReader) answers exactly the row
 * better-sqlite3 would, built from a raw-mode statement, on a real SQLite file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { firstRowReader } from "../src/db/dialect.js";

const dir = mkdtempSync(path.join(tmpdir(), "connect-hub-first-row-"));
const sqlite = new SQLite(path.join(dir, "rows.sqlite"));
sqlite.exec(`create table things (id integer primary key, name text not null, size real, note text, data blob);
  insert into things values (1, 'one', 1.5, null, x'00ff'), (2, 'two', null, 'second', null);`);
afterAll(() => {
  sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("firstRowReader", () => {
  const read = firstRowReader(sqlite);
  const byId = "select * from things where id = ?";

  it("answers the row better-sqlite3 answers, key order and value types included", () => {
    for (const id of [1, 2]) {
      const expected = sqlite.prepare(byId).get(id) as Record<string, unknown>;
      const row = read(byId, [id]);
      expect(row).toEqual(expected);
      expect(Object.keys(row ?? {})).toEqual(Object.keys(expected));
    }
    expect(read(byId, [1])?.data).toBeInstanceOf(Buffer);
  });

  it("answers undefined when no row matches", () => {
    expect(read(byId, [3])).toBeUndefined();
  });

  it("gives each call a row of its own", () => {
    const first = read(byId, [1]) as Record<string, unknown>;
    first.name = "changed";
    expect(read(byId, [1])?.name).toBe("one");
  });

  it("keeps the last value of a column name that comes twice, as better-sqlite3 does", () => {
    const twice = "select name, note as name from things where id = ?";
    expect(read(twice, [2])).toEqual(sqlite.prepare(twice).get(2));
    expect(read(twice, [2])).toEqual({ name: "second" });
  });

  it("answers the new columns after another connection added or dropped one, once the schema is checked", () => {
    const other = new SQLite(path.join(dir, "rows.sqlite"));
    const all = "select * from things where id = ?";
    read.checkSchema();
    read(all, [1]);
    other.exec("alter table things add column colour text default 'blue'");
    read.checkSchema();
    expect(read(all, [1])).toEqual(sqlite.prepare(all).get(1));
    expect(read(all, [1])).toMatchObject({ name: "one", colour: "blue" });
    other.exec("alter table things drop column size");
    read.checkSchema();
    expect(read(all, [1])).toEqual(sqlite.prepare(all).get(1));
    expect(read(all, [1])).not.toHaveProperty("size");
    other.close();
  });

  it("answers the columns in their new order after another connection rebuilt the table with as many", () => {
    const other = new SQLite(path.join(dir, "rows.sqlite"));
    const all = "select * from things where id = ?";
    read.checkSchema();
    const before = read(all, [2]);
    other.exec(`create table things_new (note text, name text not null, id integer primary key, data blob, colour text);
      insert into things_new select note, name, id, data, colour from things;
      drop table things;
      alter table things_new rename to things;`);
    read.checkSchema();
    const after = read(all, [2]);
    expect(Object.keys(after ?? {})).toEqual(["note", "name", "id", "data", "colour"]);
    expect(after).toEqual(before);
    expect(after).toEqual(sqlite.prepare(all).get(2));
    other.close();
  });

  it("leaves the statements other code prepares in their own mode", () => {
    read(byId, [1]);
    expect(sqlite.prepare(byId).get(1)).toMatchObject({ id: 1, name: "one" });
  });
});
