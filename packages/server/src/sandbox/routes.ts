/**
 * The sandbox providers' endpoints, served by this server under `/sandbox/` (only while
 * SANDBOX_PROVIDERS is on):
 * - `GET /sandbox/api-key/me`: the API-key provider's API; only `Bearer sandbox-key-good` works.
 * - `GET /sandbox/oauth/authorize`: an authorization page with Allow and Deny.
 * - `POST /sandbox/oauth/token`: authorization code (PKCE S256 required) and refresh grants.
 * - `GET /sandbox/oauth/api/me`: the OAuth2 provider's API, for its access tokens.
 *
 * Codes and tokens are stateless: sealed with the server's SecretBox (so every process of a
 * deployment accepts them) and bound by their context to their kind. Codes are not single
 * use; nothing behind the sandbox is worth protecting, it only lets a first connection work.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SecretBox } from "../crypto/secrets.js";
import { ApiError, errorBody } from "../http/errors.js";
import { escapeHtml } from "../hub/views.js";
import type { Clock } from "../time.js";
import { SANDBOX_GOOD_KEY, SANDBOX_OAUTH_CLIENT, SANDBOX_USER } from "./constants.js";

const CODE_TTL_SECONDS = 300;
const ACCESS_TOKEN_TTL_SECONDS = 3600;
const TOKEN_PREFIX = "sbx_";
/** A value the connection keeps from the callback URL (see `sandbox-oauth.json`). */
const SANDBOX_WORKSPACE = "ws_sandbox";

type Kind = "code" | "access" | "refresh";
interface Sealed {
  kind: Kind;
  sub: string;
  exp?: number;
  redirect_uri?: string;
  code_challenge?: string;
  scope?: string;
}

