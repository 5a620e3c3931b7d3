/**
 * Vitest global setup: the tests never run against a stale build. Tests that start server
 * processes run packages/server/dist (through bin/connect-hub.js), the SDK's packing test reads
 * packages/sdk/dist and the bench smoke test runs bench/dist; so before any test, whatever of
 * these is older than its sources is rebuilt (the server through TypeScript's incremental
 * build, which is a no-op when nothing changed). A build error stops the run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(target).reduce(
    (newest, entry) =>
      entry === "node_modules" ? newest : Math.max(newest, newestMtime(path.join(target, entry))),
    stat.mtimeMs,
  );
}

function oldestOutput(files: readonly string[]): number {
  return Math.min(...files.map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0)));
}

function run(args: string[]): void {
  execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" });
}

export default function setup(): void {
  run([tsc, "-b", "packages/server"]);
  const sdk = path.join(root, "packages/sdk");
  const sdkSources = Math.max(newestMtime(path.join(sdk, "src")), newestMtime(path.join(sdk, "scripts")));
  if (sdkSources > oldestOutput([path.join(sdk, "dist/esm/index.js"), path.join(sdk, "dist/cjs/index.js")])) {
    process.stderr.write("packages/sdk/dist is older than its sources: building it first\n");
    run([path.join(sdk, "scripts/build.mjs")]);
  }
  const bench = path.join(root, "bench");
  const benchSources = Math.max(
    ...readdirSync(bench)
      .filter((file) => file.endsWith(".ts"))
      .map((file) => newestMtime(path.join(bench, file))),
  );
  if (benchSources > oldestOutput([path.join(bench, "dist/run.js")])) {
    process.stderr.write("bench/dist is older than its sources: building it first\n");
    run([tsc, "-p", "bench"]);
  }
}
