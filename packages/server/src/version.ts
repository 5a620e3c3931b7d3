/** The server's version, read from its package.json so that the CLI, the OpenAPI document and the package never disagree. */
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export const VERSION: string = manifest.version;
