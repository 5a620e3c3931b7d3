/** What a user of the published packages sees: the licence and where the project lives. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const manifest = (path: string) => JSON.parse(read(path)) as Record<string, unknown>;

describe("packaging", () => {
  it("ships the Apache-2.0 licence at the root and inside the published SDK", () => {
    const license = read("LICENSE");
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain("END OF TERMS AND CONDITIONS");
    expect(license.length).toBeGreaterThan(11_000);
    expect(read("packages/sdk/LICENSE")).toBe(license);
  });

  it.each(["package.json", "packages/server/package.json", "packages/sdk/package.json"])(
    "%s declares the licence",
    (path) => {
      expect(manifest(path).license).toBe("Apache-2.0");
    },
  );

  it("tells SDK users where the source, the home page and the issue tracker are", () => {
    const sdk = manifest("packages/sdk/package.json");
    expect(sdk.repository).toMatchObject({ type: "git", url: expect.stringMatching(/^git\+https:\/\//) });
    expect(sdk.homepage).toMatch(/^https:\/\//);
    expect(sdk.bugs).toMatchObject({ url: expect.stringMatching(/^https:\/\//) });
  });
});
