/** What every route module receives from the app: configuration, services, the auth hook. */
import type { onRequestAsyncHookHandler } from "fastify";
import type { CredentialService } from "../accounts/credentials.js";
import type { AccountService } from "../accounts/service.js";
import type { AccountVerificationService } from "../accounts/verification.js";
import type { Config } from "../config.js";
import type { ConnectSessionService } from "../connect-sessions/service.js";
import type { AuditLog } from "../console/audit.js";
import type { ConsoleService } from "../console/service.js";
import type { EmbedService } from "../embed/service.js";
import type { HubService } from "../hub/service.js";
import type { IntegrationService } from "../integrations/service.js";
import type { ProviderCatalog } from "../providers/catalog.js";
import type { ProxyService } from "../proxy/service.js";
import type { StatsService } from "../stats/service.js";
import type { TenancyService } from "../tenancy/service.js";
import type { WebhookService } from "../webhooks/service.js";

export interface RouteContext {
  readonly config: Config;
  readonly catalog: ProviderCatalog;
  readonly connectSessions: ConnectSessionService;
  readonly accounts: AccountService;
  readonly credentials: CredentialService;
  readonly accountVerification: AccountVerificationService;
  readonly integrations: IntegrationService;
  readonly projects: TenancyService;
  readonly hub: HubService;
  readonly embed: EmbedService;
  readonly webhooks: WebhookService;
  readonly proxy: ProxyService;
  /** API key or console session (admin-auth.ts): the hook of every admin route. */
  readonly adminAuth: onRequestAsyncHookHandler;
  readonly consoleSessions: ConsoleService;
  readonly audit: AuditLog;
  readonly stats: StatsService;
}

/** The OpenAPI security of admin routes: an API key (Basic) or the console's session cookie. */
export const ADMIN_SECURITY: { [scheme: string]: string[] }[] = [{ basic: [] }, { consoleSession: [] }];
