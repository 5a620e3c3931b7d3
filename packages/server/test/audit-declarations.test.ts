/**
 * Every change the admin API can make is declared for the audit log: a route that may change
 * something and declares nothing stops the server from starting.
 */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { type AuditLog, registerAuditHook } from "../src/console/audit.js";
import { ADMIN_SECURITY } from "../src/http/route-context.js";

// The hook only registers; no request is recorded here, so the log needs no database.
const audit = {} as AuditLog;

function appWith(route: { method: "GET" | "POST"; audit?: false }) {
  const app = Fastify();
  registerAuditHook(app, audit);
  app.route({
    method: route.method,
    url: "/things",
    schema: { security: ADMIN_SECURITY },
    ...(route.audit === false ? { config: { audit: false } } : {}),
    handler: async () => ({}),
  });
  return app;
}

describe("audit declarations", () => {
  it("refuses an admin change route that declares nothing", () => {
    expect(() => appWith({ method: "POST" })).toThrow(/POST \/things .*declare config.audit/);
  });

  it("accepts reads, and changes declared as none", async () => {
    await expect(appWith({ method: "GET" }).ready()).resolves.toBeDefined();
    await expect(appWith({ method: "POST", audit: false }).ready()).resolves.toBeDefined();
  });
});
