/**
 * `hub.accounts`: StackOne's five Accounts operations plus Connect Hub's fresh credentials and
 * on-demand verification.
 * Each returns the seed's response shape, `{ statusCode, contentType, rawResponse, <model> }`
 * (success is 200 for all six, DELETE included), or throws a `ConnectHubError`.
 *
 * Retries are the client's (408, 429, 502, 503, 504 and lost answers by default) for every
 * operation: reads change nothing, a PATCH merges and so leaves the account as one application
 * did, and a DELETE retried after its answer was lost finds the account gone and throws
 * `NotFoundResponse`. `getAccountCredentials` does not retry 502 unless `retryCodes` names it:
 * Connect Hub answers 502 when the provider refused to refresh the token, and a retry would
 * only ask the provider again. No operation here sends an `Idempotency-Key`.
 */
import type { RequestOptions } from "./core/options.js";
import type { RequestCore, ResponseMetadata } from "./core/request-core.js";
import { DEFAULT_RETRY_CODES } from "./core/retries.js";
import { encodePath } from "./core/url.js";
import {
  type AccountCredentials,
  type AccountIdRequest,
  type AccountVerification,
  type LinkedAccount,
  type LinkedAccountMeta,
  type ListLinkedAccountsRequest,
  listLinkedAccountsToQuery,
  patchAccountToWire,
  readAccountCredentials,
  readAccountVerification,
  readLinkedAccount,
  readLinkedAccountMeta,
  readLinkedAccounts,
  type UpdateAccountRequest,
} from "./models/accounts.js";

export interface ListLinkedAccountsResponse extends ResponseMetadata {
  /** One page of accounts, oldest first (StackOne's SDK calls this field `classes`). */
  linkedAccounts: LinkedAccount[];
}

export interface GetAccountResponse extends ResponseMetadata {
  linkedAccount: LinkedAccount;
}

/** The account as it is after the update. */
export type UpdateAccountResponse = GetAccountResponse;

/** The account as it was before it was deleted. */
export type DeleteAccountResponse = GetAccountResponse;

export interface GetAccountMetaInfoResponse extends ResponseMetadata {
  linkedAccountMeta: LinkedAccountMeta;
}

export interface GetAccountCredentialsResponse extends ResponseMetadata {
  accountCredentials: AccountCredentials;
}

export interface VerifyAccountResponse extends ResponseMetadata {
  accountVerification: AccountVerification;
}

/** Every default retry status but 502, which on this route means the provider refused the refresh. */
const CREDENTIALS_RETRY_CODES = DEFAULT_RETRY_CODES.filter((status) => status !== 502);

export class Accounts {
  readonly #core: RequestCore;

  constructor(core: RequestCore) {
    this.#core = core;
  }

  /** One page of the project's linked accounts, filtered; no filter lists them all (25 a page by default). */
  async listLinkedAccounts(
    request: ListLinkedAccountsRequest = {},
    options: RequestOptions = {},
  ): Promise<ListLinkedAccountsResponse> {
    return this.#core.call(
      "linkedAccounts",
      {
        operationId: "listLinkedAccounts",
        method: "GET",
        path: "/accounts",
        query: listLinkedAccountsToQuery(request),
        successStatus: 200,
        read: readLinkedAccounts,
      },
      options,
    );
  }

  /** One account; an unknown id (or another project's) throws `NotFoundResponse`. */
  async getAccount(request: AccountIdRequest, options: RequestOptions = {}): Promise<GetAccountResponse> {
    return this.#core.call(
      "linkedAccount",
      {
        operationId: "getAccount",
        method: "GET",
        path: encodePath`/accounts/${request.id}`,
        successStatus: 200,
        read: readLinkedAccount,
      },
      options,
    );
  }

  /**
   * Changes an account: objects merge (a `null` value removes a key), only the fields you set
   * are sent. A different `provider` throws `UnprocessableEntityResponse` (422).
   */
  async updateAccount(
    request: UpdateAccountRequest,
    options: RequestOptions = {},
  ): Promise<UpdateAccountResponse> {
    return this.#core.call(
      "linkedAccount",
      {
        operationId: "updateAccount",
        method: "PATCH",
        path: encodePath`/accounts/${request.id}`,
        body: patchAccountToWire(request.patchAccountExternalDto),
        successStatus: 200,
        read: readLinkedAccount,
      },
      options,
    );
  }

  /** Deletes an account and its credentials; returns the deleted account. */
  async deleteAccount(
    request: AccountIdRequest,
    options: RequestOptions = {},
  ): Promise<DeleteAccountResponse> {
    return this.#core.call(
      "linkedAccount",
      {
        operationId: "deleteAccount",
        method: "DELETE",
        path: encodePath`/accounts/${request.id}`,
        successStatus: 200,
        read: readLinkedAccount,
      },
      options,
    );
  }

  /** The account's provider and category. */
  async getAccountMetaInfo(
    request: AccountIdRequest,
    options: RequestOptions = {},
  ): Promise<GetAccountMetaInfoResponse> {
    return this.#core.call(
      "linkedAccountMeta",
      {
        operationId: "getAccountMetaInfo",
        method: "GET",
        path: encodePath`/accounts/${request.id}/meta`,
        successStatus: 200,
        read: readLinkedAccountMeta,
      },
      options,
    );
  }

  /**
   * Credentials ready to call the provider with (Connect Hub only). An OAuth2 token that has
   * expired, or expires within a minute, is refreshed first; a refused refresh throws
   * `BadGatewayResponse` (502) with the provider's answer in `providerErrors`, and leaves the
   * account in status `error`.
   */
  async getAccountCredentials(
    request: AccountIdRequest,
    options: RequestOptions = {},
  ): Promise<GetAccountCredentialsResponse> {
    return this.#core.call(
      "accountCredentials",
      {
        operationId: "getAccountCredentials",
        method: "GET",
        path: encodePath`/accounts/${request.id}/credentials`,
        successStatus: 200,
        defaultRetryCodes: CREDENTIALS_RETRY_CODES,
        read: readAccountCredentials,
      },
      options,
    );
  }

  /**
   * Checks the account's credentials with the provider again (Connect Hub only). Credentials
   * that stopped working put the account in `error` (with a `verification_failed` status
   * reason), working ones bring it back to `active`; each change sends `account.updated`.
   * A provider without a declared verification request throws `UnprocessableEntityResponse`.
   */
  async verify(
    request: AccountIdRequest | string,
    options: RequestOptions = {},
  ): Promise<VerifyAccountResponse> {
    const id = typeof request === "string" ? request : request.id;
    return this.#core.call(
      "accountVerification",
      {
        operationId: "verifyAccount",
        method: "POST",
        path: encodePath`/accounts/${id}/verify`,
        successStatus: 200,
        defaultRetryCodes: CREDENTIALS_RETRY_CODES,
        read: readAccountVerification,
      },
      options,
    );
  }
}
