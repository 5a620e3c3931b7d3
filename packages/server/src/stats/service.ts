/**
 * The console's overview of a project: the per-day rollup folded into the asked buckets (with
 * the empty ones, so charts have no gaps), and the project's accounts as they are now.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import type { Clock } from "../time.js";
import { DEFAULT_BUCKETS, MAX_BUCKETS, type StatsInterval, type StatsOverviewQuery } from "./schema.js";
import * as store from "./store.js";

export type StatsBucketView = { start: string } & Record<store.DailyCounter, number>;

export interface StatsOverviewView {
  interval: StatsInterval;
  from: string;
  to: string;
  buckets: StatsBucketView[];
  accounts_by_provider: Array<{ provider: string; active: number; error: number; total: number }>;
  accounts_in_error: number;
}

const DAY_MS = 86_400_000;

const parseDay = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);
const formatDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The Monday (UTC) of the week holding `ms`. */
function mondayOf(ms: number): number {
  const weekday = (new Date(ms).getUTCDay() + 6) % 7;
  return ms - weekday * DAY_MS;
}

export class StatsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async overview(projectId: string, query: StatsOverviewQuery): Promise<StatsOverviewView> {
    const interval = query.interval ?? "day";
    const { bucketStarts, fromDay, toDay } = this.range(interval, query);
    const buckets = new Map<string, StatsBucketView>(
      bucketStarts.map((start) => [start, { start, ...emptyCounters() }]),
    );
    for (const row of await store.listDailyStats(this.db, projectId, fromDay, toDay)) {
      const start = formatDay(interval === "day" ? parseDay(row.day) : mondayOf(parseDay(row.day)));
      const bucket = buckets.get(start);
      if (!bucket) continue;
      for (const counter of store.DAILY_COUNTERS) bucket[counter] += row[counter];
    }
    const byProvider = new Map<string, { provider: string; active: number; error: number; total: number }>();
    let inError = 0;
    for (const { provider, status, count } of await store.countAccountsByProviderAndStatus(
      this.db,
      projectId,
    )) {
      const entry = byProvider.get(provider) ?? { provider, active: 0, error: 0, total: 0 };
      if (status === "active") entry.active += count;
      if (status === "error") {
        entry.error += count;
        inError += count;
      }
      entry.total += count;
      byProvider.set(provider, entry);
    }
    return {
      interval,
      from: fromDay,
      to: toDay,
      buckets: [...buckets.values()],
      accounts_by_provider: [...byProvider.values()].sort(
        (a, b) => b.total - a.total || a.provider.localeCompare(b.provider),
      ),
      accounts_in_error: inError,
    };
  }

  /** The buckets a query covers; 400 naming the field when the range is backwards or too long. */
  private range(interval: StatsInterval, query: StatsOverviewQuery) {
    const stepMs = interval === "day" ? DAY_MS : 7 * DAY_MS;
    const align = (ms: number) => (interval === "day" ? ms : mondayOf(ms));
    const toMs = query.to !== undefined ? parseDay(query.to) : parseDay(formatDay(this.clock().getTime()));
    const firstMs =
      query.from !== undefined
        ? align(parseDay(query.from))
        : align(toMs) - (DEFAULT_BUCKETS[interval] - 1) * stepMs;
    if (firstMs > toMs) throw new ApiError(400, "from must not be after to");
    const count = Math.floor((align(toMs) - firstMs) / stepMs) + 1;
    if (count > MAX_BUCKETS[interval]) {
      throw new ApiError(
        400,
        `from: the range holds ${count} ${interval}s; at most ${MAX_BUCKETS[interval]} by ${interval}`,
      );
    }
    const bucketStarts = Array.from({ length: count }, (_, i) => formatDay(firstMs + i * stepMs));
    return { bucketStarts, fromDay: formatDay(firstMs), toDay: formatDay(toMs) };
  }
}

function emptyCounters(): Record<store.DailyCounter, number> {
  return Object.fromEntries(store.DAILY_COUNTERS.map((counter) => [counter, 0])) as Record<
    store.DailyCounter,
    number
  >;
}
