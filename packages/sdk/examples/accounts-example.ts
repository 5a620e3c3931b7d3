/**
 * The Accounts operations in the seed's style: find a customer's accounts, label one, read
 * its category and fresh credentials, and disconnect it. The root `tsconfig.json` typechecks
 * this file; nothing runs on import. In your own project, import from "@connect-hub/sdk"
 * instead of "../src/index.js".
 */
import {
  AccountStatus,
  ConnectHub,
  type GetAccountCredentialsResponse,
  type LinkedAccount,
  type ListLinkedAccountsResponse,
  NotFoundResponse,
  type Security,
} from "../src/index.js";

export interface AccountsExampleOutcome {
  accountIds: string[];
  label: string | null | undefined;
  category: string;
  credentialKeys: string[];
  deletedId: string;
  goneStatus: number | undefined;
}

export async function manageCustomerAccounts(
  serverURL: string,
  apiKey: string,
  originOwnerId: string,
): Promise<AccountsExampleOutcome> {
  const security: Security = { username: apiKey, password: "" };
  const sdk = new ConnectHub({ serverURL, security });

  // Every active account of one customer, 100 at a time.
  const accounts: LinkedAccount[] = [];
  for (let page = 1; ; page++) {
    const res: ListLinkedAccountsResponse = await sdk.accounts.listLinkedAccounts({
      originOwnerId,
      status: [AccountStatus.Active],
      page,
      pageSize: 100,
    });
    accounts.push(...res.linkedAccounts);
    if (res.linkedAccounts.length < 100) break;
  }
  const [first] = accounts;
  if (!first) throw new Error(`${originOwnerId} has no active account`);

  const updated = await sdk.accounts.updateAccount({
    id: first.id,
    patchAccountExternalDto: { label: "Primary HR system", metadata: { syncEnabled: true } },
  });

  const meta = await sdk.accounts.getAccountMetaInfo({ id: first.id });

  // Fetch credentials right before calling the provider: OAuth tokens come back refreshed.
  const creds: GetAccountCredentialsResponse = await sdk.accounts.getAccountCredentials({ id: first.id });

  const deleted = await sdk.accounts.deleteAccount({ id: first.id });

  let goneStatus: number | undefined;
  try {
    await sdk.accounts.getAccount({ id: first.id });
  } catch (error) {
    if (!(error instanceof NotFoundResponse)) throw error;
    goneStatus = error.statusCode;
  }

  return {
    accountIds: accounts.map((account) => account.id),
    label: updated.linkedAccount.label,
    category: meta.linkedAccountMeta.category,
    credentialKeys: Object.keys(creds.accountCredentials.credentials),
    deletedId: deleted.linkedAccount.id,
    goneStatus,
  };
}
