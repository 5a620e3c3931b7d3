/**
 * The console's built files at `/console/` (the `@connect-hub/console` package's dist, or
 * CONSOLE_ASSETS_DIR). A path without a file extension serves index.html, so the browser
 * app's deep links work. index.html is never cached (it names the current hashed assets);
 * files under `assets/` are content-hashed and cached for a year, immutable. HTML answers get
 * the connect page's strict CSP from security-headers.ts. When the folder is missing, the
 * console's paths answer 404 saying how to build it.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { ApiError } from "../http/errors.js";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".txt": "text/plain; charset=utf-8",
};
const IMMUTABLE = "public, max-age=31536000, immutable";

/** CONSOLE_ASSETS_DIR, else the installed `@connect-hub/console` package's dist, else the workspace's. */
export function consoleAssetsDir(configured: string | undefined): string {
  if (configured) return configured;
  try {
    const manifest = createRequire(import.meta.url).resolve("@connect-hub/console/package.json");
    return path.join(path.dirname(manifest), "dist");
  } catch {
    // Not installed as a package: the monorepo's folder, beside this package.
    return fileURLToPath(new URL("../../../console/dist", import.meta.url));
  }
}

export function consoleAssetRoutes(assetsDir: string): FastifyPluginAsync {
  const root = path.resolve(assetsDir);
  return async (app) => {
    const serve = async (relative: string, reply: FastifyReply) => {
      const index = path.join(root, "index.html");
      if (!existsSync(index)) {
        throw new ApiError(
          404,
          `The console is not built: run \`npm run build\` (or set CONSOLE_ASSETS_DIR to its built files; looked in ${root})`,
        );
      }
      const hasExtension = path.posix.extname(relative) !== "";
      if (!hasExtension) return sendFile(reply, index, "no-store");
      const file = path.resolve(root, relative);
      // Never outside the folder (`..`, encoded or not, is resolved before this check).
      if (!file.startsWith(root + path.sep) || !isFile(file)) {
        throw new ApiError(404, `Route GET /console/${relative.slice(0, 200)} does not exist`);
      }
      const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
      if (!type) throw new ApiError(404, `Route GET /console/${relative.slice(0, 200)} does not exist`);
      const cache = relative.startsWith("assets/") ? IMMUTABLE : file === index ? "no-store" : "no-cache";
      return sendFile(reply, file, cache, type);
    };
    const routeOptions = { schema: { hide: true } };
    app.get("/console", routeOptions, async (_request, reply) => reply.redirect("/console/", 301));
    app.get("/console/", routeOptions, async (_request, reply) => serve("", reply));
    app.get<{ Params: { "*": string } }>("/console/*", routeOptions, async (request, reply) =>
      serve(request.params["*"], reply),
    );
  };
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function sendFile(reply: FastifyReply, file: string, cacheControl: string, type = CONTENT_TYPES[".html"]) {
  return reply
    .header("cache-control", cacheControl)
    .header("content-length", statSync(file).size)
    .type(type ?? "application/octet-stream")
    .send(createReadStream(file));
}
