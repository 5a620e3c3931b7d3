/**
 * The benchmark reads how idle CPUs wait (the cost of a wake-up decides what a loopback
 * measurement charges the server) and `--idle-poll` changes it only for the run: a sysfs tree
 * in a temporary folder stands in for /sys.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  idleWarning,
  KERNEL_DEFAULT_HALT_POLL_NS,
  pollBeforeHalting,
  readIdleSettings,
} from "../../../bench/idle.js";

const trees: string[] = [];
afterEach(() => {
  for (const tree of trees.splice(0)) rmSync(tree, { recursive: true, force: true });
});

/** A /sys with this idle driver and, for haltpoll, this guest_halt_poll_ns. */
function sysfs(driver: string, haltPollNs?: number): { root: string; haltPollFile: string } {
  const root = mkdtempSync(path.join(tmpdir(), "connect-hub-sysfs-"));
  trees.push(root);
  mkdirSync(path.join(root, "devices/system/cpu/cpuidle"), { recursive: true });
  writeFileSync(path.join(root, "devices/system/cpu/cpuidle/current_driver"), `${driver}\n`);
  const parameters = path.join(root, "module/haltpoll/parameters");
  mkdirSync(parameters, { recursive: true });
  const haltPollFile = path.join(parameters, "guest_halt_poll_ns");
  if (haltPollNs !== undefined) writeFileSync(haltPollFile, `${haltPollNs}\n`);
  return { root, haltPollFile };
}

describe("the benchmark's idle settings", () => {
  it("reads haltpoll's setting and warns only when idle CPUs halt at once", () => {
    const halting = readIdleSettings(sysfs("haltpoll", 0).root);
    expect(halting).toEqual({ driver: "haltpoll", haltPollNs: 0 });
    expect(idleWarning(halting)).toMatch(/halt at once.*--idle-poll/);

    const polling = readIdleSettings(sysfs("haltpoll", 200000).root);
    expect(polling).toEqual({ driver: "haltpoll", haltPollNs: 200000 });
    expect(idleWarning(polling)).toBeUndefined();

    const bareMetal = readIdleSettings(sysfs("intel_idle").root);
    expect(bareMetal).toEqual({ driver: "intel_idle", haltPollNs: undefined });
    expect(idleWarning(bareMetal)).toBeUndefined();
  });

  it("reads nothing, and warns of nothing, where the kernel exposes no cpuidle", () => {
    const empty = mkdtempSync(path.join(tmpdir(), "connect-hub-sysfs-"));
    trees.push(empty);
    expect(readIdleSettings(empty)).toEqual({ driver: undefined, haltPollNs: undefined });
    expect(idleWarning(readIdleSettings(empty))).toBeUndefined();
  });

  it("--idle-poll sets the kernel's default for the run and puts the old value back once", () => {
    const { root, haltPollFile } = sysfs("haltpoll", 0);
    const restore = pollBeforeHalting(KERNEL_DEFAULT_HALT_POLL_NS, root);
    expect(readFileSync(haltPollFile, "utf8")).toBe("200000");

    restore();
    expect(readFileSync(haltPollFile, "utf8")).toBe("0");
    // Called again on another way out (exit after a signal): changes nothing.
    writeFileSync(haltPollFile, "50000");
    restore();
    expect(readFileSync(haltPollFile, "utf8")).toBe("50000");
  });

  it("--idle-poll refuses, saying why, without the haltpoll driver", () => {
    expect(() => pollBeforeHalting(KERNEL_DEFAULT_HALT_POLL_NS, sysfs("intel_idle").root)).toThrow(
      "--idle-poll: this machine's idle driver is intel_idle, not haltpoll: nothing to change",
    );
  });
});
