/**
 * The `/hub/*` API of StackOne's embeddable component (`@stackone/hub` 1.11.4), public by
 * design like the hosted page: it authenticates with the connect session token in
 * `x-hub-session-token`, never with an API key or a cookie, and answers CORS for the project's
 * allowed origins only (see cors.ts).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { RouteContext } from "../http/route-context.js";
import { errorResponses } from "../http/schema-types.js";
import { hubCors, hubToken } from "./cors.js";
import {
  Attempt,
  AttemptCreateBody,
  AttemptCreated,
  AttemptIdParams,
  HubAccount,
  HubAccountBody,
  HubAccountIdParams,
  HubAccountPatchBody,
  HubConnectedAccount,
  HubConnectorConfig,
  HubConnectors,
  HubConnectorsQuery,
  HubHeaders,
  HubSettings,
  IntegrationIdParams,
} from "./schema.js";

const TAGS = ["Embedded Hub"];
const ERRORS = errorResponses(400, 401, 403, 404, 409, 413, 415, 422, 429);
const AUTH =
  "Authenticated by the connect session token in `x-hub-session-token`; CORS for the project's allowed origins.";

export function embedRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { embed } = context;
  const cors = hubCors(embed);
  return async (app) => {
    // The component sends `Content-Type: application/json` on every call, DELETE without a
    // body included: an empty body is no body here, anything else is parsed as usual.
    const jsonParser = app.getDefaultJsonParser("error", "error");
    app.removeContentTypeParser("application/json");
    app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
      if (body === "") return done(null, undefined);
      return jsonParser(request, body.toString(), done);
    });
    app.options("/hub/*", { schema: { hide: true } }, cors.preflight);
    app.addHook("onRequest", async (request, reply) => {
      if (request.method !== "OPTIONS") await cors.check(request, reply);
      reply.header("cache-control", "no-store");
    });

    app.get(
      "/hub/settings",
      {
        schema: {
          operationId: "hub_get_settings",
          summary: "Get Hub Settings",
          description: `What the component needs first: \`existing_account_id\` opens it in edit mode. ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          response: { 200: HubSettings, ...ERRORS },
        },
      },
      async (request) => embed.settings(hubToken(request)),
    );

    app.get(
      "/hub/connectors",
      {
        schema: {
          operationId: "hub_list_connectors",
          summary: "List Connectors",
          description: `The integrations the session may connect (its provider, category and integration filters; in edit mode the account's provider only). ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          querystring: HubConnectorsQuery,
          response: { 200: HubConnectors, ...ERRORS },
        },
      },
      async (request) => embed.connectors(hubToken(request), request.query.provider),
    );

    app.get(
      "/hub/connectors/:integration_id",
      {
        schema: {
          operationId: "hub_get_connector",
          summary: "Get Connector Config",
          description: `The connector's authentication form. \`type: "oauth2"\` connects through the popup at \`/connect/oauth2/{integration_id}\`. ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          params: IntegrationIdParams,
          response: { 200: HubConnectorConfig, ...ERRORS },
        },
      },
      async (request) => embed.connectorConfig(hubToken(request), request.params.integration_id),
    );

    app.post(
      "/hub/accounts",
      {
        schema: {
          operationId: "hub_create_account",
          summary: "Connect Account",
          description: `Submits the credential form: the account is verified, stored and the session completed exactly as on the hosted page. ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          body: HubAccountBody,
          response: { 201: HubConnectedAccount, ...ERRORS },
        },
      },
      async (request, reply) => {
        const account = await embed.createAccount(
          hubToken(request),
          request.body.integration_id,
          request.body.credentials,
        );
        return reply.code(201).send(account);
      },
    );

    app.get(
      "/hub/accounts/:id",
      {
        schema: {
          operationId: "hub_get_account",
          summary: "Get Account (edit mode)",
          description: `The account the session re-authorizes, and no other: non-secret values to pre-fill, secrets redacted. ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          params: HubAccountIdParams,
          response: { 200: HubAccount, ...ERRORS },
        },
      },
      async (request) => embed.account(hubToken(request), request.params.id),
    );

    app.patch(
      "/hub/accounts/:id",
      {
        schema: {
          operationId: "hub_update_account",
          summary: "Re-authorize Account (edit mode)",
          description: `Re-authorizes the session's account with the edited form; secrets left out keep their stored value. ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          params: HubAccountIdParams,
          body: HubAccountPatchBody,
          response: { 200: HubConnectedAccount, ...ERRORS },
        },
      },
      async (request) =>
        embed.updateAccount(
          hubToken(request),
          request.params.id,
          request.body.integration_id,
          request.body.credentials,
        ),
    );

    app.post(
      "/hub/connection_attempts",
      {
        schema: {
          operationId: "hub_create_connection_attempt",
          summary: "Start Connection Attempt",
          description: `Starts an OAuth2 popup flow, valid for ten minutes; poll it until it is no longer \`pending\`. ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          body: AttemptCreateBody,
          response: { 201: AttemptCreated, ...ERRORS },
        },
      },
      async (request, reply) => reply.code(201).send(await embed.createAttempt(hubToken(request))),
    );

    app.get(
      "/hub/connection_attempts/:id",
      {
        schema: {
          operationId: "hub_get_connection_attempt",
          summary: "Get Connection Attempt",
          description: `\`authenticated\` with the account, \`error\` with a code and description, \`cancelled\`, or \`expired\`. ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          params: AttemptIdParams,
          response: { 200: Attempt, ...ERRORS },
        },
      },
      async (request) => embed.attempt(hubToken(request), request.params.id),
    );

    app.delete(
      "/hub/connection_attempts/:id",
      {
        schema: {
          operationId: "hub_cancel_connection_attempt",
          summary: "Cancel Connection Attempt",
          description: `Cancels a pending attempt (an attempt that already ended keeps its status). ${AUTH}`,
          tags: TAGS,
          headers: HubHeaders,
          params: AttemptIdParams,
          response: { 200: Attempt, ...ERRORS },
        },
      },
      async (request) => embed.cancelAttempt(hubToken(request), request.params.id),
    );
  };
}
