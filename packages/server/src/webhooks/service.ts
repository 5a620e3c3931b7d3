/**
 * The rules of webhook endpoints: which URLs may be registered, their signing secrets (sealed
 * at rest, shown once, rotated with an overlap), and the operator's view of deliveries.
 */
import ipaddr from "ipaddr.js";
import type { Kysely } from "kysely";
import type { Config } from "../config.js";
import type { SecretBox } from "../crypto/secrets.js";
import { randomId } from "../crypto/tokens.js";
import type { DialectName } from "../db/dialect.js";
import type { Database } from "../db/schema.js";
import { ApiError } from "../http/errors.js";
import type { Page } from "../http/schema-types.js";
import { hostAndPort, isPublicAddress } from "../outbound/client.js";
import { addSeconds, type Clock, isoTimestamp } from "../time.js";
import { writeEvent } from "./outbox.js";
import {
  ALL_EVENTS,
  ATTEMPTS_PAGE_SIZE,
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  type DeliveriesQuery,
  TEST_EVENT_TYPE,
  WEBHOOK_EVENT_TYPES,
  type WebhookEndpointChanges,
  type WebhookEndpointCreate,
} from "./schema.js";
import { generateSigningSecret } from "./signing.js";
import * as store from "./store.js";

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookEndpointWithSecretView extends WebhookEndpointView {
  secret: string;
}

export interface WebhookAttemptView {
  id: number;
  delivery_id: number;
  event_id: string;
  event_type: string;
  attempted_at: string;
  status_code: number | null;
  latency_ms: number;
  succeeded: boolean;
  error: string | null;
}

export interface WebhookDeliverySummaryView {
  id: number;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  status: store.WebhookDeliveryRow["status"];
  attempts: number;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string;
  created_at: string;
  updated_at: string;
}

export const secretContext = (endpointId: string) => `webhook_endpoint:${endpointId}:signing_secret`;

/** Which endpoint URLs may be registered, and how many per project. */
export interface WebhookRules {
  readonly dialect: DialectName;
  readonly allowPrivateNetworks: boolean;
  readonly allowedHosts: ReadonlySet<string>;
  readonly maxEndpointsPerProject: number;
}

export function webhookRules(config: Config, dialect: DialectName): WebhookRules {
  return {
    dialect,
    allowPrivateNetworks: config.outbound.allowPrivateNetworks,
    allowedHosts: config.webhooks.allowedHosts,
    maxEndpointsPerProject: config.webhooks.maxEndpointsPerProject,
  };
}

