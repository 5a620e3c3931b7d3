/**
 * The reference issue 11 names: a plain Fastify + better-sqlite3 server doing authenticate's
 * lookup and nothing else (no request log, API key, rate limit, security headers, body schema
 * or response schema). Connect Hub does the same lookup with every default on; the distance
 * between the two is what those defaults cost.
 * Usage: node reference-server.js PORT SQLITE_FILE
 */
import { createHash } from "node:crypto";
import SQLite from "better-sqlite3";
import Fastify from "fastify";

const port = Number(process.argv[2]);
const database = new SQLite(process.argv[3] ?? "", { fileMustExist: true });
database.pragma("journal_mode = WAL");
const liveSession = database.prepare<[string, string], Record<string, unknown>>(
  "select * from connect_sessions where token_hash = ? and expires_at > ?",
);

const app = Fastify({ logger: false });
app.get("/healthz", async () => ({ status: "ok" }));
app.post<{ Body: { token?: unknown } }>("/connect_sessions/authenticate", async (request, reply) => {
  const token = typeof request.body?.token === "string" ? request.body.token : "";
  const row = liveSession.get(createHash("sha256").update(token).digest("hex"), new Date().toISOString());
  if (!row) return reply.code(404).send({ message: "Not Found" });
  return reply.code(201).send({
    id: row.id,
    project_id: row.project_id,
    categories: JSON.parse(String(row.categories ?? "null")),
    provider: row.provider,
    origin_owner_id: row.origin_owner_id,
    origin_owner_name: row.origin_owner_name,
    origin_username: row.origin_username,
    metadata: row.metadata === null ? null : JSON.parse(String(row.metadata)),
    type: row.type,
    status: row.status,
    created_at: row.created_at,
    expires_at: row.expires_at,
  });
});

await app.listen({ port, host: "127.0.0.1" });
process.on("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
