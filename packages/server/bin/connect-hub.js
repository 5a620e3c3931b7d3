#!/usr/bin/env node
// The `connect-hub` command; the compiled CLI is built by `npm install` (prepare) or `npm run build`.
import("../dist/cli.js").then(({ main }) => main(process.argv));
