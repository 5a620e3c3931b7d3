/**
 * The audit log: who changed what, when, from where. Admin routes declare what they change in
 * their route config (`config: { audit: { action, targetType, targetId } }`); one hook records
 * the event once the handler has succeeded and before the answer is sent, so a failed change
 * records nothing and a recorded change was made. Console sign-ins, sign-outs and revocations
 * are recorded by their routes, the CLI's changes by the CLI.
 *
 * Details are small and never hold a secret: a route's `details` names what changed (field
 * names, a provider), never the values of tokens, keys, or client secrets.
 */
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onSendAsyncHookHandler,
  preSerializationAsyncHookHandler,
} from "fastify";
import type { Kysely } from "kysely";
import { randomId } from "../crypto/tokens.js";
import type { GroupCommit } from "../db/group-commit.js";
import type { AuditEventTable, Database } from "../db/schema.js";
import { hookList } from "../http/route-hooks.js";
import { IDEMPOTENT_REPLAY_HEADER } from "../idempotency/service.js";
import type { Actor } from "../tenancy/store.js";
import { type Clock, isoTimestamp, systemClock } from "../time.js";
import {
  type AuditFilters,
  insertAuditEvent,
  insertAuditEventsTogether,
  listAuditEvents,
} from "./audit-store.js";

export interface AuditDeclaration {
  /** Dotted: `integration.updated`, `api_key.created`... */
  action: string;
  targetType: string;
  /** The target's id, from the request (params) or the successful answer. */
  targetId?: (request: FastifyRequest, answer: unknown) => string | undefined;
  /** Small facts about the change; never secrets. */
  details?: (request: FastifyRequest, answer: unknown) => Record<string, unknown>;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** What the route changes, for the audit log; `false`: it changes nothing. */
    audit?: AuditDeclaration | false;
  }
}

