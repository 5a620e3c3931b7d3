/**
 * The SQLite database holds sealed credentials and token hashes: the folder the server
 * creates for it is 0700, the database and its WAL and shared-memory files 0600, whatever the
 * process umask allows.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { migrateToLatest, openDatabase } from "../src/db/database.js";
import { TenancyService } from "../src/tenancy/service.js";

const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe("SQLite file modes", () => {
  const root = mkdtempSync(path.join(tmpdir(), "connect-hub-modes-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("creates the data folder 0700 and the database, WAL and SHM files 0600", async () => {
    // The most permissive umask: nothing may rely on it.
    const previous = process.umask(0);
    try {
      const file = path.join(root, "data", "nested", "hub.sqlite");
      const db = openDatabase({ dialect: "sqlite", file });
      try {
        await migrateToLatest(db);
        await new TenancyService(db.kysely).createApiKey({ project: "p", organization: "o" });
        expect(modeOf(path.join(root, "data"))).toBe("700");
        expect(modeOf(path.join(root, "data", "nested"))).toBe("700");
        for (const suffix of ["", "-wal", "-shm"])
          expect(modeOf(`${file}${suffix}`), suffix || "db").toBe("600");
      } finally {
        await db.close();
      }
    } finally {
      process.umask(previous);
    }
  });
});
