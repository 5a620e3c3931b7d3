/**
 * The delivery worker, running in every server process. Each round it claims a batch of due
 * deliveries (atomically: with several processes each delivery goes to one of them), sends
 * them through the outbound client (timeout, size limit, SSRF guard), and records each attempt
 * with its outcome in one transaction:
 *
 * - 2xx: delivered. Anything else (another status, a timeout, a refused connection, a blocked
 *   address) is a failed attempt, retried on the schedule of retry.ts until it is exhausted,
 *   then the delivery is `failed`.
 * - A delivery that succeeds, or fails its last attempt, is counted in the project's day
 *   (stats/store.ts), in the same transaction.
 * - An endpoint whose every attempt has failed for WEBHOOK_DISABLE_AFTER is disabled, and a
 *   `webhook_endpoint.disabled` event goes to the project's other endpoints.
 *
 * Delivery is at least once: a process that dies mid-send leaves a claim that lapses after the
 * lease, and another round sends again with the same `webhook-id`.
 */
import type { FastifyBaseLogger } from "fastify";
import type { WebhookConfig } from "../config.js";
import type { SecretBox } from "../crypto/secrets.js";
import type { Db } from "../db/database.js";
import { type OutboundClient, OutboundRequestError } from "../outbound/client.js";
import { addToDailyStats } from "../stats/store.js";
import { type Clock, isoTimestamp, systemClock } from "../time.js";
import type { WebhookOutbox } from "./outbox.js";
import { nextRetryDelayMs, parseRetryAfter } from "./retry.js";
import { endpointView, signingSecrets } from "./service.js";
import { signedHeaders } from "./signing.js";
import * as store from "./store.js";

const BATCH_SIZE = 25;
const LEASE_MARGIN_MS = 30_000;
const ERROR_EXCERPT_CHARS = 200;
export const USER_AGENT = "Connect-Hub-Webhooks/0.1";

interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  retryAfterMs: number | undefined;
}

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopping = false;
  private readonly clock: Clock;

  constructor(
    private readonly db: Db,
    private readonly outbound: OutboundClient,
    private readonly secrets: SecretBox,
    private readonly outbox: WebhookOutbox,
    private readonly config: WebhookConfig,
    private readonly options: { clock?: Clock; log?: FastifyBaseLogger; random?: () => number } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Polls every WEBHOOK_POLL_INTERVAL (never when it is 0); the timer does not keep the process alive. */
  start(): void {
    if (this.config.pollIntervalMs === 0 || this.timer || this.stopping) return;
    this.schedule(0);
  }

  /** Stops polling and waits for the round in progress (its sends are bounded by the outbound timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }

  /** One round: claims and sends up to a batch of due deliveries; returns how many it sent. */
  runOnce(): Promise<number> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.poll(), delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      // A full batch means more may be due: go on at once.
      while (!this.stopping && (await this.runOnce()) === BATCH_SIZE) {}
    } catch (error) {
      this.options.log?.warn({ err: error }, "webhook delivery round failed; it will run again");
    }
    if (!this.stopping) this.schedule(this.config.pollIntervalMs);
  }

  private async round(): Promise<number> {
    const now = this.clock();
    const leaseUntil = new Date(now.getTime() + this.outbound.options.timeoutMs + LEASE_MARGIN_MS);
    const claimed = await store.claimDueDeliveries(
      this.db.kysely,
      this.db.dialect,
      isoTimestamp(now),
      isoTimestamp(leaseUntil),
      BATCH_SIZE,
    );
    if (!claimed.length) return 0;
    const events = new Map(
      (await store.findEvents(this.db.kysely, [...new Set(claimed.map((d) => d.event_id))])).map((e) => [
        e.id,
        e,
      ]),
    );
    const endpoints = new Map(
      (await store.findEndpointsByIds(this.db.kysely, [...new Set(claimed.map((d) => d.endpoint_id))])).map(
        (e) => [e.id, e],
      ),
    );
    await Promise.all(
      claimed.map(async (delivery) => {
        const event = events.get(delivery.event_id);
        const endpoint = endpoints.get(delivery.endpoint_id);
        // Deleted meanwhile (the endpoint's deliveries go with it): nothing left to send.
        if (!event || !endpoint) return;
        try {
          await this.record(delivery, event, endpoint, await this.send(event, endpoint));
        } catch (error) {
          this.options.log?.warn(
            { err: error, deliveryId: delivery.id },
            "could not record a webhook attempt; the delivery will be retried when its claim lapses",
          );
        }
      }),
    );
    return claimed.length;
  }

  private async send(
    event: store.WebhookEventRow,
    endpoint: store.WebhookEndpointRow,
  ): Promise<AttemptOutcome> {
    const now = this.clock();
    const headers = signedHeaders(
      signingSecrets(this.secrets, endpoint, now),
      event.id,
      Math.floor(now.getTime() / 1000),
      event.payload,
    );
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    try {
      const response = await this.outbound.request(
        endpoint.url,
        {
          method: "POST",
          headers: { ...headers, "content-type": "application/json", "user-agent": USER_AGENT },
          body: event.payload,
        },
        { allowedHosts: this.config.allowedHosts },
      );
      const ok = response.status >= 200 && response.status < 300;
      const retryAfterMs =
        response.status === 429 || response.status === 503
          ? parseRetryAfter(response.headers.get("retry-after"), this.clock())
          : undefined;
      const excerpt = response.text.replace(/\s+/g, " ").trim().slice(0, ERROR_EXCERPT_CHARS);
      return {
        statusCode: response.status,
        error: ok ? null : `the endpoint answered ${response.status}${excerpt ? `: ${excerpt}` : ""}`,
        latencyMs: latency(),
        retryAfterMs,
      };
    } catch (error) {
      const message = error instanceof OutboundRequestError ? error.message : "the request failed";
      return { statusCode: null, error: message, latencyMs: latency(), retryAfterMs: undefined };
    }
  }

  private async record(
    delivery: store.ClaimedDelivery,
    event: store.WebhookEventRow,
    endpoint: store.WebhookEndpointRow,
    outcome: AttemptOutcome,
  ): Promise<void> {
    const now = this.clock();
    const nowIso = isoTimestamp(now);
    const attemptsMade = delivery.attempts + 1;
    const succeeded = outcome.error === null;
    await this.db.kysely.transaction().execute(async (trx) => {
      await store.insertAttempt(trx, {
        project_id: delivery.project_id,
        endpoint_id: endpoint.id,
        delivery_id: delivery.id,
        event_id: event.id,
        event_type: event.type,
        attempted_at: nowIso,
        status_code: outcome.statusCode,
        latency_ms: outcome.latencyMs,
        succeeded: succeeded ? 1 : 0,
        error: outcome.error,
      });
      if (succeeded) {
        await store.settleDelivery(trx, delivery.id, {
          status: "succeeded",
          attempts: attemptsMade,
          next_attempt_at: nowIso,
          updated_at: nowIso,
        });
        await store.recordEndpointSuccess(trx, endpoint.id);
        await addToDailyStats(trx, "webhook_deliveries_succeeded", [
          { projectId: delivery.project_id, timestamp: nowIso },
        ]);
        return;
      }
      const delay = nextRetryDelayMs(
        this.config.retryScheduleMs,
        attemptsMade,
        outcome.retryAfterMs,
        this.options.random,
      );
      await store.settleDelivery(trx, delivery.id, {
        status: delay === undefined ? "failed" : "pending",
        attempts: attemptsMade,
        next_attempt_at: isoTimestamp(new Date(now.getTime() + (delay ?? 0))),
        updated_at: nowIso,
      });
      await store.recordEndpointFailure(trx, endpoint.id, nowIso);
      if (delay === undefined) {
        await addToDailyStats(trx, "webhook_deliveries_failed", [
          { projectId: delivery.project_id, timestamp: nowIso },
        ]);
      }
      // The endpoint's id, not its URL: a URL may carry a token of the receiver's.
      this.options.log?.warn(
        {
          deliveryId: delivery.id,
          endpointId: endpoint.id,
          eventType: event.type,
          attempt: attemptsMade,
          statusCode: outcome.statusCode,
          error: outcome.error,
          nextAttemptAt: delay === undefined ? null : isoTimestamp(new Date(now.getTime() + delay)),
        },
        delay === undefined ? "webhook delivery failed; giving up" : "webhook delivery failed; will retry",
      );
      const cutoff = isoTimestamp(new Date(now.getTime() - this.config.disableAfterMs));
      if (await store.disableFailingEndpoint(trx, endpoint.id, cutoff, nowIso)) {
        const disabled = await store.findEndpoint(trx, endpoint.project_id, endpoint.id);
        const reason = `every attempt failed for ${Math.round(this.config.disableAfterMs / 1000)} s; last: ${outcome.error}`;
        this.options.log?.warn(
          { endpointId: endpoint.id, url: endpoint.url, reason },
          "webhook endpoint disabled",
        );
        if (disabled) {
          await this.outbox.record(trx, endpoint.project_id, "webhook_endpoint.disabled", {
            endpoint: endpointView(disabled, now),
            reason,
          });
        }
      }
    });
  }
}
