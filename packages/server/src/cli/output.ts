/**
 * What listing commands print on standard output: a table with a header line and tab-separated
 * columns (for people and `cut`), or with `--json` one JSON array (for scripts and `jq`).
 * Messages for people go to stderr, so standard output stays clean for either.
 */
import type { Command } from "commander";

export interface JsonOption {
  json?: boolean;
}

export function withJsonOption(command: Command): Command {
  return command.option("--json", "print a JSON array instead of a table");
}

/** One column: its header and how a row shows in it. */
export type Column<T> = readonly [header: string, cell: (row: T) => string | number | null | undefined];

export function printList<T>(
  rows: readonly T[],
  options: JsonOption,
  columns: readonly Column<T>[],
  toJson: (row: T) => unknown = (row) => row,
): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows.map(toJson), null, 2)}\n`);
    return;
  }
  const lines = [
    columns.map(([header]) => header).join("\t"),
    ...rows.map((row) => columns.map(([, cell]) => cellText(cell(row))).join("\t")),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** A cell never breaks the table: tabs and line breaks become spaces, empty values "-". */
function cellText(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "-";
  return String(value).replace(/[\t\r\n]+/g, " ");
}
