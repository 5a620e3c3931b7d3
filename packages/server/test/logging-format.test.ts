/**
 * Log lines for a person or for a collector: pretty when standard output is a terminal, JSON
 * otherwise, LOG_FORMAT to choose. The terminal case runs under a real pseudo-terminal
 * (util-linux `script`).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startServerProcess } from "./support/process.js";

const run = promisify(execFile);
const LOGGING = fileURLToPath(new URL("../dist/http/logging.js", import.meta.url));
const SCRIPT = "/usr/bin/script";

/** A program that logs one line through the server's log destination, format left to the terminal. */
const logOneLine = (format: string) =>
  `import(${JSON.stringify(LOGGING)}).then(async ({ logDestination }) => {
     const { default: pino } = await import("pino");
     const log = pino({}, await logDestination(${format}));
     log.info({ answer: 42 }, "hello from the log");
     log.flush();
   })`;

describe("log format", () => {
  it("is JSON on a pipe by default, one object per line", async () => {
    const server = await startServerProcess({ LOG_LEVEL: "info" });
    expect(await server.stop()).toBe(0);
    const lines = server.output().trim().split("\n");
    const listening = lines
      .map((line) => JSON.parse(line))
      .find((entry) => entry.msg === "Connect Hub is listening");
    expect(listening).toMatchObject({ level: 30, database: "sqlite" });
  });

  it("is readable lines with LOG_FORMAT=pretty, down to the last line at shutdown", async () => {
    const server = await startServerProcess({ LOG_LEVEL: "info", LOG_FORMAT: "pretty" });
    expect(await server.stop()).toBe(0);
    const output = server.output();
    expect(output).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Connect Hub is listening$/m);
    expect(output).toMatch(/^ {4}database: "sqlite"$/m);
    expect(output, output).toMatch(/INFO: shut down cleanly\n$/);
    expect(output).not.toContain('{"level"');
  });

  it.skipIf(!existsSync(SCRIPT) && process.env.CI !== "true")(
    "is pretty, in colour, on a terminal; LOG_FORMAT=json keeps JSON there",
    async () => {
      const onTerminal = async (format: string) =>
        (
          await run(SCRIPT, ["-qec", `${process.execPath} -e '${logOneLine(format)}'`, "/dev/null"], {
            cwd: fileURLToPath(new URL("..", import.meta.url)),
          })
        ).stdout.replace(/\r\n/g, "\n");
      const pretty = await onTerminal("undefined");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are the point.
      expect(pretty).toMatch(/\u001b\[32mINFO\u001b\[39m.*hello from the log/);
      expect(pretty).toMatch(/answer.*: 42/);
      const json = await onTerminal('"json"');
      expect(JSON.parse(json.trim())).toMatchObject({ level: 30, msg: "hello from the log", answer: 42 });
    },
  );
});
