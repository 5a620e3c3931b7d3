/**
 * CLI commands for the catalog, a project's integrations and its allowed origins: the same
 * services as the admin API, for operators at a shell. Secrets are read from standard input
 * (`--client-secret-stdin`) so they stay out of shell history and process lists.
 */
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { loadSecretBox } from "../crypto/keyring.js";
import type { Db } from "../db/database.js";
import { loadProviderCatalog } from "../providers/catalog.js";
import { DEFAULT_ORGANIZATION, DEFAULT_PROJECT, TenancyService } from "../tenancy/service.js";
import { systemClock } from "../time.js";
import { IntegrationService, type IntegrationView } from "./service.js";

type WithDatabase = (run: (db: Db) => Promise<void>) => Promise<void>;

interface ProjectOptions {
  project: string;
  organization: string;
}

const projectOptions = (command: Command) =>
  command
    .option("--project <name>", "project name", DEFAULT_PROJECT)
    .option("--organization <name>", "organization name", DEFAULT_ORGANIZATION);

async function services(db: Db, options: ProjectOptions) {
  const config = loadConfig();
  const catalog = await loadProviderCatalog({
    extraDirs: config.providersDirs,
    allowLoopbackUrls: config.outbound.allowPrivateNetworks,
    ...(config.sandboxProviders ? { sandboxPublicUrl: config.publicUrl } : {}),
  });
  const secrets = loadSecretBox(config, (message) => process.stderr.write(`warning: ${message}\n`));
  const tenancy = new TenancyService(db.kysely);
  const project = await tenancy.ensureProject(options.organization, options.project);
  return {
    catalog,
    tenancy,
    project,
    integrations: new IntegrationService(db.kysely, catalog, secrets, systemClock),
  };
}

function printIntegrations(rows: readonly IntegrationView[]): void {
  const lines = rows.map((i) =>
    [
      i.provider,
      i.auth_type,
      i.enabled ? "enabled" : "disabled",
      i.ready ? "ready" : "not ready",
      i.client_id ?? "-",
      i.verification_available ? (i.verify_credentials ? "on" : "off") : "-",
    ].join("\t"),
  );
  process.stdout.write(`${["PROVIDER\tAUTH\tSTATE\tREADY\tCLIENT_ID\tVERIFY", ...lines].join("\n")}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

export function addIntegrationCommands(program: Command, withDatabase: WithDatabase): void {
  program
    .command("providers")
    .description("list the provider catalog (shipped plus PROVIDERS_DIR)")
    .option("--category <category>", "only this category")
    .action((options: { category?: string }) =>
      withDatabase(async (db) => {
        const { catalog } = await services(db, {
          project: DEFAULT_PROJECT,
          organization: DEFAULT_ORGANIZATION,
        });
        const providers = catalog
          .list()
          .filter((p) => !options.category || p.categories.includes(options.category as never));
        const lines = providers.map((p) =>
          [p.key, p.name, p.auth.type, p.categories.join(","), p.api?.verify ? "yes" : "no"].join("\t"),
        );
        process.stdout.write(`${["KEY\tNAME\tAUTH\tCATEGORIES\tVERIFIES", ...lines].join("\n")}\n`);
      }),
    );

  const integrations = program.command("integrations").description("manage a project's integrations");
  projectOptions(integrations.command("list").description("list the project's integrations")).action(
    (options: ProjectOptions) =>
      withDatabase(async (db) => {
        const { integrations: service, project } = await services(db, options);
        printIntegrations(await service.list(project.id));
      }),
  );
  projectOptions(
    integrations
      .command("enable")
      .description("enable a provider for the project (OAuth2 providers need a client id and secret)")
      .argument("<provider>", "a provider key (see `connect-hub providers`)")
      .option("--client-id <id>", "your OAuth2 app's client id at the provider")
      .option("--client-secret-stdin", "read your OAuth2 app's client secret from standard input")
      .option("--scopes <scopes>", "comma-separated scopes replacing the provider's defaults")
      .option("--no-verify", "save entered credentials without checking them with the provider")
      .option("--verify", "check entered credentials with the provider first (the default)"),
  ).action(
    (
      provider: string,
      options: ProjectOptions & {
        clientId?: string;
        clientSecretStdin?: boolean;
        scopes?: string;
        verify?: boolean;
      },
      command: Command,
    ) =>
      withDatabase(async (db) => {
        const { integrations: service, project } = await services(db, options);
        const clientSecret = options.clientSecretStdin ? await readStdin() : undefined;
        if (options.clientSecretStdin && !clientSecret) throw new Error("no client secret on standard input");
        const view = await service.configure(project.id, provider, {
          enabled: true,
          // Only when --verify or --no-verify is given; otherwise the current setting stays.
          ...(command.getOptionValueSource("verify") === "cli"
            ? { verify_credentials: options.verify !== false }
            : {}),
          ...(options.clientId ? { client_id: options.clientId } : {}),
          ...(clientSecret ? { client_secret: clientSecret } : {}),
          ...(options.scopes
            ? {
                scopes: options.scopes
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean),
              }
            : {}),
        });
        printIntegrations([view]);
      }),
  );
  projectOptions(
    integrations
      .command("disable")
      .description("stop offering a provider (accounts stay)")
      .argument("<provider>"),
  ).action((provider: string, options: ProjectOptions) =>
    withDatabase(async (db) => {
      const { integrations: service, project } = await services(db, options);
      printIntegrations([await service.configure(project.id, provider, { enabled: false })]);
    }),
  );
  projectOptions(
    integrations
      .command("remove")
      .description("remove a provider's integration and its OAuth client")
      .argument("<provider>"),
  ).action((provider: string, options: ProjectOptions) =>
    withDatabase(async (db) => {
      const { integrations: service, project } = await services(db, options);
      await service.remove(project.id, provider);
      process.stderr.write(`removed ${provider}\n`);
    }),
  );

  const projects = program.command("projects").description("project settings");
  projectOptions(
    projects
      .command("set-origins")
      .description("set the exact origins that may embed the connect page and receive its messages")
      .argument("<origins...>", "e.g. https://app.example.com"),
  ).action((origins: string[], options: ProjectOptions) =>
    withDatabase(async (db) => {
      const { tenancy, project } = await services(db, options);
      const settings = await tenancy.setAllowedOrigins(project.id, origins);
      process.stdout.write(`${settings.allowed_origins.join("\n")}\n`);
    }),
  );
}
