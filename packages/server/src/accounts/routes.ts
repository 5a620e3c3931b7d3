/** HTTP routes of the Accounts API (StackOne's wire contract) plus fresh credentials. */

import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { changedFields, fromParam } from "../console/audit.js";
import { principalOf } from "../http/auth.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses, pageOf } from "../http/schema-types.js";
import {
  AccountCredentials,
  AccountEvent,
  AccountHistoryQuery,
  AccountIdParams,
  AccountMeta,
  AccountVerification,
  HISTORY_PAGE_SIZE,
  LinkedAccount,
  ListAccountsQuery,
  PatchAccount,
} from "./schema.js";

const ERRORS = errorResponses(400, 401, 404, 408, 413, 414, 415, 422, 429, 500, 503);
const TAGS = ["Accounts"];

export function accountRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { accounts, credentials, accountVerification } = context;
  return async (app) => {
    app.addHook("onRequest", context.adminAuth);

    app.get(
      "/accounts",
      {
        schema: {
          operationId: "stackone_list_linked_accounts",
          summary: "List Accounts",
          description:
            "A bare array, oldest first. Array filters take repeated keys (`status=active&status=error`); `search` (Connect Hub only) matches a substring of the owner id, owner name or label.",
          tags: TAGS,
          security: ADMIN_SECURITY,
          querystring: ListAccountsQuery,
          response: { 200: Type.Array(Type.Ref(LinkedAccount)), ...ERRORS },
        },
      },
      async (request) => accounts.list(principalOf(request).projectId, request.query),
    );

    app.get(
      "/accounts/:id",
      {
        schema: {
          operationId: "stackone_get_account",
          summary: "Get Account",
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: AccountIdParams,
          response: { 200: Type.Ref(LinkedAccount), ...ERRORS },
        },
      },
      async (request) => accounts.get(principalOf(request).projectId, request.params.id),
    );

    app.patch(
      "/accounts/:id",
      {
        config: {
          audit: {
            action: "account.updated",
            targetType: "account",
            targetId: fromParam("id"),
            details: changedFields,
          },
        },
        schema: {
          operationId: "stackone_update_account",
          summary: "Update Account",
          description:
            "Objects merge (a null value removes a key, `{}` changes nothing); `type` and an object `label` are ignored; changing `provider` is refused (422).",
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: AccountIdParams,
          body: PatchAccount,
          response: { 200: Type.Ref(LinkedAccount), ...ERRORS },
        },
      },
      async (request) => accounts.update(principalOf(request).projectId, request.params.id, request.body),
    );

    app.delete(
      "/accounts/:id",
      {
        config: {
          audit: { action: "account.deleted", targetType: "account", targetId: fromParam("id") },
        },
        schema: {
          operationId: "stackone_delete_account",
          summary: "Delete Account",
          description: "Deletes the account and its credentials; answers 200 with the deleted account.",
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: AccountIdParams,
          response: { 200: Type.Ref(LinkedAccount), ...ERRORS },
        },
      },
      async (request) => accounts.remove(principalOf(request).projectId, request.params.id),
    );

    app.get(
      "/accounts/:id/meta",
      {
        schema: {
          operationId: "stackone_get_account_meta_info",
          summary: "Get Account Meta Information",
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: AccountIdParams,
          response: { 200: Type.Ref(AccountMeta), ...ERRORS },
        },
      },
      async (request) => accounts.meta(principalOf(request).projectId, request.params.id),
    );

    app.get(
      "/accounts/:id/history",
      {
        schema: {
          operationId: "connect_hub_get_account_history",
          summary: "Account History",
          description: `The account's changes, newest first (Connect Hub only): created, re-authorized, refreshed, failed refreshes, verifications, updates, each with the status before and after and the reason. Each is written in the transaction of the change it describes. Paginated with \`page\` and \`page_size\` (default ${HISTORY_PAGE_SIZE}); a page shorter than \`page_size\` is the last.`,
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: AccountIdParams,
          querystring: AccountHistoryQuery,
          response: { 200: Type.Array(Type.Ref(AccountEvent)), ...ERRORS },
        },
      },
      async (request) =>
        accounts.history(
          principalOf(request).projectId,
          request.params.id,
          pageOf(request.query, HISTORY_PAGE_SIZE),
        ),
    );

    app.post(
      "/accounts/:id/verify",
      {
        config: {
          audit: { action: "account.verified", targetType: "account", targetId: fromParam("id") },
        },
        schema: {
          operationId: "connect_hub_verify_account",
          summary: "Verify Account",
          description:
            "Runs the provider's verification request again with the account's credentials (an expired OAuth2 token is refreshed first). Credentials that stopped working put the account in `error` with a `verification_failed` status reason; working ones bring it back to `active`; each change of status sends `account.updated`. A provider that cannot be reached changes nothing. Accounts whose provider declares no API or no verification request answer 422; an integration with `verify_credentials: false` answers 409. No request body.",
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: AccountIdParams,
          response: { 200: Type.Ref(AccountVerification), ...errorResponses(409, 502, 503), ...ERRORS },
        },
      },
      async (request, reply) => {
        reply.header("cache-control", "no-store");
        return accountVerification.verify(principalOf(request).projectId, request.params.id);
      },
    );

    app.get(
      "/accounts/:id/credentials",
      {
        config: {
          adminOnly: true,
        },
        schema: {
          operationId: "connect_hub_get_account_credentials",
          summary: "Get Fresh Credentials",
          description:
            "Credentials ready to call the provider with. An OAuth2 access token that has expired (or expires within a minute) is refreshed first, once even under concurrent calls; a refused refresh marks the account `error` with a status reason and answers 502. Refresh tokens never leave the server.",
          tags: TAGS,
          security: ADMIN_SECURITY,
          params: AccountIdParams,
          response: { 200: Type.Ref(AccountCredentials), ...errorResponses(502, 503), ...ERRORS },
        },
      },
      async (request, reply) => {
        reply.header("cache-control", "no-store");
        return credentials.fresh(principalOf(request).projectId, request.params.id);
      },
    );
  };
}