export function sandboxRoutes(deps: {
  secrets: SecretBox;
  clock: Clock;
  publicUrl: string;
}): FastifyPluginAsyncTypebox {
  const { secrets, clock } = deps;
  const redirectUri = `${deps.publicUrl}/connect/oauth/callback`;
  const nowSeconds = () => Math.floor(clock().getTime() / 1000);
  const issue = (payload: Sealed) =>
    TOKEN_PREFIX + Buffer.from(secrets.sealJson(payload, `sandbox:${payload.kind}`)).toString("base64url");
  const open = (token: string | undefined, kind: Kind): Sealed | undefined => {
    if (!token?.startsWith(TOKEN_PREFIX)) return undefined;
    try {
      const sealed = Buffer.from(token.slice(TOKEN_PREFIX.length), "base64url").toString("utf8");
      const payload = secrets.openJson<Sealed>(sealed, `sandbox:${kind}`);
      if (payload.kind !== kind || (payload.exp !== undefined && payload.exp <= nowSeconds()))
        return undefined;
      return payload;
    } catch {
      return undefined;
    }
  };
  const bearer = (request: FastifyRequest) => {
    const header = request.headers.authorization;
    return header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
  };
  const me = (credential: "api_key" | "oauth2") => ({ ...SANDBOX_USER, credential });

  return async (app) => {
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 16_384 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    app.get("/sandbox/api-key/me", { schema: { hide: true } }, async (request) => {
      if (!sameText(bearer(request) ?? "", SANDBOX_GOOD_KEY)) {
        throw new ApiError(401, `Unauthorized: the sandbox accepts only the API key ${SANDBOX_GOOD_KEY}`);
      }
      return me("api_key");
    });

    app.get("/sandbox/oauth/api/me", { schema: { hide: true } }, async (request) => {
      if (!open(bearer(request), "access")) {
        throw new ApiError(401, "Unauthorized: the access token is not valid or has expired");
      }
      return me("oauth2");
    });

    app.get(
      "/sandbox/oauth/authorize",
      {
        schema: {
          hide: true,
          querystring: Type.Object({
            client_id: Type.String({ maxLength: 200 }),
            redirect_uri: Type.String({ maxLength: 2048 }),
            response_type: Type.Literal("code"),
            state: Type.String({ minLength: 1, maxLength: 512 }),
            code_challenge: Type.String({ pattern: "^[A-Za-z0-9_-]{43}$" }),
            code_challenge_method: Type.Literal("S256"),
            scope: Type.Optional(Type.String({ maxLength: 500 })),
          }),
        },
      },
      async (request, reply) => {
        const query = request.query;
        if (query.client_id !== SANDBOX_OAUTH_CLIENT.clientId) {
          throw new ApiError(400, `client_id ${query.client_id} is not the sandbox's client`);
        }
        // Only this server's own callback: the sandbox must not hand codes to anyone else.
        if (query.redirect_uri !== redirectUri) {
          throw new ApiError(400, `redirect_uri must be ${redirectUri}`);
        }
        const code = issue({
          kind: "code",
          sub: SANDBOX_USER.id,
          exp: nowSeconds() + CODE_TTL_SECONDS,
          redirect_uri: query.redirect_uri,
          code_challenge: query.code_challenge,
          ...(query.scope ? { scope: query.scope } : {}),
        });
        const allow = new URL(query.redirect_uri);
        allow.search = new URLSearchParams({
          code,
          state: query.state,
          workspace_id: SANDBOX_WORKSPACE,
        }).toString();
        const deny = new URL(query.redirect_uri);
        deny.search = new URLSearchParams({ error: "access_denied", state: query.state }).toString();
        return sendPage(reply, authorizePage(allow.href, deny.href, query.scope ?? ""));
      },
    );

    app.post(
      "/sandbox/oauth/token",
      { schema: { hide: true, body: Type.Record(Type.String(), Type.String()) } },
      async (request, reply) => {
        const body = request.body;
        if (!clientAuthenticated(request.headers.authorization, body)) {
          return oauthError(reply, 401, "invalid_client", "the sandbox client id or secret is wrong");
        }
        if (body.grant_type === "authorization_code") {
          const code = open(body.code, "code");
          if (!code || code.redirect_uri !== body.redirect_uri) {
            return oauthError(
              reply,
              400,
              "invalid_grant",
              "the code is not valid, has expired or was issued for another redirect_uri",
            );
          }
          if (!body.code_verifier || s256(body.code_verifier) !== code.code_challenge) {
            return oauthError(reply, 400, "invalid_grant", "the PKCE code_verifier does not match");
          }
          return tokens(code.sub, code.scope);
        }
        if (body.grant_type === "refresh_token") {
          const refresh = open(body.refresh_token, "refresh");
          if (!refresh) return oauthError(reply, 400, "invalid_grant", "the refresh token is not valid");
          return tokens(refresh.sub, refresh.scope);
        }
        return oauthError(reply, 400, "unsupported_grant_type", "use authorization_code or refresh_token");
      },
    );

    function tokens(sub: string, scope: string | undefined) {
      const scoped = scope ? { scope } : {};
      return {
        access_token: issue({ kind: "access", sub, exp: nowSeconds() + ACCESS_TOKEN_TTL_SECONDS, ...scoped }),
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_SECONDS,
        refresh_token: issue({ kind: "refresh", sub, ...scoped }),
        ...scoped,
        // Beside the tokens, as Salesforce returns `instance_url`: kept as connection metadata.
        user_id: sub,
      };
    }
  };

  function oauthError(reply: FastifyReply, status: number, error: string, description: string) {
    return reply
      .code(status)
      .header("cache-control", "no-store")
      .send({ ...errorBody(status, `${error}: ${description}`), error, error_description: description });
  }

  function clientAuthenticated(header: string | undefined, body: Record<string, string>): boolean {
    let id = body.client_id;
    let secret = body.client_secret;
    if (header?.startsWith("Basic ")) {
      const [rawId = "", rawSecret = ""] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
      id = decodeURIComponent(rawId);
      secret = decodeURIComponent(rawSecret);
    }
    return (
      sameText(id ?? "", SANDBOX_OAUTH_CLIENT.clientId) &&
      sameText(secret ?? "", SANDBOX_OAUTH_CLIENT.clientSecret)
    );
  }
}

function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function sameText(a: string, b: string): boolean {
  const left = createHash("sha256").update(a).digest();
  const right = createHash("sha256").update(b).digest();
  return timingSafeEqual(left, right);
}

function sendPage(reply: FastifyReply, html: string) {
  return reply
    .type("text/html; charset=utf-8")
    .header(
      "content-security-policy",
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    )
    .header("referrer-policy", "no-referrer")
    .header("cache-control", "no-store")
    .send(html);
}

function authorizePage(allowUrl: string, denyUrl: string, scope: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox: authorize Connect Hub</title>
<link rel="stylesheet" href="/connect/assets/connect.css">
</head>
<body>
<main class="card">
<h1>Authorize Connect Hub</h1>
<p>The sandbox OAuth2 provider asks whether Connect Hub may access the account of ${escapeHtml(SANDBOX_USER.name)} (${escapeHtml(SANDBOX_USER.email)})${scope ? ` with the scopes <code>${escapeHtml(scope)}</code>` : ""}.</p>
<p><a class="button" id="allow" href="${escapeHtml(allowUrl)}">Allow</a> <a id="deny" href="${escapeHtml(denyUrl)}">Deny</a></p>
<p><small>No real account is involved.</small></p>
</main>
</body>
</html>`;
}
