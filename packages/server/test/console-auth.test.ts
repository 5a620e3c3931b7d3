/**
 * The console's authentication of the admin API, on every database: CLI sign-in links (single
 * use, expiry), cookie sessions (revocation, expiry), roles, CSRF and cross-site refusal,
 * project scoping, the audit log, the API keys API and GET /projects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LINK_REFUSED } from "../src/console/routes.js";
import { ConsoleService } from "../src/console/service.js";
import {
  type ConsoleBrowser,
  consoleBrowser,
  consumeLink,
  keyCall,
  projectId,
  signInLink,
} from "./support/console.js";
import { skipDialect, TEST_DIALECTS } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/server.js";

const VIEWER_REFUSAL = "Forbidden: viewers can only read; ask an admin";
const hoursAgo = (hours: number) => () => new Date(Date.now() - hours * 3_600_000);

for (const dialect of TEST_DIALECTS) {
  describe.skipIf(skipDialect(dialect))(`console auth on ${dialect}`, () => {
    let server: TestServer;
    let apiKey: string;
    let otherKey: string;
    let defaultId: string;
    let otherId: string;
    let admin: ConsoleBrowser;
    let viewer: ConsoleBrowser;
    let everywhere: ConsoleBrowser;

    beforeAll(async () => {
      server = await startTestServer({ dialect });
      apiKey = await server.createApiKey();
      otherKey = await server.createApiKey("other");
      defaultId = await projectId(server);
      otherId = await projectId(server, "other");
      admin = await consoleBrowser(server, { projectId: defaultId, role: "admin" });
      viewer = await consoleBrowser(server, { projectId: defaultId, role: "viewer" });
      everywhere = await consoleBrowser(server, { projectId: null, role: "admin" });
    });
    afterAll(() => server?.close());

    describe("sign-in links", () => {
      it("open a session once: HttpOnly, SameSite=Strict, 12 hours, then refuse", async () => {
        const link = await signInLink(server, { projectId: defaultId });
        expect(link.url).toMatch(/\/console\/sign-in\?token=chl_[A-Za-z0-9_-]{43}$/);
        const first = await consumeLink(server, link.url);
        expect(first.status).toBe(303);
        expect(first.headers.get("location")).toBe("/console/");
        const setCookie = first.headers.getSetCookie().join("\n");
        expect(setCookie).toMatch(
          /^connect_hub_console=chc_[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/,
        );
        expect(setCookie).not.toContain("Secure");

        const again = await consumeLink(server, link.url);
        expect(again.status).toBe(401);
        expect(((await again.json()) as { message: string }).message).toBe(`Unauthorized: ${LINK_REFUSED}`);
        const page = await fetch(link.url.replace(server.config.publicUrl, server.url), {
          headers: { accept: "text/html" },
        });
        expect(page.status).toBe(401);
        expect(page.headers.get("content-type")).toContain("text/html");
        expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
        expect(await page.text()).toContain("this sign-in link was used or has expired");
      });

      it("refuse an expired link and an unknown one", async () => {
        const expired = await signInLink(server, { clock: () => new Date(Date.now() - 11 * 60_000) });
        expect((await consumeLink(server, expired.url)).status).toBe(401);
        expect((await consumeLink(server, `${server.url}/console/sign-in?token=chl_nope`)).status).toBe(401);
        expect((await fetch(`${server.url}/console/sign-in`)).status).toBe(400);
      });

      it("are consumed by exactly one of two racing sign-ins", async () => {
        const service = new ConsoleService(server.db.kysely, server.config.publicUrl);
        for (let round = 0; round < 5; round++) {
          const link = await signInLink(server);
          const token = new URL(link.url).searchParams.get("token") as string;
          const from = { ip: "127.0.0.1", userAgent: "race" };
          const results = await Promise.all([
            service.signInWithLink(token, from),
            service.signInWithLink(token, from),
          ]);
          expect(results.filter(Boolean)).toHaveLength(1);
          const overHttp = await signInLink(server);
          const answers = await Promise.all([
            consumeLink(server, overHttp.url),
            consumeLink(server, overHttp.url),
          ]);
          expect(answers.map((answer) => answer.status).sort()).toEqual([303, 401]);
        }
      });
    });

    describe("the session", () => {
      it("describes itself with its CSRF token, and 401 without a cookie", async () => {
        const { status, body } = await admin.call("GET", "/console/session");
        expect(status).toBe(200);
        expect(body).toMatchObject({
          id: admin.sessionId,
          operator: { subject: expect.stringMatching(/^cli link link_/), method: "link" },
          role: "admin",
          project: { id: defaultId, name: "default" },
          csrf_token: expect.stringMatching(/^chx_/),
        });
        const none = await fetch(`${server.url}/console/session`);
        expect(none.status).toBe(401);
        expect((await keyCall(server, apiKey, "GET", "/console/session")).status).toBe(401);
      });

      it("works on the admin API with the cookie", async () => {
        expect((await admin.call("GET", "/integrations")).status).toBe(200);
        const enabled = await admin.call("PUT", "/integrations/bamboohr", { body: {} });
        expect(enabled.status).toBe(200);
        const created = await admin.call("POST", "/connect_sessions", {
          body: { origin_owner_id: "cust-9", origin_owner_name: "Console Co" },
        });
        expect(created.status).toBe(201);
      });

      it("refuses an expired session and a revoked one at once", async () => {
        const past = new ConsoleService(server.db.kysely, server.config.publicUrl, hoursAgo(13));
        const old = await past.openSession(
          { role: "admin", projectId: defaultId },
          { subject: "old", method: "link" },
          { ip: "127.0.0.1", userAgent: undefined },
        );
        const expired = await fetch(`${server.url}/integrations`, {
          headers: { cookie: `connect_hub_console=${old.token}` },
        });
        expect(expired.status).toBe(401);

        const victim = await consoleBrowser(server, { projectId: defaultId });
        expect((await victim.call("GET", "/integrations")).status).toBe(200);
        const listed = await admin.call("GET", "/console/sessions");
        expect(listed.body.map((s: { id: string }) => s.id)).toContain(victim.sessionId);
        expect(JSON.stringify(listed.body)).not.toMatch(/chc_|chx_/);
        expect(listed.body.find((s: { id: string }) => s.id === admin.sessionId).current).toBe(true);
        expect((await admin.call("DELETE", `/console/sessions/${victim.sessionId}`)).status).toBe(204);
        expect((await victim.call("GET", "/integrations")).status).toBe(401);
        expect((await admin.call("DELETE", `/console/sessions/${victim.sessionId}`)).status).toBe(404);
        // Another project's API key cannot see or revoke this project's sessions.
        const other = await consoleBrowser(server, { projectId: defaultId });
        expect(
          (await keyCall(server, otherKey, "DELETE", `/console/sessions/${other.sessionId}`)).status,
        ).toBe(404);
        expect((await other.call("GET", "/integrations")).status).toBe(200);
      });

      it("signs out: the cookie is cleared and the session refused", async () => {
        const leaving = await consoleBrowser(server, { projectId: defaultId, role: "viewer" });
        const out = await leaving.call("POST", "/console/sign-out");
        expect(out.status).toBe(204);
        expect(out.headers.getSetCookie().join()).toContain("connect_hub_console=; Max-Age=0");
        expect((await leaving.call("GET", "/integrations")).status).toBe(401);
      });
    });

    describe("roles", () => {
      it("viewers read, and get 403 on every other method", async () => {
        expect((await viewer.call("GET", "/integrations")).status).toBe(200);
        expect((await viewer.call("HEAD", "/integrations")).status).toBe(200);
        for (const [method, path, body] of [
          ["POST", "/connect_sessions", { origin_owner_id: "x", origin_owner_name: "X" }],
          ["PUT", "/integrations/ashby", {}],
          ["PATCH", "/project", { allowed_origins: [] }],
          ["DELETE", "/integrations/bamboohr", undefined],
          ["POST", "/api_keys", undefined],
        ] as const) {
          const answer = await viewer.call(method, path, { body });
          expect(answer.status, `${method} ${path}`).toBe(403);
          expect(answer.body.message).toBe(VIEWER_REFUSAL);
        }
        // Credentials are secrets: not even readable by viewers.
        expect((await viewer.call("GET", "/accounts/acc_x/credentials")).status).toBe(403);
        expect((await viewer.call("GET", "/integrations/bamboohr")).body.provider).toBe("bamboohr");
      });
    });

    describe("CSRF and cross-site requests", () => {
      const change = (browser: ConsoleBrowser, options: Parameters<ConsoleBrowser["call"]>[2] = {}) =>
        browser.call("PATCH", "/project", {
          body: { allowed_origins: ["https://app.example.com"] },
          ...options,
        });

      it("refuse a change without the session's CSRF token", async () => {
        const missing = await change(admin, { csrf: null });
        expect(missing.status).toBe(403);
        expect(missing.body.message).toContain("x-csrf-token");
        expect((await change(admin, { csrf: viewer.csrf })).status).toBe(403);
        expect((await change(admin, { csrf: "chx_wrong" })).status).toBe(403);
        expect((await change(admin)).status).toBe(200);
      });

      it("refuse a foreign Origin and Sec-Fetch-Site other than same-origin", async () => {
        const foreign = await change(admin, { headers: { origin: "https://evil.example" } });
        expect(foreign.status).toBe(403);
        expect(foreign.body.message).toContain("cross-origin");
        expect((await change(admin, { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(403);
        expect((await change(admin, { headers: { "sec-fetch-site": "same-site" } })).status).toBe(403);
        expect(
          (await change(admin, { headers: { origin: new URL(server.config.publicUrl).origin } })).status,
        ).toBe(200);
      });

      it("do not apply to API keys", async () => {
        const answer = await keyCall(
          server,
          apiKey,
          "PATCH",
          "/project",
          { allowed_origins: [] },
          {
            origin: "https://elsewhere.example",
            "sec-fetch-site": "cross-site",
          },
        );
        expect(answer.status).toBe(200);
      });
    });

    describe("projects", () => {
      it("a project's session: the header may be omitted, and another project's id is 401", async () => {
        expect(
          (await admin.call("GET", "/integrations", { headers: { "x-connect-hub-project": defaultId } }))
            .status,
        ).toBe(200);
        const foreign = await admin.call("GET", "/integrations", {
          headers: { "x-connect-hub-project": otherId },
        });
        expect(foreign.status).toBe(401);
      });

      it("an all-projects session names its project: 400 without the header, 401 for an unknown id", async () => {
        const missing = await everywhere.call("GET", "/integrations");
        expect(missing.status).toBe(400);
        expect(missing.body.message).toMatch(/^x-connect-hub-project: /);
        expect(
          (
            await everywhere.call("GET", "/integrations", {
              headers: { "x-connect-hub-project": "proj_nope" },
            })
          ).status,
        ).toBe(401);
        const inOther = await everywhere.call("PUT", "/integrations/greenhouse", {
          body: {},
          headers: { "x-connect-hub-project": otherId },
        });
        expect(inOther.status).toBe(200);
        expect((await keyCall(server, otherKey, "GET", "/integrations/greenhouse")).status).toBe(200);
        expect((await keyCall(server, apiKey, "GET", "/integrations/greenhouse")).status).toBe(404);
      });

      it("API keys ignore the header", async () => {
        const answer = await keyCall(server, apiKey, "GET", "/project", undefined, {
          "x-connect-hub-project": otherId,
        });
        expect(answer.body.id).toBe(defaultId);
      });

      it("GET /projects lists what the caller may see", async () => {
        expect((await keyCall(server, apiKey, "GET", "/projects")).body).toEqual([
          {
            id: defaultId,
            name: "default",
            organization_id: expect.any(String),
            organization_name: "default",
          },
        ]);
        expect((await admin.call("GET", "/projects")).body.map((p: { id: string }) => p.id)).toEqual([
          defaultId,
        ]);
        const all = await everywhere.call("GET", "/projects");
        expect(all.body.map((p: { name: string }) => p.name)).toEqual(["default", "other"]);
        const paged = await everywhere.call("GET", "/projects?page_size=1");
        expect(paged.body).toMatchObject([{ name: "default" }]);
        expect((await everywhere.call("GET", "/projects?page_size=1&page=2")).body).toMatchObject([
          { name: "other" },
        ]);
      });
    });

    describe("API keys", () => {
      it("create (shown once), list, rotate and revoke; the revoked key gets 401 at once", async () => {
        const created = await admin.call("POST", "/api_keys");
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({
          id: expect.stringMatching(/^key_/),
          key: expect.stringMatching(/^chk_/),
        });
        const fresh = created.body.key as string;
        expect((await keyCall(server, fresh, "GET", "/integrations")).status).toBe(200);
        const listed = await keyCall(server, apiKey, "GET", "/api_keys");
        const entry = listed.body.find((k: { id: string }) => k.id === created.body.id);
        expect(entry).toEqual({
          id: created.body.id,
          start: fresh.slice(0, 8),
          last_four: fresh.slice(-4),
          created_at: expect.any(String),
          revoked_at: null,
        });
        expect(JSON.stringify(listed.body)).not.toContain(fresh);

        const rotated = await keyCall(server, fresh, "POST", `/api_keys/${created.body.id}/rotate`);
        expect(rotated.status).toBe(201);
        expect((await keyCall(server, fresh, "GET", "/integrations")).status).toBe(401);
        const next = rotated.body.key as string;
        expect((await keyCall(server, next, "GET", "/integrations")).status).toBe(200);

        const self = await keyCall(server, next, "DELETE", `/api_keys/${rotated.body.id}`);
        expect(self.status).toBe(400);
        expect(self.body.message).toMatch(/^id: /);
        expect((await keyCall(server, otherKey, "DELETE", `/api_keys/${rotated.body.id}`)).status).toBe(404);
        expect((await admin.call("DELETE", `/api_keys/${rotated.body.id}`)).status).toBe(204);
        expect((await keyCall(server, next, "GET", "/integrations")).status).toBe(401);
        expect((await admin.call("DELETE", `/api_keys/${rotated.body.id}`)).status).toBe(404);
      });
    });

    describe("the audit log", () => {
      it("records each successful change with who, what and where; a failed change records nothing", async () => {
        const before = (await keyCall(server, apiKey, "GET", "/audit_events?page_size=100")).body.length;
        expect((await keyCall(server, apiKey, "PUT", "/integrations/nope", {})).status).toBe(404);
        expect((await admin.call("PUT", "/integrations/workday", { body: { enabled: "yes" } })).status).toBe(
          400,
        );
        expect((await keyCall(server, apiKey, "GET", "/audit_events?page_size=100")).body.length).toBe(
          before,
        );

        expect((await keyCall(server, apiKey, "PUT", "/integrations/personio", {})).status).toBe(200);
        expect((await admin.call("DELETE", "/integrations/personio")).status).toBe(200);
        const events = (await viewer.call("GET", "/audit_events?target_id=personio")).body;
        expect(events).toEqual([
          expect.objectContaining({
            action: "integration.deleted",
            actor: {
              type: "console",
              id: admin.sessionId,
              display: expect.stringMatching(/^cli link link_/),
            },
            target_type: "integration",
            target_id: "personio",
            project_id: defaultId,
            ip: "127.0.0.1",
            request_id: expect.any(String),
          }),
          expect.objectContaining({
            action: "integration.updated",
            actor: {
              type: "api_key",
              id: expect.stringMatching(/^key_/),
              display: `chk_…${apiKey.slice(-4)}`,
            },
            details: { fields: [] },
          }),
        ]);
      });

      it("records each session created in the console once, in the create's own commit; a replay and API-key creates record nothing", async () => {
        const created = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            admin.call("POST", "/connect_sessions", {
              body: { origin_owner_id: `audit-burst-${i}`, origin_owner_name: "Burst" },
            }),
          ),
        );
        const ids = created.map((response) => {
          expect(response.status).toBe(201);
          return String(response.body.id);
        });
        const recordedFor = (targetIds: string[]) =>
          server.db.kysely
            .selectFrom("audit_events")
            .select(["target_id", "actor_type", "request_id"])
            .where("action", "=", "connect_session.created")
            .where("target_id", "in", targetIds)
            .execute();
        const events = await recordedFor(ids);
        expect(events.map((event) => event.target_id).sort()).toEqual([...ids].sort());
        expect(new Set(events.map((event) => event.actor_type))).toEqual(new Set(["console"]));

        // A backend's creates are its product traffic, listed at GET /connect_sessions, not changes.
        const byKey = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            keyCall(server, apiKey, "POST", "/connect_sessions", {
              origin_owner_id: `key-burst-${i}`,
              origin_owner_name: "Backend",
            }),
          ),
        );
        expect(byKey.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
        expect(await recordedFor(byKey.map((response) => String(response.body.id)))).toEqual([]);

        const body = { origin_owner_id: "audit-idempotent", origin_owner_name: "Once" };
        const headers = { "idempotency-key": `audit-${crypto.randomUUID()}` };
        const first = await admin.call("POST", "/connect_sessions", { body, headers });
        const replay = await admin.call("POST", "/connect_sessions", { body, headers });
        expect(replay.headers.get("idempotent-replayed")).toBe("true");
        expect(await recordedFor([String(first.body.id)])).toEqual([
          expect.objectContaining({ request_id: first.headers.get("x-request-id") }),
        ]);
      });

      it("records sign-ins, key changes, revocations, never a secret, and filters", async () => {
        const created = await admin.call("POST", "/api_keys");
        const recorded = await admin.call(
          "GET",
          `/audit_events?action=api_key.created&target_id=${created.body.id}`,
        );
        expect(recorded.body).toHaveLength(1);
        const all = await admin.call("GET", "/audit_events?page_size=100");
        const actions = new Set(all.body.map((e: { action: string }) => e.action));
        for (const action of [
          "console.signed_in",
          "console_session.revoked",
          "api_key.rotated",
          "api_key.revoked",
        ]) {
          expect(actions, action).toContain(action);
        }
        expect(JSON.stringify(all.body)).not.toMatch(/chk_[A-Za-z0-9_-]{20}|chc_|chl_|chx_/);
        const consoleOnly = await admin.call("GET", "/audit_events?actor_type=console&page_size=2");
        expect(consoleOnly.body.every((e: { actor: { type: string } }) => e.actor.type === "console")).toBe(
          true,
        );
        expect(consoleOnly.body).toHaveLength(2);
        // Another project sees none of it.
        const other = (await keyCall(server, otherKey, "GET", "/audit_events?page_size=100")).body;
        expect(other.every((e: { project_id: string | null }) => e.project_id === otherId)).toBe(true);
        expect((await admin.call("GET", "/audit_events?actor_type=robot")).status).toBe(400);
      });
    });
  });
}

describe("failed console authentications", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTH_FAILURES_PER_MINUTE: "3" } });
  });
  afterAll(() => server?.close());

  it("include guessed sign-in links", async () => {
    // Its own server: the address's count starts at zero.
    const guessed = await startTestServer({ env: { AUTH_FAILURES_PER_MINUTE: "3" } });
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const refused = await fetch(`${guessed.url}/console/sign-in?token=chl_${"x".repeat(43)}`, {
          redirect: "manual",
        });
        expect(refused.status).toBe(401);
      }
      expect((await keyCall(guessed, await guessed.createApiKey(), "GET", "/integrations")).status).toBe(429);
    } finally {
      await guessed.close();
    }
  });

  it("count toward the per-address limit like bad API keys", async () => {
    const key = await server.createApiKey();
    for (let attempt = 0; attempt < 3; attempt++) {
      const bad = await fetch(`${server.url}/integrations`, {
        headers: { cookie: "connect_hub_console=chc_forged" },
      });
      expect(bad.status).toBe(401);
    }
    expect((await keyCall(server, key, "GET", "/integrations")).status).toBe(429);
    // A valid sign-in link waits too, and is not used up by the refusal.
    const link = await signInLink(server);
    expect((await consumeLink(server, link.url)).status).toBe(429);
    const stored = await server.db.kysely
      .selectFrom("console_sign_in_links")
      .select("consumed_at")
      .where("id", "=", link.id)
      .executeTakeFirstOrThrow();
    expect(stored.consumed_at).toBeNull();
  });
});
