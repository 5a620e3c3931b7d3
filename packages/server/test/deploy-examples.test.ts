/**
 * The examples in deploy/ are not run here (no Docker, no systemd), but what they configure is
 * checked: the compose file's settings for its hub service, with the Dockerfile's environment,
 * are accepted by the server as a production configuration (the compose file once left out
 * ENCRYPTION_KEY, which production requires), and every file and command the examples run
 * exists.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../src/config.js";
import { cli } from "./support/process.js";

const REPOSITORY = new URL("../../../", import.meta.url);
const deployFile = (name: string) => readFileSync(new URL(`deploy/${name}`, REPOSITORY), "utf8");

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}`, given the operator's environment. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::([?-])([^}]*))?\}/g,
    (_match, name: string, kind?: string, rest = "") => {
      const set = env[name];
      if (set) return set;
      if (kind === "-") return rest;
      throw new Error(`${name}: ${kind === "?" ? rest : "not set"}`);
    },
  );
}

/** The `ENV` settings of the Dockerfile's final stage. */
function dockerfileEnvironment(dockerfile: string): Record<string, string> {
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  const settings: Record<string, string> = {};
  for (const line of finalStage.split("\n").filter((text) => text.startsWith("ENV "))) {
    for (const pair of line.slice(4).trim().split(/\s+/)) {
      const [name, value = ""] = pair.split("=", 2);
      if (name) settings[name] = value;
    }
  }
  return settings;
}

describe("the deploy examples", () => {
  const dockerfile = deployFile("Dockerfile");
  const compose = parse(deployFile("docker-compose.example.yml")) as {
    services: { hub: { environment: Record<string, string | number> } };
  };

  it("configure a production server the server accepts, asking the operator for ENCRYPTION_KEY", () => {
    const environment = compose.services.hub.environment;
    expect(() => interpolate(String(environment.ENCRYPTION_KEY ?? ""), {})).toThrow(
      /^ENCRYPTION_KEY: set ENCRYPTION_KEY to 32 random bytes in base64/,
    );
    const operator = { ENCRYPTION_KEY: randomBytes(32).toString("base64") };
    const env = {
      ...dockerfileEnvironment(dockerfile),
      ...Object.fromEntries(
        Object.entries(environment).map(([name, value]) => [name, interpolate(String(value), operator)]),
      ),
    };
    expect(env.NODE_ENV).toBe("production");
    const config = loadConfig(env);
    expect(config.production).toBe(true);
    expect(config.database.dialect).toBe("postgres");
  });

  it("run files and commands that exist, and give the SQLite default a folder the server's user owns", async () => {
    const command = /^CMD \["node", "([^"]+)", "serve"\]$/m.exec(dockerfile)?.[1];
    expect(command).toBeDefined();
    expect(existsSync(fileURLToPath(new URL(String(command), REPOSITORY)))).toBe(true);
    const unit = deployFile("connect-hub@.service");
    const execStart = /^ExecStart=\/usr\/bin\/node (\S+) serve$/m.exec(unit)?.[1];
    expect(existsSync(fileURLToPath(new URL(String(execStart), REPOSITORY)))).toBe(true);
    // The nightly backup runs a command the CLI has, on a file that exists.
    const backup = deployFile("connect-hub-backup.service");
    const backupCommand = /^ExecStart=.*\/usr\/bin\/node (\S+) (db backup --to) /m.exec(backup);
    expect(existsSync(fileURLToPath(new URL(String(backupCommand?.[1]), REPOSITORY)))).toBe(true);
    const words = String(backupCommand?.[2]).split(" ");
    const help = await cli({}, ...words.slice(0, 2), "--help");
    expect(help.code, help.stderr).toBe(0);
    // The help of that very command (commander answers an unknown one with its parent's help).
    expect(help.stdout).toMatch(/^Usage: connect-hub db backup \[options\]\n/);
    expect(help.stdout).toContain(words[2]);
    expect(deployFile("connect-hub-backup.timer")).toMatch(/^OnCalendar=/m);
    // The final stage runs as `node`, which must own the folder the default database goes in.
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(finalStage).toMatch(/^RUN install -d -m 0700 -o node -g node \/app\/data$/m);
    expect(finalStage.indexOf("install -d")).toBeLessThan(finalStage.indexOf("USER node"));
  });
});
