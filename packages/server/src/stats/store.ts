/**
 * SQL of the per-day rollup (`project_daily_stats`). Counters are added in the transaction of
 * the change they count (a session created, opened, completed or expired; a delivery
 * finished), so they commit or roll back with it, and nothing ever deletes them: the funnel
 * survives the sweeper deleting the sessions it was counted from.
 */
import type { Kysely } from "kysely";
import { preparedQuery } from "../db/prepared.js";
import type { Database, ProjectDailyStatsTable } from "../db/schema.js";

export type DailyCounter = Exclude<keyof ProjectDailyStatsTable, "project_id" | "day">;

export const DAILY_COUNTERS = [
  "sessions_created",
  "sessions_opened",
  "sessions_completed",
  "sessions_expired_unconnected",
  "webhook_deliveries_succeeded",
  "webhook_deliveries_failed",
] as const satisfies readonly DailyCounter[];

/** The UTC day (`YYYY-MM-DD`) of an ISO-8601 timestamp. */
export const dayOf = (timestamp: string): string => timestamp.slice(0, 10);

/** Adds `amount` to one counter of a project's day, creating the day's row if needed. */
const addQueries = new Map(
  DAILY_COUNTERS.map((counter) => [
    counter,
    preparedQuery((db, projectId: string, day: string, amount: number) =>
      db
        .insertInto("project_daily_stats")
        .values({ ...zeroCounters(), project_id: projectId, day, [counter]: amount })
        .onConflict((conflict) =>
          conflict.columns(["project_id", "day"]).doUpdateSet((eb) => ({
            [counter]: eb(`project_daily_stats.${counter}`, "+", eb.ref(`excluded.${counter}`)),
          })),
        ),
    ),
  ]),
);

function zeroCounters(): Record<DailyCounter, number> {
  return Object.fromEntries(DAILY_COUNTERS.map((counter) => [counter, 0])) as Record<DailyCounter, number>;
}

/** Counts rows into a project's days; call inside the transaction of the change counted. */
export async function addToDailyStats(
  trx: Kysely<Database>,
  counter: DailyCounter,
  rows: ReadonlyArray<{ projectId: string; timestamp: string }>,
): Promise<void> {
  const totals = new Map<string, { projectId: string; day: string; amount: number }>();
  for (const { projectId, timestamp } of rows) {
    const day = dayOf(timestamp);
    const key = `${projectId}\u0000${day}`;
    const total = totals.get(key) ?? { projectId, day, amount: 0 };
    total.amount++;
    totals.set(key, total);
  }
  const query = addQueries.get(counter);
  if (!query) throw new Error(`unknown counter ${counter}`);
  // In key order, so two transactions counting the same days lock their rows in one order.
  for (const key of [...totals.keys()].sort()) {
    const total = totals.get(key) as { projectId: string; day: string; amount: number };
    await query(trx, total.projectId, total.day, total.amount);
  }
}

export type DailyStatsRow = ProjectDailyStatsTable;

/** A project's days from `fromDay` to `toDay` (inclusive) that have a row, oldest first. */
export async function listDailyStats(
  db: Kysely<Database>,
  projectId: string,
  fromDay: string,
  toDay: string,
): Promise<DailyStatsRow[]> {
  const rows = await db
    .selectFrom("project_daily_stats")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("day", ">=", fromDay)
    .where("day", "<=", toDay)
    .orderBy("day")
    .execute();
  // pg returns integers of sums as they are; the counters are plain integers on both.
  return rows.map((row) => {
    const numeric = { ...row };
    for (const counter of DAILY_COUNTERS) numeric[counter] = Number(row[counter]);
    return numeric;
  });
}

export interface AccountsByProviderRow {
  provider: string;
  status: string;
  count: number;
}

/** How many of the project's accounts each provider has, per status. */
export async function countAccountsByProviderAndStatus(
  db: Kysely<Database>,
  projectId: string,
): Promise<AccountsByProviderRow[]> {
  const rows = await db
    .selectFrom("linked_accounts")
    .select(["provider", "status", (eb) => eb.fn.countAll<number | string>().as("count")])
    .where("project_id", "=", projectId)
    .groupBy(["provider", "status"])
    .execute();
  return rows.map((row) => ({ provider: row.provider, status: row.status, count: Number(row.count) }));
}
