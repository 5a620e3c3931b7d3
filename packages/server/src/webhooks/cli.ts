/**
 * `connect-hub webhooks ...`: the operator's commands for a project's webhook endpoints,
 * working on the database directly (as `keys` does). Secrets go to standard output alone, so
 * a script can capture them; everything else goes to stderr, or stdout for listings.
 */
import type { Command } from "commander";
import { recordCliChange } from "../cli/audit.js";
import { withDatabase } from "../cli/database.js";
import {
  commaList,
  existingProject,
  type ProjectOptions,
  wholeNumber,
  withProjectOptions,
} from "../cli/options.js";
import { type JsonOption, printList, withJsonOption } from "../cli/output.js";
import { loadSecrets } from "../cli/services.js";
import { loadConfig } from "../config.js";
import type { AuditEntry } from "../console/audit.js";
import { systemClock } from "../time.js";
import type { WebhookEventType } from "./schema.js";
import type { WebhookService } from "./service.js";

const MAX_OVERLAP_SECONDS = 7 * 86_400;

/** What a command works on: the service, the project, and how to record a change to it. */
interface InProject {
  service: WebhookService;
  project: string;
  /** Records the change in the audit log, as the webhooks API declares the same change. */
  record(change: Omit<AuditEntry, "actor" | "projectId">): Promise<void>;
}

export function addWebhookCommands(program: Command): void {
  const webhooks = program.command("webhooks").description("manage a project's webhook endpoints");

  /**
   * Runs `action` with the service, the project's id and commander's own arguments (the
   * positional ones, then the options; commander appends the command itself, dropped here).
   */
  const inProject =
    <A extends unknown[]>(action: (context: InProject, ...args: A) => Promise<void>) =>
    (...args: unknown[]) =>
      withDatabase(async (db) => {
        const command = args[args.length - 1] as Command;
        const projectId = (await existingProject(db, command.opts<ProjectOptions>())).id;
        const { WebhookService, webhookRules } = await import("./service.js");
        const service = new WebhookService(
          db.kysely,
          await loadSecrets(),
          systemClock,
          webhookRules(loadConfig(), db.dialect),
        );
        const record: InProject["record"] = (change) => recordCliChange(db, { projectId, ...change });
        await action({ service, project: projectId, record }, ...(args.slice(0, -1) as A));
      });

  withProjectOptions(
    webhooks
      .command("add")
      .description("register an endpoint; prints its signing secret alone (shown only once)")
      .argument("<url>")
      .option("--events <types>", "comma-separated event types (default *: all)", commaList, ["*"])
      .option("--description <text>", "a note for people"),
  ).action(
    inProject(
      async (
        { service, project, record },
        url: string,
        options: { events: string[]; description?: string },
      ) => {
        const created = await service.create(project, {
          url,
          events: options.events as WebhookEventType[],
          ...(options.description ? { description: options.description } : {}),
        });
        await record({
          action: "webhook_endpoint.created",
          targetType: "webhook_endpoint",
          targetId: created.id,
        });
        process.stdout.write(`${created.secret}\n`);
        process.stderr.write(
          `created webhook endpoint ${created.id} for ${created.url}; the secret is shown only once\n`,
        );
      },
    ),
  );

  withJsonOption(
    withProjectOptions(webhooks.command("list").description("list endpoints (never their secrets)")),
  ).action(
    inProject(async ({ service, project }, options: JsonOption) => {
      printList(await service.list(project), options, [
        ["ID", (e) => e.id],
        ["URL", (e) => e.url],
        ["EVENTS", (e) => e.events.join(",")],
        ["STATUS", (e) => (e.enabled ? "enabled" : `disabled (${e.disabled_reason})`)],
      ]);
    }),
  );

  withProjectOptions(
    webhooks.command("remove").description("delete an endpoint").argument("<endpoint-id>"),
  ).action(
    inProject(async ({ service, project, record }, id: string) => {
      await service.remove(project, id);
      await record({ action: "webhook_endpoint.deleted", targetType: "webhook_endpoint", targetId: id });
      process.stderr.write(`removed ${id}\n`);
    }),
  );

  withProjectOptions(
    webhooks
      .command("enable")
      .description("re-enable an endpoint; its pending deliveries resume")
      .argument("<endpoint-id>"),
  ).action(
    inProject(async ({ service, project, record }, id: string) => {
      await service.update(project, id, { enabled: true });
      await record({
        action: "webhook_endpoint.updated",
        targetType: "webhook_endpoint",
        targetId: id,
        details: { fields: ["enabled"] },
      });
      process.stderr.write(`enabled ${id}\n`);
    }),
  );

  withProjectOptions(
    webhooks
      .command("rotate-secret")
      .description("issue a new signing secret; prints it alone (the old one signs too during the overlap)")
      .argument("<endpoint-id>")
      .option(
        "--overlap <seconds>",
        "how long the old secret keeps signing",
        wholeNumber(0, MAX_OVERLAP_SECONDS, " of seconds"),
        86_400,
      ),
  ).action(
    inProject(async ({ service, project, record }, id: string, options: { overlap: number }) => {
      const rotated = await service.rotateSecret(project, id, options.overlap);
      await record({
        action: "webhook_endpoint.secret_rotated",
        targetType: "webhook_endpoint",
        targetId: id,
      });
      process.stdout.write(`${rotated.secret}\n`);
      process.stderr.write(
        `rotated the secret of ${id}${rotated.previous_secret_expires_at ? `; the old one signs until ${rotated.previous_secret_expires_at}` : ""}\n`,
      );
    }),
  );

  withJsonOption(
    withProjectOptions(
      webhooks
        .command("attempts")
        .description("list an endpoint's recent delivery attempts, newest first")
        .argument("<endpoint-id>")
        .option("--limit <n>", "how many", wholeNumber(1, 100), 20),
    ),
  ).action(
    inProject(async ({ service, project }, id: string, options: JsonOption & { limit: number }) => {
      printList(await service.attempts(project, id, options.limit), options, [
        ["TIME", (a) => a.attempted_at],
        ["DELIVERY", (a) => a.delivery_id],
        ["EVENT", (a) => a.event_type],
        ["STATUS", (a) => a.status_code],
        ["LATENCY", (a) => `${a.latency_ms}ms`],
        ["RESULT", (a) => a.error ?? "ok"],
      ]);
    }),
  );

  withProjectOptions(
    webhooks
      .command("replay")
      .description("send a delivery again (same webhook-id) with a fresh retry schedule")
      .argument(
        "<delivery-id>",
        "a delivery id (see `connect-hub webhooks attempts`)",
        wholeNumber(1, Number.MAX_SAFE_INTEGER),
      ),
  ).action(
    inProject(async ({ service, project, record }, deliveryId: number) => {
      await service.replay(project, deliveryId);
      await record({
        action: "webhook_delivery.replayed",
        targetType: "webhook_delivery",
        targetId: String(deliveryId),
      });
      process.stderr.write(`delivery ${deliveryId} will be sent again by a running server\n`);
    }),
  );
}
