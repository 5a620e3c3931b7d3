/** Wire schemas of the console's overview: the funnel over time, accounts, webhook deliveries. */
import { type Static, Type } from "@sinclair/typebox";
import { StringEnum } from "../http/schema-types.js";

export const STATS_INTERVALS = ["day", "week"] as const;
export type StatsInterval = (typeof STATS_INTERVALS)[number];

/** The longest range one request may ask for, in buckets of each interval. */
export const MAX_BUCKETS: Record<StatsInterval, number> = { day: 366, week: 104 };
/** Buckets answered when `from` is left out. */
export const DEFAULT_BUCKETS: Record<StatsInterval, number> = { day: 30, week: 12 };

const Day = (description: string) => Type.String({ format: "date", description, examples: ["2026-12-01"] });

export const StatsOverviewQuery = Type.Object({
  interval: Type.Optional(
    StringEnum(STATS_INTERVALS, { description: "Bucket size: `day` (the default) or `week` (from Monday)." }),
  ),
  from: Type.Optional(
    Day(
      "First UTC day (inclusive); by week, rounded down to its Monday. Default: 30 days (by day) or 12 weeks (by week) ending at `to`.",
    ),
  ),
  to: Type.Optional(Day("Last UTC day (inclusive). Default: today.")),
});
export type StatsOverviewQuery = Static<typeof StatsOverviewQuery>;

const Count = (description: string) => Type.Integer({ minimum: 0, description });

export const StatsBucket = Type.Object({
  start: Day("The bucket's first UTC day."),
  sessions_created: Count("Connect sessions created in the bucket."),
  sessions_opened: Count("Of those, how many had their link opened (connect page or embedded hub)."),
  sessions_completed: Count("Of those, how many linked an account."),
  sessions_expired_unconnected: Count(
    "Of those, how many expired without linking an account (counted when the sweeper marks them expired).",
  ),
  webhook_deliveries_succeeded: Count("Webhook deliveries that succeeded in the bucket."),
  webhook_deliveries_failed: Count(
    "Webhook deliveries that failed their last attempt in the bucket (a replay counts again).",
  ),
});

export const StatsOverview = Type.Object(
  {
    interval: StringEnum(STATS_INTERVALS),
    from: Day("The first day covered (the first bucket's start)."),
    to: Day("The last day covered."),
    buckets: Type.Array(StatsBucket, {
      description: "Every bucket of the range, oldest first, zeros included.",
    }),
    accounts_by_provider: Type.Array(
      Type.Object({
        provider: Type.String(),
        active: Count("Accounts in status `active`."),
        error: Count("Accounts in status `error`."),
        total: Count("Accounts in any status."),
      }),
      { description: "The project's linked accounts now, by provider, most accounts first." },
    ),
    accounts_in_error: Count("The project's accounts in status `error` now."),
  },
  {
    $id: "StatsOverview",
    description:
      "The console's overview of a project. Session counts belong to the day each session was created (the funnel of that day's sessions) and are kept after the sweeper deletes the sessions.",
  },
);

/** Response schemas referenced by `$ref`: registered once, at the root of the app. */
export const STATS_SHARED_SCHEMAS = [StatsOverview];
