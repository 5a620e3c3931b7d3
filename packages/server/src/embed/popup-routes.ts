/**
 * The OAuth2 popup of StackOne's embeddable component: `GET /connect/oauth2/{integration_id}`
 * runs the hosted page's own PKCE flow, bound to the connection attempt and to this browser,
 * and `GET /embedded/accounts/callback` is a page that closes the popup (so that the
 * component's `appUrl` can be this server). The session token arrives in the popup's query
 * string, the one place the component can put it: it is accepted only here, masked in logs,
 * and no page or redirect here sends a referrer.
 */
import { readFileSync } from "node:fs";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply } from "fastify";
import { issueToken, TOKEN_PREFIX } from "../crypto/tokens.js";
import { ApiError } from "../http/errors.js";
import type { RouteContext } from "../http/route-context.js";
import { bindingCookie } from "../hub/browser-binding.js";
import { escapeHtml, pageShell } from "../hub/views.js";

const CLOSE_SCRIPT = readFileSync(new URL("../../static/embedded-close.js", import.meta.url));

/** The popup's own parameters; any other is a form value for the provider's setup fields. */
const POPUP_PARAMS = new Set(["token", "connection_attempt_id", "redirect_uri"]);

function popupPage(title: string, message: string, closes: boolean): string {
  return pageShell(
    title,
    `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`,
    closes ? '<script src="/embedded/assets/close.js"></script>\n' : "",
  );
}

export function popupRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { embed, config } = context;
  const secureCookies = new URL(config.publicUrl).protocol === "https:";

  const pageHeaders = (reply: FastifyReply) =>
    reply
      .header(
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
      )
      .header("cross-origin-opener-policy", "unsafe-none")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8");

  return async (app) => {
    app.get(
      "/connect/oauth2/:integration_id",
      {
        schema: {
          hide: true,
          params: Type.Object({ integration_id: Type.String({ minLength: 1, maxLength: 64 }) }),
          querystring: Type.Object(
            {
              token: Type.String({ minLength: 1, maxLength: 512 }),
              connection_attempt_id: Type.String({ minLength: 1, maxLength: 64 }),
              redirect_uri: Type.String({ minLength: 1, maxLength: 2048 }),
            },
            { additionalProperties: Type.String({ maxLength: 500 }), maxProperties: 23 },
          ),
        },
      },
      async (request, reply) => {
        const { token, connection_attempt_id: attemptId, redirect_uri: redirectUri } = request.query;
        const values = Object.fromEntries(
          Object.entries(request.query as Record<string, string>).filter(([key]) => !POPUP_PARAMS.has(key)),
        );
        const binding = issueToken(TOKEN_PREFIX.browserBinding).token;
        try {
          const { authorizationUrl } = await embed.beginPopup(
            { token, attemptId, integrationId: request.params.integration_id, redirectUri, values },
            binding,
          );
          return reply
            .header("set-cookie", bindingCookie(binding, secureCookies))
            .header("cache-control", "no-store")
            .header("referrer-policy", "no-referrer")
            .redirect(authorizationUrl, 303);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          pageHeaders(reply);
          const expired = error.statusCode === 401;
          return reply
            .code(error.statusCode)
            .send(
              popupPage(
                expired ? "This session has expired" : "This connection could not start",
                expired ? "Close this window and start again from the app." : error.message,
                false,
              ),
            );
        }
      },
    );

    app.get("/embedded/accounts/callback", { schema: { hide: true } }, async (_request, reply) => {
      pageHeaders(reply);
      return reply.send(popupPage("Account connected", "You can close this window.", true));
    });

    app.get("/embedded/assets/close.js", { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type("text/javascript; charset=utf-8")
        .header("cache-control", "public, max-age=300")
        .send(CLOSE_SCRIPT),
    );
  };
}
