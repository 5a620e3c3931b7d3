// Writes scripts/test-durations.json (seconds per test file, import included) from a Vitest
// JSON report: `npx vitest run --reporter=json --outputFile=report.json`, then
// `node scripts/record-test-durations.mjs report.json`. See slow-first-sequencer.ts.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const [reportFile] = process.argv.slice(2);
if (!reportFile) {
  console.error("usage: node scripts/record-test-durations.mjs <vitest json report>");
  process.exit(2);
}
const root = path.resolve(new URL("..", import.meta.url).pathname);
const report = JSON.parse(readFileSync(reportFile, "utf8"));
const durations = Object.fromEntries(
  report.testResults
    .map((file) => [path.relative(root, file.name), Math.round((file.endTime - file.startTime) / 100) / 10])
    .sort(([a], [b]) => (a < b ? -1 : 1)),
);
writeFileSync(new URL("./test-durations.json", import.meta.url), `${JSON.stringify(durations, null, 2)}\n`);
console.log(`${Object.keys(durations).length} files`);
