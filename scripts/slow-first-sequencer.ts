/**
 * Runs the slowest test files first, so the two workers finish together instead of one of
 * them starting a 40-second file when everything else is done. Vitest does this itself from
 * its cache of earlier runs, but CI always starts from a clean clone with no cache: the
 * durations of a recent run are committed beside this file (test-durations.json, refreshed
 * with `node scripts/record-test-durations.mjs <vitest json report>`). Files it does not know
 * run first, as Vitest's own sequencer does with new files.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

const DURATIONS_FILE = new URL("./test-durations.json", import.meta.url);

function knownDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(DURATIONS_FILE, "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const durations = knownDurations();
    const root = this.ctx.config.root;
    const seconds = (file: TestSpecification) =>
      durations[path.relative(root, file.moduleId).split(path.sep).join("/")] ?? Number.POSITIVE_INFINITY;
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
