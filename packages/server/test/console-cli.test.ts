/**
 * `connect-hub console link`: the link alone on standard output, for a project or every
 * project, refusing an unknown project by name; the link it prints opens a session once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { ConsoleService } from "../src/console/service.js";
import { type Db, openDatabase } from "../src/db/database.js";
import { cli } from "./support/process.js";

const PUBLIC_URL = "https://hub.example.com";
let dir: string;
let env: NodeJS.ProcessEnv;
let db: Db;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "connect-hub-console-cli-"));
  env = {
    DATABASE_URL: `file:${path.join(dir, "hub.sqlite")}`,
    DATA_DIR: dir,
    LOG_LEVEL: "warn",
    PUBLIC_URL,
  };
  expect((await cli(env, "migrate")).code).toBe(0);
  expect((await cli(env, "keys", "create", "--project", "shop")).code).toBe(0);
  db = openDatabase(loadConfig(env as Record<string, string>).database);
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const tokenOf = (url: string) => new URL(url).searchParams.get("token") as string;

describe("connect-hub console link", () => {
  it("prints the link alone; it opens a session for the project, once", async () => {
    const run = await cli(env, "console", "link", "--project", "shop", "--role", "viewer");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^https:\/\/hub\.example\.com\/console\/sign-in\?token=chl_[A-Za-z0-9_-]{43}\n$/,
    );
    expect(run.stderr).toContain('viewer of project "shop"');
    const service = new ConsoleService(db.kysely, PUBLIC_URL);
    const from = { ip: "127.0.0.1", userAgent: undefined };
    const opened = await service.signInWithLink(tokenOf(run.stdout.trim()), from);
    expect(opened).toMatchObject({ role: "viewer", projectId: expect.stringMatching(/^proj_/) });
    expect(await service.signInWithLink(tokenOf(run.stdout.trim()), from)).toBeUndefined();
  });

  it("without --project opens every project; --json describes the link", async () => {
    const run = await cli(env, "console", "link", "--json");
    expect(run.code).toBe(0);
    const link = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(link).toMatchObject({ id: expect.stringMatching(/^link_/), role: "admin", project: null });
    const opened = await new ConsoleService(db.kysely, PUBLIC_URL).signInWithLink(
      tokenOf(link.url as string),
      {
        ip: "127.0.0.1",
        userAgent: undefined,
      },
    );
    expect(opened?.projectId).toBeNull();
  });

  it("refuses an unknown project by name, and a role that does not exist", async () => {
    const unknown = await cli(env, "console", "link", "--project", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain('no project "nope" in organization "default"');
    const badRole = await cli(env, "console", "link", "--role", "owner");
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain("admin or viewer");
  });
});

describe("CLI changes in the audit log", () => {
  it("keys create, rotate and revoke each record an event with actor type cli", async () => {
    const created = await cli(env, "keys", "create", "--project", "audited");
    expect(created.code).toBe(0);
    const keys = JSON.parse((await cli(env, "keys", "list", "--json")).stdout) as Array<{
      id: string;
      project: string;
      project_id: string;
    }>;
    const key = keys.find((k) => k.project === "audited");
    if (!key) throw new Error("no key for the audited project");
    expect((await cli(env, "keys", "rotate", key.id)).code).toBe(0);
    const rotatedTo = (JSON.parse((await cli(env, "keys", "list", "--json")).stdout) as typeof keys).find(
      (k) => k.project === "audited" && k.id !== key.id,
    );
    if (!rotatedTo) throw new Error("no rotated key");
    expect((await cli(env, "keys", "revoke", rotatedTo.id)).code).toBe(0);
    const events = await db.kysely
      .selectFrom("audit_events")
      .selectAll()
      .where("project_id", "=", key.project_id)
      .orderBy("occurred_at")
      .execute();
    expect(events.map((event) => [event.actor_type, event.action, event.target_id])).toEqual([
      ["cli", "api_key.created", key.id],
      ["cli", "api_key.rotated", key.id],
      ["cli", "api_key.revoked", rotatedTo.id],
    ]);
    expect(JSON.parse(events[1]?.details ?? "{}")).toEqual({ new_key_id: rotatedTo.id });
  });
});
