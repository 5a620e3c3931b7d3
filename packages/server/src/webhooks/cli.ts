/**
 * `connect-hub webhooks ...`: the operator's commands for a project's webhook endpoints,
 * working on the database directly (as `keys` does). Secrets go to standard output alone, so
 * a script can capture them; everything else goes to stderr, or stdout for listings.
 */
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { loadSecretBox } from "../crypto/keyring.js";
import type { Db } from "../db/database.js";
import { DEFAULT_ORGANIZATION, DEFAULT_PROJECT } from "../tenancy/service.js";
import { findOrganizationByName, findProjectByName } from "../tenancy/store.js";
import { systemClock } from "../time.js";
import { ALL_EVENTS, type WebhookEventType } from "./schema.js";
import { WebhookService, webhookRules } from "./service.js";

interface ProjectOptions {
  project: string;
  organization: string;
}

type WithDatabase = (run: (db: Db) => Promise<void>) => Promise<void>;

export function addWebhookCommands(program: Command, withDatabase: WithDatabase): void {
  const webhooks = program.command("webhooks").description("manage a project's webhook endpoints");
  const withProject = (command: Command) =>
    command
      .option("--project <name>", "project name", DEFAULT_PROJECT)
      .option("--organization <name>", "organization name", DEFAULT_ORGANIZATION);

  /**
   * Runs `action` with the service, the project's id and commander's own arguments (the
   * positional ones, then the options; commander appends the command itself, dropped here).
   */
  const inProject =
    <A extends unknown[]>(
      action: (service: WebhookService, projectId: string, ...args: A) => Promise<void>,
    ) =>
    (...args: unknown[]) =>
      withDatabase(async (db) => {
        const command = args[args.length - 1] as Command;
        const config = loadConfig();
        const service = new WebhookService(
          db.kysely,
          loadSecretBox(config, (message) => process.stderr.write(`${message}\n`)),
          systemClock,
          webhookRules(config, db.dialect),
        );
        await action(
          service,
          await projectId(db, command.opts<ProjectOptions>()),
          ...(args.slice(0, -1) as A),
        );
      });

  withProject(
    webhooks
      .command("add")
      .description("register an endpoint; prints its signing secret alone (shown only once)")
      .argument("<url>")
      .option("--events <types>", `comma-separated event types (default ${ALL_EVENTS}: all)`, ALL_EVENTS)
      .option("--description <text>", "a note for people"),
  ).action(
    inProject(async (service, project, url: string, options: { events: string; description?: string }) => {
      const events = options.events.split(",").map((type) => type.trim()) as WebhookEventType[];
      const created = await service.create(project, {
        url,
        events,
        ...(options.description ? { description: options.description } : {}),
      });
      process.stdout.write(`${created.secret}\n`);
      process.stderr.write(
        `created webhook endpoint ${created.id} for ${created.url}; the secret is shown only once\n`,
      );
    }),
  );

  withProject(webhooks.command("list").description("list endpoints (never their secrets)")).action(
    inProject(async (service, project) => {
      const lines = (await service.list(project)).map((e) =>
        [e.id, e.url, e.events.join(","), e.enabled ? "enabled" : `disabled (${e.disabled_reason})`].join(
          "\t",
        ),
      );
      process.stdout.write(`${["ID\tURL\tEVENTS\tSTATUS", ...lines].join("\n")}\n`);
    }),
  );

  withProject(webhooks.command("remove").description("delete an endpoint").argument("<endpoint-id>")).action(
    inProject(async (service, project, id: string) => {
      await service.remove(project, id);
      process.stderr.write(`removed ${id}\n`);
    }),
  );

  withProject(
    webhooks
      .command("enable")
      .description("re-enable an endpoint; its pending deliveries resume")
      .argument("<endpoint-id>"),
  ).action(
    inProject(async (service, project, id: string) => {
      await service.update(project, id, { enabled: true });
      process.stderr.write(`enabled ${id}\n`);
    }),
  );

  withProject(
    webhooks
      .command("rotate-secret")
      .description("issue a new signing secret; prints it alone (the old one signs too during the overlap)")
      .argument("<endpoint-id>")
      .option("--overlap <seconds>", "how long the old secret keeps signing", "86400"),
  ).action(
    inProject(async (service, project, id: string, options: { overlap: string }) => {
      const overlap = Number(options.overlap);
      if (!Number.isInteger(overlap) || overlap < 0 || overlap > 7 * 86_400) {
        throw new Error("--overlap must be a whole number of seconds from 0 to 604800");
      }
      const rotated = await service.rotateSecret(project, id, overlap);
      process.stdout.write(`${rotated.secret}\n`);
      process.stderr.write(
        `rotated the secret of ${id}${rotated.previous_secret_expires_at ? `; the old one signs until ${rotated.previous_secret_expires_at}` : ""}\n`,
      );
    }),
  );

  withProject(
    webhooks
      .command("attempts")
      .description("list an endpoint's recent delivery attempts, newest first")
      .argument("<endpoint-id>")
      .option("--limit <n>", "how many", "20"),
  ).action(
    inProject(async (service, project, id: string, options: { limit: string }) => {
      const limit = Math.min(100, Math.max(1, Number.parseInt(options.limit, 10) || 20));
      const lines = (await service.attempts(project, id, limit)).map((a) =>
        [
          a.attempted_at,
          a.delivery_id,
          a.event_type,
          a.status_code ?? "-",
          `${a.latency_ms}ms`,
          a.error ?? "ok",
        ].join("\t"),
      );
      process.stdout.write(`${["TIME\tDELIVERY\tEVENT\tSTATUS\tLATENCY\tRESULT", ...lines].join("\n")}\n`);
    }),
  );

  withProject(
    webhooks
      .command("replay")
      .description("send a delivery again (same webhook-id) with a fresh retry schedule")
      .argument("<delivery-id>"),
  ).action(
    inProject(async (service, project, id: string) => {
      const deliveryId = Number(id);
      if (!Number.isInteger(deliveryId) || deliveryId < 1) throw new Error("<delivery-id> must be a number");
      await service.replay(project, deliveryId);
      process.stderr.write(`delivery ${deliveryId} will be sent again by a running server\n`);
    }),
  );
}

async function projectId(db: Db, options: ProjectOptions): Promise<string> {
  const organization = await findOrganizationByName(db.kysely, options.organization);
  const project = organization
    ? await findProjectByName(db.kysely, Number(organization.id), options.project)
    : undefined;
  if (!project) {
    throw new Error(
      `no project "${options.project}" in organization "${options.organization}" (keys create makes one)`,
    );
  }
  return project.id;
}
