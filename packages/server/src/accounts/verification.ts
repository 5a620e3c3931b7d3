/**
 * `POST /accounts/{id}/verify`: runs the provider's verification request again with the
 * account's current credentials (an expired OAuth2 token is refreshed first), and records
 * the outcome on the account. A provider that cannot be reached changes nothing: that says
 * nothing about the credentials.
 */
import type { ConnectionChecker, Verification } from "../connections/checker.js";
import { ApiError } from "../http/errors.js";
import type { IntegrationService } from "../integrations/service.js";
import type { ProviderCatalog } from "../providers/catalog.js";
import { type Clock, isoTimestamp } from "../time.js";
import type { CredentialService } from "./credentials.js";
import type { AccountService, LinkedAccountView } from "./service.js";

export interface AccountVerificationView {
  account: LinkedAccountView;
  verification: {
    result: Verification["result"];
    status_code: number | null;
    message: string;
    checked_at: string;
  };
}

export const VERIFICATION_FAILED_CODE = "verification_failed";

export class AccountVerificationService {
  constructor(
    private readonly deps: {
      accounts: AccountService;
      credentials: CredentialService;
      integrations: IntegrationService;
      catalog: ProviderCatalog;
      checker: ConnectionChecker;
      clock: Clock;
    },
  ) {}

  async verify(projectId: string, accountId: string): Promise<AccountVerificationView> {
    const { accounts, catalog } = this.deps;
    const account = await accounts.get(projectId, accountId);
    const provider = catalog.get(account.provider);
    if (!provider) {
      throw new ApiError(
        422,
        `Provider ${account.provider} of account ${accountId} is no longer in the catalog`,
      );
    }
    if (!provider.api) {
      throw new ApiError(
        422,
        `${provider.name} has no declared API in the catalog, so its accounts cannot be verified`,
      );
    }
    if (!provider.api.verify) {
      throw new ApiError(422, `${provider.name} declares no verification request in the catalog`);
    }
    if (!(await this.deps.integrations.verificationEnabled(projectId, provider.key))) {
      throw new ApiError(
        409,
        `Verification is turned off for ${provider.name} in this project (integration verify_credentials: false)`,
      );
    }
    const fresh = await this.deps.credentials.fresh(projectId, accountId);
    const verification = (await this.deps.checker.verify(provider, {
      credentials: fresh.credentials,
      setupInformation: fresh.setup_information,
    })) as Verification;
    const checkedAt = isoTimestamp(this.deps.clock());
    let updated = account;
    if (verification.result === "verified") {
      updated = await accounts.recordVerification(projectId, accountId, { working: true });
    } else if (verification.result !== "unreachable") {
      updated = await accounts.recordVerification(projectId, accountId, {
        working: false,
        code: VERIFICATION_FAILED_CODE,
        description: verification.message,
      });
    }
    return {
      account: updated,
      verification: {
        result: verification.result,
        status_code: verification.statusCode,
        message: verification.message,
        checked_at: checkedAt,
      },
    };
  }
}
