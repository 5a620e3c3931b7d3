/** Runs the server: migrate, listen, and shut down gracefully on SIGTERM or SIGINT. */
import { buildApp } from "./app.js";
import type { Config } from "./config.js";
import { migrateToLatest, openDatabase } from "./db/database.js";

export async function serve(config: Config): Promise<void> {
  const db = openDatabase(config.database);
  await migrateToLatest(db);
  const app = await buildApp({ config, db });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down: finishing requests in flight");
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { publicUrl: config.publicUrl, database: config.database.dialect },
    "Connect Hub is listening",
  );
}
