/**
 * `connect-hub accounts list`: a project's linked accounts at a shell, for support staff
 * ("has Acme connected BambooHR?"). The same service and filters as `GET /accounts`; never
 * credentials.
 */
import type { Command } from "commander";
import { withDatabase } from "../cli/database.js";
import {
  commaList,
  existingProject,
  type ProjectOptions,
  wholeNumber,
  withProjectOptions,
} from "../cli/options.js";
import { type JsonOption, printList, withJsonOption } from "../cli/output.js";
import { loadCatalog, loadSecrets } from "../cli/services.js";
import { checkAgainstSchema } from "../cli/validation.js";
import { systemClock } from "../time.js";
import type { ListAccountsQuery } from "./schema.js";

interface ListOptions extends ProjectOptions, JsonOption {
  ownerId?: string[];
  provider?: string[];
  status?: string[];
  page: number;
  pageSize: number;
}

const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  origin_owner_ids: "--owner-id",
  providers: "--provider",
  status: "--status",
  page: "--page",
  page_size: "--page-size",
};

export function addAccountCommands(program: Command): void {
  const accounts = program.command("accounts").description("a project's linked accounts");
  withJsonOption(
    withProjectOptions(
      accounts
        .command("list")
        .description("list linked accounts, oldest first (never their credentials)")
        .option("--owner-id <ids>", "only these origin owners (comma-separated)", commaList)
        .option("--provider <keys>", "only these providers (comma-separated)", commaList)
        .option("--status <statuses>", "only these statuses, e.g. active,error", commaList)
        .option("--page <n>", "page number", wholeNumber(1, 1_000_000), 1)
        .option("--page-size <n>", "accounts per page", wholeNumber(1, 100), 25),
    ),
  ).action((options: ListOptions) =>
    withDatabase(async (db) => {
      const [{ ListAccountsQuery }, { AccountService }] = await Promise.all([
        import("./schema.js"),
        import("./service.js"),
      ]);
      const query = {
        ...(options.ownerId ? { origin_owner_ids: options.ownerId } : {}),
        ...(options.provider ? { providers: options.provider } : {}),
        ...(options.status ? { status: options.status } : {}),
        page: options.page,
        page_size: options.pageSize,
      };
      await checkAgainstSchema(ListAccountsQuery, query, "querystring", FLAG_OF_FIELD);
      const project = await existingProject(db, options);
      const service = new AccountService(db.kysely, await loadCatalog(), await loadSecrets(), systemClock);
      printList(await service.list(project.id, query as ListAccountsQuery), options, [
        ["ID", (a) => a.id],
        ["PROVIDER", (a) => a.provider],
        ["STATUS", (a) => a.status],
        ["OWNER_ID", (a) => a.origin_owner_id],
        ["OWNER_NAME", (a) => a.origin_owner_name],
        ["LABEL", (a) => a.label],
        ["CREATED", (a) => a.created_at],
      ]);
    }),
  );
}
