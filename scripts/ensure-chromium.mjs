#!/usr/bin/env node
// Runs before `npm test`: the connect page's end-to-end tests drive Debian's Chromium
// (/usr/bin/chromium, never a downloaded browser). Installs it from Debian's packages when it
// is missing and this user may (root with apt-get); otherwise says how, and those tests skip
// (or fail, under CI=true).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

if (!existsSync(CHROMIUM)) {
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (canInstall) {
    process.stderr.write(`${CHROMIUM} is missing: installing Debian's chromium for the browser tests\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
  } else {
    process.stderr.write(
      `${CHROMIUM} is missing: the browser tests will skip. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.\n`,
    );
  }
}