export class WebhookService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly rules: WebhookRules,
  ) {}

  async create(projectId: string, input: WebhookEndpointCreate): Promise<WebhookEndpointWithSecretView> {
    const url = checkEndpointUrl(input.url, this.rules);
    if (input.events) checkEventTypes(input.events);
    const id = randomId("whe_");
    const secret = generateSigningSecret();
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      await store.lockProjectEndpoints(trx, this.rules.dialect, projectId);
      await this.refuseDuplicate(trx, projectId, url);
      const limit = this.rules.maxEndpointsPerProject;
      if ((await store.countEndpoints(trx, projectId)) >= limit) {
        throw new ApiError(
          409,
          `The project already has ${limit} webhook endpoints, the most allowed (WEBHOOK_MAX_ENDPOINTS): delete one, or give one endpoint several events`,
        );
      }
      await store.insertEndpoint(trx, {
        id,
        project_id: projectId,
        url,
        description: input.description ?? null,
        event_types: JSON.stringify(input.events ?? [ALL_EVENTS]),
        enabled: input.enabled === false ? 0 : 1,
        disabled_reason: input.enabled === false ? "disabled by request" : null,
        secret_sealed: this.secrets.seal(secret, secretContext(id)),
        previous_secret_sealed: null,
        previous_secret_expires_at: null,
        consecutive_failures: 0,
        failing_since: null,
        created_at: now,
        updated_at: now,
      });
    });
    return { ...(await this.get(projectId, id)), secret };
  }

  /** The project's endpoints, oldest first: one page of them, or all (for the CLI). */
  async list(projectId: string, page?: Page): Promise<WebhookEndpointView[]> {
    const rows = await store.listEndpoints(this.db, projectId, page);
    return rows.map((row) => endpointView(row, this.clock()));
  }

  async get(projectId: string, endpointId: string): Promise<WebhookEndpointView> {
    return endpointView(await this.findOrThrow(this.db, projectId, endpointId), this.clock());
  }

  /** Changes an endpoint; enabling a disabled one clears its failure record and resumes its deliveries. */
  async update(
    projectId: string,
    endpointId: string,
    changes: WebhookEndpointChanges,
  ): Promise<WebhookEndpointView> {
    await this.db.transaction().execute(async (trx) => {
      if (changes.url !== undefined) await store.lockProjectEndpoints(trx, this.rules.dialect, projectId);
      const row = await this.findOrThrow(trx, projectId, endpointId);
      const now = this.now();
      const next: Parameters<typeof store.updateEndpoint>[3] = { updated_at: now };
      if (changes.url !== undefined) {
        next.url = checkEndpointUrl(changes.url, this.rules);
        await this.refuseDuplicate(trx, projectId, next.url, endpointId);
      }
      if (changes.events !== undefined) next.event_types = JSON.stringify(checkEventTypes(changes.events));
      if (changes.description !== undefined) next.description = changes.description;
      if (changes.enabled === false && row.enabled === 1) {
        Object.assign(next, { enabled: 0, disabled_reason: "disabled by request" });
      }
      if (changes.enabled === true && row.enabled === 0) {
        Object.assign(next, {
          enabled: 1,
          disabled_reason: null,
          consecutive_failures: 0,
          failing_since: null,
        });
        await store.resumeDeliveries(trx, projectId, endpointId, now);
      }
      await store.updateEndpoint(trx, projectId, endpointId, next);
    });
    return this.get(projectId, endpointId);
  }

  /** Deletes the endpoint with its pending deliveries and its attempt log. */
  async remove(projectId: string, endpointId: string): Promise<WebhookEndpointView> {
    return this.db.transaction().execute(async (trx) => {
      const view = endpointView(await this.findOrThrow(trx, projectId, endpointId), this.clock());
      await store.deleteEndpoint(trx, projectId, endpointId);
      return view;
    });
  }

  /**
   * Issues a new signing secret. The old one keeps signing beside it for `overlapSeconds`, so
   * receivers can switch without dropping a delivery; after that only the new one signs.
   */
  async rotateSecret(
    projectId: string,
    endpointId: string,
    overlapSeconds = DEFAULT_ROTATION_OVERLAP_SECONDS,
  ): Promise<WebhookEndpointWithSecretView> {
    const secret = generateSigningSecret();
    await this.db.transaction().execute(async (trx) => {
      const row = await this.findOrThrow(trx, projectId, endpointId);
      const now = this.clock();
      await store.updateEndpoint(trx, projectId, endpointId, {
        secret_sealed: this.secrets.seal(secret, secretContext(row.id)),
        previous_secret_sealed: overlapSeconds > 0 ? row.secret_sealed : null,
        previous_secret_expires_at: overlapSeconds > 0 ? isoTimestamp(addSeconds(now, overlapSeconds)) : null,
        updated_at: isoTimestamp(now),
      });
    });
    return { ...(await this.get(projectId, endpointId)), secret };
  }

  /** The endpoint's most recent attempts, newest first. */
  async attempts(
    projectId: string,
    endpointId: string,
    page: Page | number = ATTEMPTS_PAGE_SIZE,
  ): Promise<WebhookAttemptView[]> {
    await this.findOrThrow(this.db, projectId, endpointId);
    const window = typeof page === "number" ? { offset: 0, limit: page } : page;
    const rows = await store.listAttempts(this.db, projectId, endpointId, window);
    return rows.map((row) => ({
      id: row.id,
      delivery_id: row.delivery_id,
      event_id: row.event_id,
      event_type: row.event_type,
      attempted_at: row.attempted_at,
      status_code: row.status_code,
      latency_ms: row.latency_ms,
      succeeded: row.succeeded === 1,
      error: row.error,
    }));
  }

  /** Sends a delivery again now, with the same `webhook-id` and a fresh retry schedule. */
  async replay(projectId: string, deliveryId: number): Promise<store.WebhookDeliveryRow> {
    return this.db.transaction().execute(async (trx) => {
      const delivery = await store.findDelivery(trx, projectId, deliveryId);
      if (!delivery) throw new ApiError(404, `Delivery ${deliveryId} does not exist`);
      const endpoint = await this.findOrThrow(trx, projectId, delivery.endpoint_id);
      if (endpoint.enabled !== 1) {
        throw new ApiError(409, `Endpoint ${endpoint.id} is disabled: enable it first (PATCH enabled: true)`);
      }
      await store.replayDelivery(trx, projectId, deliveryId, this.now());
      return (await store.findDelivery(trx, projectId, deliveryId)) as store.WebhookDeliveryRow;
    });
  }

  /** The project's deliveries, newest first, with the outcome of each one's last attempt. */
  async deliveries(
    projectId: string,
    query: DeliveriesQuery,
    page: Page,
  ): Promise<WebhookDeliverySummaryView[]> {
    const rows = await store.listDeliveries(
      this.db,
      projectId,
      { endpointId: query.endpoint_id, status: query.status },
      page,
    );
    return rows.map((row) => ({
      id: row.id,
      event_id: row.event_id,
      event_type: row.event_type,
      endpoint_id: row.endpoint_id,
      status: row.status,
      attempts: row.attempts,
      last_status_code: row.last_status_code,
      last_latency_ms: row.last_latency_ms,
      last_error: row.last_error,
      last_attempt_at: row.last_attempt_at,
      next_attempt_at: row.next_attempt_at,
      created_at: row.created_at,
      updated_at: row.updated_at,
    }));
  }

  /**
   * Queues a `webhook.test` event for this endpoint only (whatever its `events`), delivered and
   * signed like every other. 409 when the endpoint is disabled: the dispatcher would not send it.
   */
  async sendTest(projectId: string, endpointId: string): Promise<store.WebhookDeliveryRow> {
    return this.db.transaction().execute(async (trx) => {
      const endpoint = await this.findOrThrow(trx, projectId, endpointId);
      if (endpoint.enabled !== 1) {
        throw new ApiError(409, `Endpoint ${endpoint.id} is disabled: enable it first (PATCH enabled: true)`);
      }
      const now = this.clock();
      const eventId = await writeEvent(
        trx,
        isoTimestamp(now),
        projectId,
        TEST_EVENT_TYPE,
        {
          endpoint: endpointView(endpoint, now),
          message: "A test event from Connect Hub: answer 2xx to show this endpoint works.",
        },
        [endpoint.id],
      );
      const delivery = await store.findDeliveryOfEvent(trx, projectId, eventId, endpoint.id);
      if (!delivery) throw new Error("the test delivery was not written");
      return delivery;
    });
  }

  private async refuseDuplicate(
    db: Kysely<Database>,
    projectId: string,
    url: string,
    exceptId?: string,
  ): Promise<void> {
    const existing = await store.findEndpointIdByUrl(db, projectId, url, exceptId);
    if (existing) {
      throw new ApiError(
        409,
        `Endpoint ${existing} already has this URL: change its events instead of adding another`,
      );
    }
  }

  private async findOrThrow(
    db: Kysely<Database>,
    projectId: string,
    endpointId: string,
  ): Promise<store.WebhookEndpointRow> {
    const row = await store.findEndpoint(db, projectId, endpointId);
    if (!row) throw new ApiError(404, `Webhook endpoint ${endpointId} does not exist`);
    return row;
  }

  private now(): string {
    return isoTimestamp(this.clock());
  }
}

