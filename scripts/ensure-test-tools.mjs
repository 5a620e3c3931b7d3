#!/usr/bin/env node
// Runs before `npm test`: the connect page's end-to-end tests drive Debian's Chromium
// (/usr/bin/chromium, never a downloaded browser), and the benchmark's smoke test sends load
// with Debian's wrk as well as autocannon. Installs what is missing from Debian's packages when
// this user may (root with apt-get); otherwise says how, and those tests skip (or fail, under
// CI=true).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const onPath = (name) =>
  (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, name)));
const hasWrk = process.env.WRK_PATH ? existsSync(process.env.WRK_PATH) : onPath("wrk");

const missing = [
  ...(existsSync(CHROMIUM)
    ? []
    : [{ pkg: "chromium", what: `${CHROMIUM} (the browser tests)`, env: "CHROMIUM_PATH" }]),
  ...(hasWrk ? [] : [{ pkg: "wrk", what: "wrk (the benchmark's wrk smoke test)", env: "WRK_PATH" }]),
];

if (missing.length > 0) {
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (canInstall) {
    process.stderr.write(
      `missing: ${missing.map((m) => m.what).join(", ")}: installing from Debian's packages\n`,
    );
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", ...missing.map((m) => m.pkg)], {
      stdio: "inherit",
      env,
    });
  } else {
    for (const m of missing)
      process.stderr.write(
        `${m.what} is missing: those tests will skip. Install Debian's ${m.pkg} (apt-get install ${m.pkg}) or set ${m.env}.\n`,
      );
  }
}