export interface AuditEntry {
  projectId: string | null;
  actor: Actor;
  action: string;
  targetType?: string | undefined;
  targetId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

/** The wire shape of an audit event. */
export interface AuditEventView {
  id: string;
  project_id: string | null;
  occurred_at: string;
  actor: Actor;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export class AuditLog {
  /**
   * With `writes` (the server), events recorded outside a caller's transaction go through the
   * group commit: the events of concurrent requests (a burst of session creates, each audited)
   * share one transaction and one durable flush instead of a commit each. Either way `record`
   * returns only once the event is committed.
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock = systemClock,
    private readonly writes?: GroupCommit,
  ) {}

  /** Records the event, in `db` when given (the caller's transaction), otherwise on its own. */
  async record(entry: AuditEntry, db?: Kysely<Database>): Promise<void> {
    const event = this.eventFor(entry);
    if (db === undefined && this.writes) await this.writes.runBatchable(insertAuditEventsTogether, event);
    else await insertAuditEvent(db ?? this.db, event);
  }

  /** The row an entry is stored as, for callers that insert it in their own transaction. */
  eventFor(entry: AuditEntry): AuditEventTable {
    const now = this.clock();
    return {
      // Time first, so ids of one project sort roughly by time.
      id: `aud_${now.getTime().toString(36).padStart(9, "0")}${randomId("", 9)}`,
      project_id: entry.projectId,
      occurred_at: isoTimestamp(now),
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      actor_display: entry.actor.display,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      ip: entry.ip ?? null,
      user_agent: entry.userAgent?.slice(0, 500) ?? null,
      request_id: entry.requestId ?? null,
      details: JSON.stringify(entry.details ?? {}),
    };
  }

  /** A page of events, newest first; `limit + 1` asked so the caller knows whether more follow. */
  async list(
    scope: { projectId: string; includeUnscoped: boolean },
    filters: AuditFilters,
    page: { offset: number; limit: number },
  ): Promise<AuditEventView[]> {
    return (await listAuditEvents(this.db, scope, filters, page)).map(viewOf);
  }
}

function viewOf(row: AuditEventTable): AuditEventView {
  return {
    id: row.id,
    project_id: row.project_id,
    occurred_at: row.occurred_at,
    actor: { type: row.actor_type, id: row.actor_id, display: row.actor_display },
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** Where a request came from, as an audit entry records it. */
export function requestOrigin(request: FastifyRequest) {
  const userAgent = request.headers["user-agent"];
  return {
    ip: request.ip,
    userAgent: typeof userAgent === "string" ? userAgent : undefined,
    requestId: request.id,
  };
}

const recorded = new WeakSet<FastifyRequest>();

/** Methods that change nothing; every other method on an admin route is a change. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Records the declared change of each successful admin request. preSerialization sees an
 * object answer (so a created thing's id can be read); onSend covers answers without one.
 * The hooks are attached only to routes that declare a change, so no other request pays for
 * them. A route of the admin API (its OpenAPI security names the console session) that may
 * change something must declare `config.audit`, or `audit: false` when it changes nothing
 * (a check, a proxied call): the server refuses to start otherwise, so a new route cannot
 * forget the log.
 */
export function registerAuditHook(app: FastifyInstance, audit: AuditLog): void {
  const record = async (request: FastifyRequest, reply: FastifyReply, answer: unknown) => {
    const declaration = request.routeOptions.config?.audit;
    if (!declaration || reply.statusCode >= 400 || recorded.has(request)) return;
    // An Idempotency-Key replay answers what an earlier request did; it changes nothing.
    if (reply.getHeader(IDEMPOTENT_REPLAY_HEADER) === "true") return;
    const principal = request.principal;
    if (!principal) return;
    recorded.add(request);
    await audit.record({
      projectId: principal.projectId,
      actor: principal.actor,
      action: declaration.action,
      targetType: declaration.targetType,
      targetId: declaration.targetId?.(request, answer),
      details: declaration.details?.(request, answer),
      ...requestOrigin(request),
    });
  };
  const beforeSerialization: preSerializationAsyncHookHandler = async (request, reply, payload) => {
    await record(request, reply, payload);
    return payload;
  };
  const beforeSend: onSendAsyncHookHandler = async (request, reply, payload) => {
    await record(request, reply, undefined);
    return payload;
  };
  app.addHook("onRoute", (route) => {
    const declaration = route.config?.audit;
    const methods = ([] as string[]).concat(route.method);
    const changes = methods.some((method) => !SAFE_METHODS.has(method));
    if (declaration === undefined && changes && isAdminRoute(route.schema?.security)) {
      throw new Error(
        `${methods.join(",")} ${route.url} is an admin route that may change something: declare config.audit (or audit: false)`,
      );
    }
    if (!declaration) return;
    route.preSerialization = [...hookList(route.preSerialization), beforeSerialization];
    route.onSend = [...hookList(route.onSend), beforeSend];
  });
}

function isAdminRoute(security: unknown): boolean {
  return Array.isArray(security) && security.some((scheme) => Object.hasOwn(scheme ?? {}, "consoleSession"));
}

/** `targetId` for routes whose target is a path parameter. */
export const fromParam =
  (name: string) =>
  (request: FastifyRequest): string | undefined => {
    // Integer ids arrive coerced to numbers; SQLite would store 2 as "2.0" in a text column.
    const value = (request.params as Record<string, string | number | undefined>)[name];
    return value === undefined ? undefined : String(value);
  };

/** `targetId` for routes that answer with the created thing. */
export const fromAnswer =
  (field = "id") =>
  (_request: FastifyRequest, answer: unknown): string | undefined => {
    const value = (answer as Record<string, unknown> | undefined)?.[field];
    if (typeof value === "number") return String(value); // connect sessions have integer ids
    return typeof value === "string" ? value : undefined;
  };

/** `details` naming the body's fields (never their values). */
export const changedFields = (request: FastifyRequest): Record<string, unknown> => ({
  fields: Object.keys((request.body as Record<string, unknown> | undefined) ?? {}).sort(),
});
