/**
 * The console's files at /console/ (from a folder of fake built files), their CSP and caching,
 * the 404 without a build, and the session cookie's https form (`__Host-`, Secure).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumeLink, signInLink } from "./support/console.js";
import { startTestServer, type TestServer } from "./support/server.js";

const INDEX =
  '<!doctype html><html><head><script type="module" src="/console/assets/x-1a2b.js"></script></head><body></body></html>';
let dir: string;
let server: TestServer;
let unbuilt: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "connect-hub-console-dist-"));
  mkdirSync(path.join(dir, "assets"));
  writeFileSync(path.join(dir, "index.html"), INDEX);
  writeFileSync(path.join(dir, "assets", "x-1a2b.js"), "console.log('console');\n");
  writeFileSync(path.join(dir, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(tmpdir(), "connect-hub-console-secret.txt"), "outside");
  server = await startTestServer({
    env: { PUBLIC_URL: "https://hub.example.com", CONSOLE_ASSETS_DIR: dir },
  });
  unbuilt = await startTestServer({ env: { CONSOLE_ASSETS_DIR: path.join(dir, "missing") } });
});
afterAll(async () => {
  await server?.close();
  await unbuilt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the console's files", () => {
  it("serves index.html uncached with the strict CSP, for /console/ and every deep link", async () => {
    for (const page of ["/console/", "/console/accounts", "/console/accounts/acc_1/history"]) {
      const response = await fetch(`${server.url}${page}`);
      expect(response.status, page).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      const csp = (response.headers.get("content-security-policy") ?? "").split(";").sort();
      expect(csp).toEqual(
        [
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self'",
          "img-src 'self' data:",
          "connect-src 'self'",
          "font-src 'self'",
          "form-action 'self'",
          "frame-ancestors 'none'",
          "base-uri 'none'",
          "upgrade-insecure-requests",
          // helmet's defaults, as on the connect page
          "object-src 'none'",
          "script-src-attr 'none'",
        ].sort(),
      );
      expect(await response.text()).toBe(INDEX);
    }
    const bare = await fetch(`${server.url}/console`, { redirect: "manual" });
    expect(bare.headers.get("location")).toBe("/console/");
  });

  it("caches hashed assets for a year, immutable; other files revalidate", async () => {
    const asset = await fetch(`${server.url}/console/assets/x-1a2b.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const icon = await fetch(`${server.url}/console/favicon.svg`);
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers 404 for missing files and paths out of the folder", async () => {
    for (const page of [
      "/console/assets/none.js",
      "/console/..%2f..%2fconnect-hub-console-secret.txt",
      "/console/%2e%2e/x.txt",
    ]) {
      const response = await fetch(`${server.url}${page}`);
      expect(response.status, page).toBe(404);
      expect(response.headers.get("content-type")).toContain("application/json");
    }
  });

  it("says to build the console when its folder is missing", async () => {
    const response = await fetch(`${unbuilt.url}/console/`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toContain("npm run build");
  });

  it("sets the __Host- session cookie with Secure when PUBLIC_URL is https", async () => {
    const link = await signInLink(server);
    const response = await consumeLink(server, link.url);
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie().join()).toMatch(
      /^__Host-connect_hub_console=chc_[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
  });
});
