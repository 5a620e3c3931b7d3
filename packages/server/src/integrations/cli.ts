/**
 * CLI commands for the catalog, a project's integrations and its allowed origins: the same
 * services as the admin API, for operators at a shell. Secrets are read from standard input
 * (`--client-secret-stdin`) so they stay out of shell history and process lists.
 */
import type { Command } from "commander";
import { recordCliChange } from "../cli/audit.js";
import { withDatabase } from "../cli/database.js";
import { CliError } from "../cli/errors.js";
import { commaList, existingProject, type ProjectOptions, withProjectOptions } from "../cli/options.js";
import { type JsonOption, printList, withJsonOption } from "../cli/output.js";
import { loadCatalog, loadSecrets } from "../cli/services.js";
import type { Db } from "../db/database.js";
import type { ProviderCatalog } from "../providers/catalog.js";
import { TenancyService } from "../tenancy/service.js";
import { systemClock } from "../time.js";
import { IntegrationService, type IntegrationView } from "./service.js";

async function services(db: Db, options: ProjectOptions) {
  const catalog = await loadCatalog();
  // A mistyped --project is refused, never created: only `keys create` makes projects.
  const project = await existingProject(db, options);
  return {
    catalog,
    project,
    integrations: new IntegrationService(db.kysely, catalog, await loadSecrets(), systemClock),
  };
}

/** Refuses a provider the catalog does not have, pointing at the command that lists them. */
function knownProvider(catalog: ProviderCatalog, provider: string): void {
  if (!catalog.get(provider)) {
    throw new CliError(
      `there is no provider "${provider}" in the catalog: \`connect-hub providers\` lists them`,
    );
  }
}

function printIntegrations(rows: readonly IntegrationView[], options: JsonOption): void {
  printList(rows, options, [
    ["PROVIDER", (i) => i.provider],
    ["AUTH", (i) => i.auth_type],
    ["STATE", (i) => (i.enabled ? "enabled" : "disabled")],
    ["READY", (i) => (i.ready ? "ready" : "not ready")],
    ["CLIENT_ID", (i) => i.client_id],
    ["VERIFY", (i) => (i.verification_available ? (i.verify_credentials ? "on" : "off") : "-")],
  ]);
}

/** As `PUT /integrations/:provider` records it: the names of the changed fields, never values. */
function recordIntegrationUpdate(db: Db, projectId: string, provider: string, changes: object) {
  return recordCliChange(db, {
    projectId,
    action: "integration.updated",
    targetType: "integration",
    targetId: provider,
    details: { fields: Object.keys(changes).sort() },
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

export function addIntegrationCommands(program: Command): void {
  withJsonOption(
    program
      .command("providers")
      .description("list the provider catalog (shipped plus PROVIDERS_DIR); needs no database")
      .option("--category <category>", "only this category"),
  ).action(async (options: JsonOption & { category?: string }) => {
    const providers = (await loadCatalog())
      .list()
      .filter((p) => !options.category || p.categories.includes(options.category as never));
    printList(
      providers,
      options,
      [
        ["KEY", (p) => p.key],
        ["NAME", (p) => p.name],
        ["AUTH", (p) => p.auth.type],
        ["CATEGORIES", (p) => p.categories.join(",")],
        ["VERIFIES", (p) => (p.api?.verify ? "yes" : "no")],
      ],
      (p) => ({
        key: p.key,
        name: p.name,
        auth_type: p.auth.type,
        categories: p.categories,
        verification: p.api?.verify !== undefined,
      }),
    );
  });

  const integrations = program.command("integrations").description("manage a project's integrations");
  withJsonOption(
    withProjectOptions(integrations.command("list").description("list the project's integrations")),
  ).action((options: ProjectOptions & JsonOption) =>
    withDatabase(async (db) => {
      const { integrations: service, project } = await services(db, options);
      printIntegrations(await service.list(project.id), options);
    }),
  );
  withJsonOption(
    withProjectOptions(
      integrations
        .command("enable")
        .description("enable a provider for the project (OAuth2 providers need a client id and secret)")
        .argument("<provider>", "a provider key (see `connect-hub providers`)")
        .option("--client-id <id>", "your OAuth2 app's client id at the provider")
        .option("--client-secret-stdin", "read your OAuth2 app's client secret from standard input")
        .option("--scopes <scopes>", "comma-separated scopes replacing the provider's defaults", commaList)
        .option("--no-verify", "save entered credentials without checking them with the provider")
        .option("--verify", "check entered credentials with the provider first (the default)"),
    ),
  ).action(
    (
      provider: string,
      options: ProjectOptions &
        JsonOption & { clientId?: string; clientSecretStdin?: boolean; scopes?: string[]; verify?: boolean },
      command: Command,
    ) =>
      withDatabase(async (db) => {
        const { integrations: service, project, catalog } = await services(db, options);
        knownProvider(catalog, provider);
        const clientSecret = options.clientSecretStdin ? await readStdin() : undefined;
        if (options.clientSecretStdin && !clientSecret) {
          throw new CliError(
            "--client-secret-stdin was given but standard input was empty: pipe the secret in",
          );
        }
        const changes = {
          enabled: true,
          // Only when --verify or --no-verify is given; otherwise the current setting stays.
          ...(command.getOptionValueSource("verify") === "cli"
            ? { verify_credentials: options.verify !== false }
            : {}),
          ...(options.clientId ? { client_id: options.clientId } : {}),
          ...(clientSecret ? { client_secret: clientSecret } : {}),
          ...(options.scopes?.length ? { scopes: options.scopes } : {}),
        };
        const view = await service.configure(project.id, provider, changes);
        await recordIntegrationUpdate(db, project.id, provider, changes);
        printIntegrations([view], options);
      }),
  );
  withProjectOptions(
    integrations
      .command("disable")
      .description("stop offering a provider (accounts stay)")
      .argument("<provider>", "a provider key"),
  ).action((provider: string, options: ProjectOptions) =>
    withDatabase(async (db) => {
      const { integrations: service, project, catalog } = await services(db, options);
      knownProvider(catalog, provider);
      const changes = { enabled: false };
      const view = await service.configure(project.id, provider, changes);
      await recordIntegrationUpdate(db, project.id, provider, changes);
      printIntegrations([view], {});
    }),
  );
  withProjectOptions(
    integrations
      .command("remove")
      .description("remove a provider's integration and its OAuth client")
      .argument("<provider>", "a provider key"),
  ).action((provider: string, options: ProjectOptions) =>
    withDatabase(async (db) => {
      const { integrations: service, project, catalog } = await services(db, options);
      knownProvider(catalog, provider);
      await service.remove(project.id, provider);
      await recordCliChange(db, {
        projectId: project.id,
        action: "integration.deleted",
        targetType: "integration",
        targetId: provider,
      });
      process.stderr.write(`removed ${provider}\n`);
    }),
  );

  const projects = program.command("projects").description("project settings");
  withProjectOptions(
    projects
      .command("set-origins")
      .description("set the exact origins that may embed the connect page and receive its messages")
      .argument("<origins...>", "e.g. https://app.example.com"),
  ).action((origins: string[], options: ProjectOptions) =>
    withDatabase(async (db) => {
      const project = await existingProject(db, options);
      const settings = await new TenancyService(db.kysely).setAllowedOrigins(project.id, origins);
      await recordCliChange(db, {
        projectId: project.id,
        action: "project.updated",
        targetType: "project",
        targetId: project.id,
        details: { fields: ["allowed_origins"] },
      });
      process.stdout.write(`${settings.allowed_origins.join("\n")}\n`);
    }),
  );
}
