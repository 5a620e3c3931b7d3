/**
 * Log lines are written once per turn of the event loop, synchronously, and none is lost when
 * the process ends, however it ends.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { linesOncePerTurn } from "../src/http/logging.js";

const LOGGING = fileURLToPath(new URL("../dist/http/logging.js", import.meta.url));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function recordingSink() {
  const writes: string[] = [];
  return { writes, write: (chunk: string) => writes.push(chunk), flush: (done: () => void) => done() };
}

describe("log lines once per turn", () => {
  it("joins the lines of one turn into one write, after the turn's callbacks", async () => {
    const sink = recordingSink();
    const lines = linesOncePerTurn(sink);
    lines.write("one\n");
    lines.write("two\n");
    lines.write("three\n");
    expect(sink.writes).toEqual([]);
    await nextTurn();
    expect(sink.writes).toEqual(["one\ntwo\nthree\n"]);
    lines.write("four\n");
    await nextTurn();
    expect(sink.writes).toEqual(["one\ntwo\nthree\n", "four\n"]);
    await nextTurn();
    expect(sink.writes).toHaveLength(2);
  });

  it("writes what is pending at once on flush, and nothing twice", async () => {
    const sink = recordingSink();
    const lines = linesOncePerTurn(sink);
    lines.write("pending\n");
    let flushed = false;
    lines.flush(() => {
      flushed = true;
    });
    expect(flushed).toBe(true);
    expect(sink.writes).toEqual(["pending\n"]);
    await nextTurn();
    expect(sink.writes).toEqual(["pending\n"]);
  });

  const lastWords = (ending: string) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const program = `import(${JSON.stringify(LOGGING)}).then(({ stdoutOncePerTurn }) => {
        const out = stdoutOncePerTurn();
        setTimeout(() => { out.write("first\\n"); out.write("last words\\n"); ${ending} }, 0);
      })`;
      const child = execFile(process.execPath, ["-e", program], (_error, stdout) =>
        resolve({ code: child.exitCode, stdout }),
      );
    });

  it("writes the pending lines of a process that exits in the same turn", async () => {
    expect(await lastWords("process.exit(3);")).toEqual({ code: 3, stdout: "first\nlast words\n" });
  });

  it("writes the pending lines of a process that crashes in the same turn", async () => {
    const { code, stdout } = await lastWords('throw new Error("crash");');
    expect(code).toBe(1);
    expect(stdout).toBe("first\nlast words\n");
  });
});
