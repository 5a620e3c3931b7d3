/**
 * Runs the server: migrate, listen, and shut down gracefully on SIGTERM or SIGINT: stop
 * accepting connections, finish the requests in flight, stop the sweeper, close the database
 * pool and Redis, exit 0.
 */
import { buildApp } from "./app.js";
import type { Config } from "./config.js";
import { explainDatabaseErrors } from "./db/availability.js";
import { migrateToLatest, openDatabase } from "./db/database.js";
import { flushLogs } from "./http/logging.js";

export async function serve(config: Config): Promise<void> {
  const db = await explainDatabaseErrors(config.database, async () => openDatabase(config.database));
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    const applied = await explainDatabaseErrors(config.database, () => migrateToLatest(db));
    app = await buildApp({ config, db });
    if (applied.length) app.log.info({ migrations: applied }, "applied database migrations");
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down: finishing requests in flight");
    try {
      // Closes the listener at once, waits for requests in flight, then runs the onClose
      // hooks (sweeper, Redis).
      await app.close();
      await db.close();
      app.log.info("shut down cleanly");
      await flushLogs(app.log);
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // A port in use, say: release everything so the process can report it and exit.
    await app.close().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }
  app.log.info(
    { publicUrl: config.publicUrl, database: config.database.dialect },
    "Connect Hub is listening",
  );
}
