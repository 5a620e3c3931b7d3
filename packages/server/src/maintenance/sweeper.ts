/**
 * The sweeper: removes what has outlived its use, in small batches, in the background.
 *
 * - Each task works through its rows `batchSize` at a time, one short statement per batch,
 *   yielding to the event loop between batches so requests are never held up.
 * - Several processes may sweep at once: every batch re-selects what is still due (on
 *   PostgreSQL skipping rows another sweeper holds), and every statement is idempotent.
 * - Sessions go in two passes: past expiry they are marked `expired`, with a
 *   `connect_session.expired` event recorded in the same transaction, and only after
 *   SESSION_RETENTION_SECONDS more are they deleted.
 * - Console sign-in links go once expired; console sessions a day after they expired or were
 *   revoked; audit events and account history after AUDIT_RETENTION.
 *
 * New tables add a task to `sweepTasks`.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { FastifyBaseLogger } from "fastify";
import * as accountHistory from "../accounts/history.js";
import type { SweeperConfig } from "../config.js";
import * as sessions from "../connect-sessions/store.js";
import * as audit from "../console/audit-store.js";
import * as consoleStore from "../console/store.js";
import type { Db } from "../db/database.js";
import * as attempts from "../embed/attempts-store.js";
import * as idempotency from "../idempotency/store.js";
import * as oauthStates from "../oauth/store.js";
import { addSeconds, type Clock, isoTimestamp, systemClock } from "../time.js";
import type { WebhookOutbox } from "../webhooks/outbox.js";
import * as webhooks from "../webhooks/store.js";

export interface SweepTask {
  readonly name: string;
  /** Handles at most `limit` rows; returns how many it handled (fewer than `limit`: done). */
  sweepBatch(db: Db, now: Date, limit: number): Promise<number>;
}

export interface SweepOptions {
  /** Records `connect_session.expired` for each session marked, in the marking transaction. */
  events?: WebhookOutbox | undefined;
  /** Seconds finished webhook deliveries are kept (WEBHOOK_RETENTION); default 30 days. */
  webhookRetentionSeconds?: number | undefined;
  /** Seconds audit events and account history are kept (AUDIT_RETENTION); default 365 days. */
  auditRetentionSeconds?: number | undefined;
}

/** Seconds an ended console session is kept, so the console can still show it as ended. */
const CONSOLE_SESSION_GRACE_SECONDS = 86_400;

export function sweepTasks(
  config: Pick<SweeperConfig, "sessionRetentionSeconds">,
  options: SweepOptions = {},
): SweepTask[] {
  const auditCutoff = (now: Date) =>
    isoTimestamp(addSeconds(now, -(options.auditRetentionSeconds ?? 365 * 86_400)));
  return [
    {
      name: "expire_connect_sessions",
      sweepBatch: (db, now, limit) =>
        db.kysely.transaction().execute(async (trx) => {
          const expired = await sessions.markExpiredConnectSessions(
            trx,
            db.dialect,
            isoTimestamp(now),
            limit,
          );
          for (const session of expired) {
            await options.events?.recordSessionEvent(trx, "connect_session.expired", session);
          }
          return expired.length;
        }),
    },
    {
      name: "delete_expired_connect_sessions",
      sweepBatch: (db, now, limit) =>
        sessions.deleteExpiredConnectSessions(
          db.kysely,
          db.dialect,
          isoTimestamp(addSeconds(now, -config.sessionRetentionSeconds)),
          limit,
        ),
    },
    {
      name: "delete_expired_idempotency_records",
      sweepBatch: (db, now, limit) =>
        idempotency.deleteExpiredIdempotencyRecords(db.kysely, db.dialect, isoTimestamp(now), limit),
    },
    {
      name: "delete_expired_oauth_states",
      sweepBatch: (db, now, limit) =>
        oauthStates.deleteExpiredOAuthStates(db.kysely, db.dialect, isoTimestamp(now), limit),
    },
    {
      name: "delete_expired_connection_attempts",
      sweepBatch: (db, now, limit) =>
        attempts.deleteExpiredConnectionAttempts(
          db.kysely,
          db.dialect,
          isoTimestamp(addSeconds(now, -3600)),
          limit,
        ),
    },
    {
      name: "delete_old_webhook_deliveries",
      sweepBatch: (db, now, limit) =>
        webhooks.deleteOldWebhookRows(
          db.kysely,
          db.dialect,
          isoTimestamp(addSeconds(now, -(options.webhookRetentionSeconds ?? 30 * 86_400))),
          limit,
        ),
    },
    {
      name: "delete_expired_console_sign_in_links",
      sweepBatch: (db, now, limit) =>
        consoleStore.deleteExpiredSignInLinks(db.kysely, db.dialect, isoTimestamp(now), limit),
    },
    {
      name: "delete_ended_console_sessions",
      sweepBatch: (db, now, limit) =>
        consoleStore.deleteEndedConsoleSessions(
          db.kysely,
          db.dialect,
          isoTimestamp(addSeconds(now, -CONSOLE_SESSION_GRACE_SECONDS)),
          limit,
        ),
    },
    {
      name: "delete_old_audit_events",
      sweepBatch: (db, now, limit) =>
        audit.deleteOldAuditEvents(db.kysely, db.dialect, auditCutoff(now), limit),
    },
    {
      name: "delete_old_account_history",
      sweepBatch: (db, now, limit) =>
        accountHistory.deleteOldAccountHistory(db.kysely, db.dialect, auditCutoff(now), limit),
    },
  ];
}

export type SweepReport = Record<string, number>;

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepReport> | undefined;
  private stopping = false;
  private readonly tasks: SweepTask[];

  constructor(
    private readonly db: Db,
    private readonly config: SweeperConfig,
    private readonly options: { clock?: Clock; log?: FastifyBaseLogger } & SweepOptions = {},
  ) {
    this.tasks = sweepTasks(config, options);
  }

  /** Sweeps every `intervalSeconds` (never when it is 0); the timer does not keep the process alive. */
  start(): void {
    if (this.config.intervalSeconds === 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) void this.sweepOnce().catch(() => {});
    }, this.config.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress to finish its current batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  /** One full pass over every task; returns the rows each handled. */
  sweepOnce(): Promise<SweepReport> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async pass(): Promise<SweepReport> {
    const report: SweepReport = {};
    const now = (this.options.clock ?? systemClock)();
    for (const task of this.tasks) {
      let total = 0;
      try {
        while (!this.stopping) {
          const handled = await task.sweepBatch(this.db, now, this.config.batchSize);
          total += handled;
          if (handled < this.config.batchSize) break;
          await nextTurn();
        }
      } catch (error) {
        this.options.log?.warn({ err: error, task: task.name }, "sweep task failed; it will run again");
      }
      report[task.name] = total;
    }
    if (Object.values(report).some((n) => n > 0)) this.options.log?.info({ sweep: report }, "swept");
    return report;
  }
}
