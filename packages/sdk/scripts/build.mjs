/**
 * Builds the published package: ES modules in dist/esm (tsconfig.json) and CommonJS in
 * dist/cjs (tsconfig.cjs.json), each with its type declarations. dist/cjs gets its own
 * package.json declaring CommonJS, because this package's `"type": "module"` would otherwise
 * make Node load those files as ES modules.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(path.join(packageDir, "dist"), { recursive: true, force: true });
for (const config of ["tsconfig.json", "tsconfig.cjs.json"]) {
  execFileSync(process.execPath, [tsc, "-p", path.join(packageDir, config)], { stdio: "inherit" });
}
mkdirSync(path.join(packageDir, "dist/cjs"), { recursive: true });
writeFileSync(path.join(packageDir, "dist/cjs/package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