export function endpointView(row: store.WebhookEndpointRow, now: Date): WebhookEndpointView {
  const overlapping =
    row.previous_secret_expires_at !== null && row.previous_secret_expires_at > isoTimestamp(now);
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.event_types) as string[],
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    consecutive_failures: row.consecutive_failures,
    failing_since: row.failing_since,
    previous_secret_expires_at: overlapping ? row.previous_secret_expires_at : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The secrets that sign a delivery now: the current one, and the previous one during its overlap. */
export function signingSecrets(secrets: SecretBox, row: store.WebhookEndpointRow, now: Date): string[] {
  const current = secrets.open(row.secret_sealed, secretContext(row.id));
  const overlapping =
    row.previous_secret_sealed !== null &&
    row.previous_secret_expires_at !== null &&
    row.previous_secret_expires_at > isoTimestamp(now);
  return overlapping
    ? [current, secrets.open(row.previous_secret_sealed as string, secretContext(row.id))]
    : [current];
}

/** The route schemas check this too; the CLI relies on it here. */
function checkEventTypes(types: readonly string[]): string[] {
  const known: readonly string[] = [ALL_EVENTS, ...WEBHOOK_EVENT_TYPES];
  const unknown = types.filter((type) => !known.includes(type));
  if (unknown.length || types.length === 0) {
    throw new ApiError(400, `events must be some of: ${known.join(", ")}`);
  }
  return [...new Set(types)];
}

/**
 * An endpoint URL must be http(s) without credentials, and (unless OUTBOUND_ALLOW_PRIVATE_NETWORKS,
 * or its `host:port` is in WEBHOOK_ALLOWED_HOSTS) must not name a private, loopback,
 * link-local or metadata address literally. Names that resolve to such addresses are refused
 * at send time by the outbound client's guard. Messages never repeat the URL: it may hold a
 * secret, and refusals are logged.
 */
export function checkEndpointUrl(
  raw: string,
  rules: Pick<WebhookRules, "allowPrivateNetworks" | "allowedHosts">,
): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError(400, "url is not an absolute URL such as https://example.com/webhooks");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ApiError(400, "url must use http or https");
  }
  if (url.username || url.password) throw new ApiError(400, "url must not carry a user name or password");
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const literalPrivate = ipaddr.isValid(host) && !isPublicAddress(host);
  const localName = host === "localhost" || host.endsWith(".localhost");
  const allowed = rules.allowPrivateNetworks || rules.allowedHosts.has(hostAndPort(url));
  if (!allowed && (literalPrivate || localName)) {
    throw new ApiError(
      400,
      `url must point to a public host: ${host} is a private, loopback or reserved address. To deliver to a local receiver, list it in WEBHOOK_ALLOWED_HOSTS (e.g. WEBHOOK_ALLOWED_HOSTS=${hostAndPort(url)})`,
    );
  }
  return url.toString();
}
