/**
 * How this machine's CPUs go idle, which decides who pays for a wake-up on loopback.
 *
 * On loopback the kernel delivers an answer to the load generator inside the server's own
 * `writev`, and when the load generator's CPU is idle, waking it is charged to the server. A
 * KVM guest whose idle driver is `haltpoll` polls for a while before halting (the kernel's
 * default: up to 200 µs), and a CPU that is still polling is woken by setting a flag. With
 * `guest_halt_poll_ns` at 0 an idle CPU halts at once, and every wake-up is an interrupt sent
 * through the hypervisor: on the development machine that added ~25 µs of the server's CPU to
 * each authenticate (bench/README, ninth round), a cost no server pays for clients across a
 * network. The run reports the setting, and `--idle-poll` measures with the kernel's default.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The kernel's own default for `guest_halt_poll_ns` (Documentation/virt/guest-halt-polling.rst). */
export const KERNEL_DEFAULT_HALT_POLL_NS = 200_000;

export interface IdleSettings {
  /** The cpuidle driver (`haltpoll`, `intel_idle`, `acpi_idle`, ...), when the kernel says. */
  driver: string | undefined;
  /** haltpoll's longest poll before halting, in ns; undefined without the haltpoll driver. */
  haltPollNs: number | undefined;
}

const haltPollFile = (sysfs: string) => path.join(sysfs, "module/haltpoll/parameters/guest_halt_poll_ns");

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function readIdleSettings(sysfs = "/sys"): IdleSettings {
  const driver = readTrimmed(path.join(sysfs, "devices/system/cpu/cpuidle/current_driver"));
  const haltPoll = driver === "haltpoll" ? readTrimmed(haltPollFile(sysfs)) : undefined;
  const haltPollNs = haltPoll === undefined ? undefined : Number(haltPoll);
  return { driver, haltPollNs: Number.isInteger(haltPollNs) ? haltPollNs : undefined };
}

/** A warning for the run's header when idle CPUs halt at once; undefined otherwise. */
export function idleWarning(settings: IdleSettings): string | undefined {
  if (settings.driver !== "haltpoll" || settings.haltPollNs !== 0) return undefined;
  return (
    "note: idle CPUs halt at once (haltpoll, guest_halt_poll_ns 0): every wake-up of the load " +
    "generator costs the server an interrupt through the hypervisor; --idle-poll measures with " +
    `the kernel's default (${KERNEL_DEFAULT_HALT_POLL_NS / 1000} µs of polling first)`
  );
}

/**
 * Lets idle CPUs poll up to `ns` before halting, for the rest of the run. Answers the function
 * that puts the previous value back (idempotent: call it on every way out). Refuses, saying
 * why, where there is no haltpoll driver or the setting cannot be written (root only).
 */
export function pollBeforeHalting(ns: number, sysfs = "/sys"): () => void {
  const settings = readIdleSettings(sysfs);
  if (settings.haltPollNs === undefined) {
    throw new Error(
      `--idle-poll: this machine's idle driver is ${settings.driver ?? "unknown"}, not haltpoll: nothing to change`,
    );
  }
  const file = haltPollFile(sysfs);
  const previous = settings.haltPollNs;
  try {
    writeFileSync(file, String(ns));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`--idle-poll: cannot write ${file} (run as root): ${reason}`);
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    writeFileSync(file, String(previous));
  };
}
