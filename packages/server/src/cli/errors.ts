/**
 * How the CLI reports a failure: one line on stderr saying what is wrong and what to do, and a
 * non-zero exit code. The stack trace only with `--debug` (or LOG_LEVEL=debug/trace), for an
 * error that is not the operator's to fix.
 *
 * Services speak the API's language (`client_id`, `GET /providers`); at a shell the same rule
 * is told in the CLI's (`--client-id`, `connect-hub providers`), through the glossary below.
 */
import { CommanderError } from "commander";

/** A failure the operator can fix; its message says how. */
export class CliError extends Error {
  override readonly name = "CliError";
}

/** Errors whose message is already meant for the operator (by name: the classes load lazily). */
const EXPECTED_ERRORS = new Set([
  "BackupError",
  "CliError",
  "ConfigError",
  "CopyError",
  "ApiError",
  "DatabaseUnavailableError",
  "MigrationError",
  "ProviderCatalogError",
  "SecretBoxError",
]);

/** API words in service messages, and what the CLI calls the same thing. */
const GLOSSARY: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bset client_id and client_secret\b/g, "pass --client-id ID and --client-secret-stdin"],
  [/\bclient_id\b/g, "--client-id"],
  [/\bclient_secret\b/g, "--client-secret-stdin"],
  [/\(see GET \/providers\)/g, "(see `connect-hub providers`)"],
  [/\(PATCH enabled: true\)/g, "(`connect-hub webhooks enable ID`)"],
  [/^allowed_origins: /g, ""],
  [/^events must be\b/g, "--events must be"],
  [/^url\b/g, "the URL"],
  [/\borigin_owner_id\b/g, "--owner-id"],
  [/\borigin_owner_name\b/g, "--owner-name"],
];

export function inCliTerms(message: string): string {
  return GLOSSARY.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message);
}

/** Writes the report for `error` to stderr and returns the exit code. */
export function reportError(error: unknown, options: { debug: boolean; command?: string }): number {
  if (error instanceof CommanderError) {
    // `--help` and `--version` end this way too, with code 0 and nothing more to say.
    if (error.exitCode === 0) return 0;
    const message = error.message.replace(/^error: /, "");
    const help = ["connect-hub", options.command, "--help"].filter(Boolean).join(" ");
    process.stderr.write(`connect-hub: ${message} (see \`${help}\`)\n`);
    return error.exitCode || 1;
  }
  const { message, expected } = describe(error);
  const hint = expected || options.debug ? "" : " (run again with --debug for the stack trace)";
  process.stderr.write(`connect-hub: ${message}${hint}\n`);
  if (options.debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return 1;
}

function describe(error: unknown): { message: string; expected: boolean } {
  if (!(error instanceof Error)) return { message: String(error), expected: false };
  if (error.name === "ConfigError") {
    return {
      message: `${error.message} (\`connect-hub serve --help\` lists every variable)`,
      expected: true,
    };
  }
  if (error.name === "ApiError") return { message: inCliTerms(error.message), expected: true };
  if (EXPECTED_ERRORS.has(error.name)) return { message: error.message, expected: true };
  const code = (error as NodeJS.ErrnoException).code;
  const address = error as { address?: string; port?: number };
  if (code === "EADDRINUSE") {
    return {
      message: `port ${address.port} on ${address.address} is already in use: stop the other server or set PORT to a free port`,
      expected: true,
    };
  }
  if (code === "EACCES" && address.port !== undefined) {
    return {
      message: `not allowed to listen on port ${address.port}: use a port above 1023 or run with the right privileges`,
      expected: true,
    };
  }
  if (code === "EADDRNOTAVAIL") {
    return {
      message: `cannot listen on ${address.address}: set HOST to an address of this machine`,
      expected: true,
    };
  }
  return { message: `unexpected error: ${error.message}`, expected: false };
}

/** `--debug` anywhere on the command line, or a debug log level, shows stack traces. */
export function wantsDebug(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const level = env.LOG_LEVEL?.trim();
  return argv.includes("--debug") || level === "debug" || level === "trace";
}
