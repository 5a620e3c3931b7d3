/**
 * Probes for process managers and load balancers. `/healthz`: the process is alive and
 * serving. `/readyz`: it can do its work (the database answers and every migration is
 * applied); otherwise 503 with the error body saying why, so a balancer sends traffic
 * elsewhere. Neither needs a key, and neither is rate limited.
 */
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { type Db, pendingMigrations } from "../db/database.js";
import { ApiError, sendError } from "../http/errors.js";

export async function healthRoutes(app: FastifyInstance, db: Db): Promise<void> {
  // Migrations are never un-applied: once current, only the connection needs checking.
  let migrationsCurrent = false;

  app.get("/healthz", { schema: { hide: true }, config: { rateLimit: false } }, async () => ({
    status: "ok",
  }));

  app.get("/readyz", { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
    try {
      await sql`select 1`.execute(db.kysely);
      if (!migrationsCurrent) {
        const pending = await pendingMigrations(db);
        if (pending.length > 0) {
          return sendError(
            reply,
            new ApiError(503, `Not ready: database migrations pending: ${pending.join(", ")}`),
          );
        }
        migrationsCurrent = true;
      }
    } catch (error) {
      // The driver's words (host names, ports, file paths) go to the log, not to the public.
      request.log.warn({ err: error }, "readiness check failed");
      return sendError(
        reply,
        new ApiError(503, "Not ready: the database is unreachable (see the server log)", {
          retryAfterSeconds: 2,
        }),
      );
    }
    return { status: "ready" };
  });
}
