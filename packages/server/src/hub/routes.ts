/**
 * Routes of the hosted connect page, public by design: the page authenticates with the
 * connect session token in `Authorization: Bearer`, never with an API key or a cookie, so
 * requests from another site cannot act for it (and are refused by the same-origin check on
 * every state-changing route anyway). The only cookie binds an OAuth state to this browser.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { parse as parseCookies } from "cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import { issueToken, TOKEN_PREFIX } from "../crypto/tokens.js";
import { ApiError } from "../http/errors.js";
import type { RouteContext } from "../http/route-context.js";
import { ThemeLinkQuery } from "../theme/theme.js";
import { BINDING_COOKIE, BINDING_PATTERN, bindingCookie } from "./browser-binding.js";
import { callbackPage, connectPage, messagePage } from "./views.js";

const ASSETS = new Map(
  [
    ["connect.js", "text/javascript; charset=utf-8"],
    ["connect.css", "text/css; charset=utf-8"],
  ].map(([file, type]) => [
    file as string,
    { type: type as string, body: readFileSync(new URL(`../../static/${file}`, import.meta.url)) },
  ]),
);

export function hubRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { hub, catalog, config } = context;
  const publicOrigin = new URL(config.publicUrl).origin;
  const secureCookies = new URL(config.publicUrl).protocol === "https:";

  const pageHeaders = (reply: FastifyReply, frameAncestors: readonly string[]) => {
    const ancestors = frameAncestors.length ? frameAncestors.join(" ") : "'none'";
    reply
      .header(
        "content-security-policy",
        `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestors}`,
      )
      .header("cross-origin-opener-policy", "unsafe-none")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8");
  };

  /** Refuses state changes that a browser marks as coming from another site. */
  const sameOriginOnly = async (request: FastifyRequest) => {
    const site = request.headers["sec-fetch-site"];
    const origin = request.headers.origin;
    if ((site && site !== "same-origin" && site !== "none") || (origin && origin !== publicOrigin)) {
      throw new ApiError(403, "Cross-site requests to the connect page are not allowed");
    }
  };

  const bearer = (request: FastifyRequest) => {
    const header = request.headers.authorization;
    return header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
  };

  return async (app) => {
    app.get(
      "/connect",
      {
        config: { embeddable: true },
        schema: {
          hide: true,
          querystring: Type.Object({
            token: Type.Optional(Type.String({ maxLength: 512 })),
            // The page's own reference to its session (PageModel.page_ref), never its id.
            session: Type.Optional(Type.String({ maxLength: 1024 })),
          }),
        },
      },
      async (request, reply) => {
        const { token, session: pageRef } = request.query;
        if (token !== undefined) {
          const session = await hub.sessionByToken(token);
          if (!session) {
            pageHeaders(reply, []);
            return reply
              .code(401)
              .send(
                messagePage(
                  "This link has expired",
                  "This link is no longer valid. Ask for a new link to connect your account.",
                ),
              );
          }
          pageHeaders(reply, await hub.allowedOrigins(session.project_id));
          return reply.send(connectPage());
        }
        pageHeaders(reply, pageRef ? await hub.allowedOriginsForPageRef(pageRef) : []);
        return reply.send(connectPage());
      },
    );

    app.get("/connect/oauth/begin", { schema: { hide: true } }, async (_request, reply) => {
      pageHeaders(reply, []);
      return reply.send(connectPage());
    });

    app.get(
      "/connect/assets/:file",
      { schema: { hide: true, params: Type.Object({ file: Type.String() }) } },
      async (request, reply) => {
        const asset = ASSETS.get(request.params.file);
        if (!asset) throw new ApiError(404, `Route GET ${request.url} does not exist`);
        return reply.type(asset.type).header("cache-control", "public, max-age=300").send(asset.body);
      },
    );

    app.get(
      "/connect/logos/:file",
      {
        schema: { hide: true, params: Type.Object({ file: Type.String({ pattern: "^[a-z0-9-]+\\.svg$" }) }) },
      },
      async (request, reply) => {
        const provider = catalog.get(request.params.file.replace(/\.svg$/, ""));
        if (!provider) throw new ApiError(404, "No such logo");
        return (
          reply
            .type("image/svg+xml")
            .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
            // An <img> on the page embedding StackOne's component loads it from another origin.
            .header("cross-origin-resource-policy", "cross-origin")
            .header("cache-control", "public, max-age=86400")
            .send(await readFile(provider.logoPath))
        );
      },
    );

    app.get(
      "/connect/api/session",
      // The theme parameters the auth link carried, passed on by the page script.
      { schema: { hide: true, querystring: Type.Object(ThemeLinkQuery) } },
      async (request, reply) => {
        reply.header("cache-control", "no-store");
        return hub.pageModel(bearer(request), request.query);
      },
    );

    app.post(
      "/connect/api/credentials",
      {
        onRequest: sameOriginOnly,
        schema: {
          hide: true,
          body: Type.Object({
            provider: Type.String({ minLength: 1, maxLength: 64 }),
            values: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
              maxProperties: 20,
            }),
          }),
        },
      },
      async (request, reply) => {
        const account = await hub.connectWithCredentials(
          bearer(request),
          request.body.provider,
          request.body.values,
        );
        return reply.code(201).send({ account });
      },
    );

    app.post(
      "/connect/oauth/start",
      {
        onRequest: sameOriginOnly,
        schema: {
          hide: true,
          body: Type.Object({
            provider: Type.String({ minLength: 1, maxLength: 64 }),
            setup_values: Type.Optional(
              Type.Record(Type.String(), Type.String({ maxLength: 500 }), { maxProperties: 20 }),
            ),
          }),
        },
      },
      async (request, reply) => {
        const existing = parseCookies(request.headers.cookie ?? "")[BINDING_COOKIE];
        const binding =
          existing && BINDING_PATTERN.test(existing)
            ? existing
            : issueToken(TOKEN_PREFIX.browserBinding).token;
        const { authorizationUrl } = await hub.startOAuth(
          bearer(request),
          request.body.provider,
          request.body.setup_values ?? {},
          binding,
        );
        reply.header("set-cookie", bindingCookie(binding, secureCookies));
        return reply
          .code(201)
          .header("cache-control", "no-store")
          .send({ authorization_url: authorizationUrl });
      },
    );

    app.get(
      "/connect/oauth/callback",
      {
        schema: {
          hide: true,
          querystring: Type.Object({
            state: Type.Optional(Type.String({ maxLength: 512 })),
            code: Type.Optional(Type.String({ maxLength: 4096 })),
            error: Type.Optional(Type.String({ maxLength: 200 })),
            error_description: Type.Optional(Type.String({ maxLength: 1000 })),
            iss: Type.Optional(Type.String({ maxLength: 2048 })),
          }),
        },
      },
      async (request, reply) => {
        const binding = parseCookies(request.headers.cookie ?? "")[BINDING_COOKIE];
        const outcome = await hub.completeOAuth(
          { ...request.query, all: request.query as Record<string, unknown> },
          binding,
        );
        // A flow started by the embeddable component's popup goes back where it asked to.
        const popupReturn = await context.embed.recordOAuthOutcome(request.query.state, outcome);
        if (popupReturn) return reply.header("cache-control", "no-store").redirect(popupReturn, 303);
        pageHeaders(reply, []);
        if (outcome.ok) {
          return reply.send(
            callbackPage({
              ok: true,
              title: `${outcome.providerName} is connected`,
              message: "Your account was connected. You can close this window.",
              account: outcome.account,
              allowedOrigins: outcome.allowedOrigins,
            }),
          );
        }
        return reply.code(outcome.cancelled ? 200 : 400).send(
          callbackPage({
            ok: false,
            title: outcome.title,
            message: outcome.message,
            cancelled: outcome.cancelled,
            allowedOrigins: outcome.allowedOrigins,
          }),
        );
      },
    );
  };
}
