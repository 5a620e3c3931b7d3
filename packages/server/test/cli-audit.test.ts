/**
 * Every CLI command that changes the database records one audit event with actor type `cli`
 * and the action the admin API declares for the same change. Each command runs once, as a real
 * process, against one SQLite file; everything else (migrating, the project, the delivery to
 * replay) is set up in this process so the file pays for as few CLI starts as possible.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { loadSecretBox } from "../src/crypto/keyring.js";
import { type Db, migrateToLatest, openDatabase } from "../src/db/database.js";
import type { AuditEventTable } from "../src/db/schema.js";
import { TenancyService } from "../src/tenancy/service.js";
import { systemClock } from "../src/time.js";
import { WebhookService, webhookRules } from "../src/webhooks/service.js";
import { cli, TEST_ENCRYPTION_KEY } from "./support/process.js";

let dir: string;
let env: Record<string, string>;
let db: Db;
let projectId: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "connect-hub-cli-audit-"));
  env = {
    DATABASE_URL: `file:${path.join(dir, "hub.sqlite")}`,
    DATA_DIR: dir,
    LOG_LEVEL: "warn",
    PUBLIC_URL: "https://hub.example.com",
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  };
  db = openDatabase(loadConfig(env).database);
  await migrateToLatest(db);
  projectId = (await new TenancyService(db.kysely).createApiKey({ project: "shop" })).project.id;
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one command in project "shop" and insists it succeeded. */
async function run(...args: string[]) {
  const result = await cli(env, ...args);
  expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result;
}

const fact = (event: AuditEventTable) => ({
  project_id: event.project_id,
  actor: [event.actor_type, event.actor_id, event.actor_display],
  action: event.action,
  target: [event.target_type, event.target_id],
  details: JSON.parse(event.details) as unknown,
});

describe("CLI changes in the audit log", () => {
  it("integrations, projects, webhooks, sessions and secrets commands each record one event", async () => {
    const shop = ["--project", "shop"];
    let endpointId = "";
    let deliveryId = 0;
    let sessionId = "";
    // Three independent chains at once; SQLite's busy timeout orders their writes.
    await Promise.all([
      (async () => {
        await run("integrations", "enable", "bamboohr", "--no-verify", ...shop);
        await run("integrations", "disable", "bamboohr", ...shop);
        await run("integrations", "remove", "bamboohr", ...shop);
      })(),
      (async () => {
        await run("webhooks", "add", "https://hooks.example.com/in", ...shop);
        const endpoint = await db.kysely
          .selectFrom("webhook_endpoints")
          .select("id")
          .executeTakeFirstOrThrow();
        endpointId = endpoint.id;
        await run("webhooks", "enable", endpointId, ...shop);
        await run("webhooks", "rotate-secret", endpointId, ...shop);
        const config = loadConfig(env);
        const service = new WebhookService(
          db.kysely,
          loadSecretBox(config, () => {}),
          systemClock,
          webhookRules(config, db.dialect),
        );
        deliveryId = (await service.sendTest(projectId, endpointId)).id;
        await run("webhooks", "replay", String(deliveryId), ...shop);
        await run("webhooks", "remove", endpointId, ...shop);
      })(),
      (async () => {
        await run("projects", "set-origins", "https://app.example.com", ...shop);
        const created = await run(
          "sessions",
          "create",
          "--owner-id",
          "o1",
          "--owner-name",
          "Acme",
          "--json",
          ...shop,
        );
        sessionId = String((JSON.parse(created.stdout) as { id: number }).id);
      })(),
    ]);
    await run("secrets", "reseal");

    const events = await db.kysely
      .selectFrom("audit_events")
      .selectAll()
      .orderBy("action")
      .orderBy("id")
      .execute();
    const cli = ["cli", "cli", "cli"];
    const inShop = { project_id: projectId, actor: cli };
    // By action, then time (ids begin with it).
    expect(events.map(fact)).toEqual([
      {
        ...inShop,
        action: "connect_session.created",
        target: ["connect_session", sessionId],
        details: {},
      },
      {
        ...inShop,
        action: "integration.deleted",
        target: ["integration", "bamboohr"],
        details: {},
      },
      {
        ...inShop,
        action: "integration.updated",
        target: ["integration", "bamboohr"],
        details: { fields: ["enabled", "verify_credentials"] },
      },
      {
        ...inShop,
        action: "integration.updated",
        target: ["integration", "bamboohr"],
        details: { fields: ["enabled"] },
      },
      {
        ...inShop,
        action: "project.updated",
        target: ["project", projectId],
        details: { fields: ["allowed_origins"] },
      },
      {
        project_id: null,
        actor: cli,
        action: "secrets.resealed",
        target: ["encryption_key", "test"],
        details: {
          resealed: {
            "linked_accounts.credentials_sealed": 0,
            "integrations.client_secret_sealed": 0,
            "webhook_endpoints.secret_sealed": 0,
            "webhook_endpoints.previous_secret_sealed": 0,
          },
        },
      },
      {
        ...inShop,
        action: "webhook_delivery.replayed",
        target: ["webhook_delivery", String(deliveryId)],
        details: {},
      },
      {
        ...inShop,
        action: "webhook_endpoint.created",
        target: ["webhook_endpoint", endpointId],
        details: {},
      },
      {
        ...inShop,
        action: "webhook_endpoint.deleted",
        target: ["webhook_endpoint", endpointId],
        details: {},
      },
      {
        ...inShop,
        action: "webhook_endpoint.secret_rotated",
        target: ["webhook_endpoint", endpointId],
        details: {},
      },
      {
        ...inShop,
        action: "webhook_endpoint.updated",
        target: ["webhook_endpoint", endpointId],
        details: { fields: ["enabled"] },
      },
    ]);
  });

  it("db copy records one event in the target, after the copied log", async () => {
    const target = path.join(dir, "copy.sqlite");
    const before = await db.kysely.selectFrom("audit_events").select("id").execute();
    await run("db", "copy", "--from", env.DATABASE_URL as string, "--to", `file:${target}`);
    const copy = openDatabase(loadConfig({ ...env, DATABASE_URL: `file:${target}` }).database);
    try {
      const events = await copy.kysely.selectFrom("audit_events").selectAll().execute();
      expect(events.map((event) => event.id).sort()).toEqual(
        expect.arrayContaining(before.map((event) => event.id)),
      );
      const copied = events.filter((event) => event.action === "database.copied").map(fact);
      expect(copied).toEqual([
        {
          project_id: null,
          actor: ["cli", "cli", "cli"],
          action: "database.copied",
          target: ["database", null],
          details: {
            from: path.join(dir, "hub.sqlite"),
            rows: expect.objectContaining({ audit_events: before.length }),
          },
        },
      ]);
      expect(events).toHaveLength(before.length + 1);
      // The source is only read.
      expect(await db.kysely.selectFrom("audit_events").select("id").execute()).toHaveLength(before.length);
    } finally {
      await copy.close();
    }
  });
});
