/**
 * `@connect-hub/sdk`: a zero-dependency client for Connect Hub's Connect Sessions and Accounts
 * APIs, shaped like StackOne's SDKs (`hub.connectSessions.createConnectSession(request)`,
 * `hub.accounts.listLinkedAccounts(filters)`). It needs only
 * the platform's `fetch`, `crypto` and `AbortController`, so it runs in Node 20+, browsers,
 * Deno and Bun.
 */
export type {
  Accounts,
  DeleteAccountResponse,
  GetAccountCredentialsResponse,
  GetAccountMetaInfoResponse,
  GetAccountResponse,
  ListLinkedAccountsResponse,
  UpdateAccountResponse,
  VerifyAccountResponse,
} from "./accounts.js";
export { ConnectHub } from "./connect-hub.js";
export type {
  AuthenticateConnectSessionResponse,
  ConnectSessions,
  CreateConnectSessionOptions,
  CreateConnectSessionResponse,
} from "./connect-sessions.js";
export type {
  ConnectHubOptions,
  DebugLogger,
  Fetch,
  HookContext,
  Hooks,
  RequestOptions,
  Security,
} from "./core/options.js";
export type { ResponseMetadata } from "./core/request-core.js";
export {
  type BackoffStrategy,
  DEFAULT_BACKOFF,
  DEFAULT_RETRY_CODES,
  type RetryConfig,
} from "./core/retries.js";
export {
  type AccountCredentials,
  type AccountIdRequest,
  AccountStatus,
  type AccountVerification,
  AuthType,
  type LinkedAccount,
  type LinkedAccountMeta,
  type ListLinkedAccountsRequest,
  type PatchAccountExternalDto,
  type StatusReason,
  type UpdateAccountRequest,
  type VerificationResult,
} from "./models/accounts.js";
export {
  Categories,
  type ConnectSession,
  type ConnectSessionAccount,
  type ConnectSessionAuthenticate,
  type ConnectSessionCreate,
  ConnectSessionStatus,
  type ConnectSessionTokenAuthLink,
  type OpenEnum,
  Type,
} from "./models/connect-sessions.js";
export {
  ApiErrorResponse,
  BadGatewayResponse,
  BadRequestResponse,
  ConflictResponse,
  ConnectHubError,
  ConnectionError,
  type ErrorEnvelope,
  ForbiddenResponse,
  HttpError,
  type HttpErrorDetails,
  InternalServerErrorResponse,
  NotFoundResponse,
  NotImplementedResponse,
  RequestAbortedError,
  RequestTimedOutResponse,
  RequestTimeoutError,
  ResponseValidationError,
  SDKError,
  TooManyRequestsResponse,
  UnauthorizedResponse,
  UnprocessableEntityResponse,
} from "./models/errors.js";
export { verifyWebhook, type WebhookEvent, WebhookVerificationError } from "./webhooks.js";

export const SDK_VERSION = "0.1.0";
