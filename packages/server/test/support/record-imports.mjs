// Loaded with `node --import`: records the URL of every ES module the process resolves, one
// per line, into the file named by RECORD_IMPORTS_FILE (the hooks run on a thread of their own).
import { register } from "node:module";

register("./record-imports-hooks.mjs", import.meta.url, { data: { file: process.env.RECORD_IMPORTS_FILE } });
