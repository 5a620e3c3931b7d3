/** The connect page's theme per project (JSON text; null: the default). Frozen once released. */
import type { Kysely } from "kysely";

export const projectTheme = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable("projects").addColumn("theme", "text").execute();
  },
};
