/**
 * The proxy's routes: StackOne's `POST /unified/proxy` (a JSON description of the call; the
 * answer read whole, up to PROXY_MAX_RESPONSE_BYTES) and the raw pass-through
 * `/proxy/{path}` (any method and body, streamed both ways).
 */
import { Transform } from "node:stream";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { principalOf } from "../http/auth.js";
import { ApiError } from "../http/errors.js";
import { ADMIN_SECURITY, type RouteContext } from "../http/route-context.js";
import { errorResponses } from "../http/schema-types.js";
import { discardBody, OutboundRequestError, readStreamLimited } from "../outbound/client.js";
import { checkedCallerHeaders, forwardedRequestHeaders, relayedResponseHeaders } from "./headers.js";
import { AccountIdHeader, PROXY_METHODS, ProxyRequestBody } from "./schema.js";
import type { ProxiedAnswer, ProxyBody } from "./service.js";

const TAGS = ["Proxy"];
const ERRORS = errorResponses(400, 401, 404, 408, 409, 413, 415, 422, 429, 502, 504);
/** Raw bodies up to this size (with a Content-Length) are held so a call can be repeated after a refresh. */
const REPEATABLE_BODY_BYTES = 65_536;
/** What a relayed answer may do in a browser that opens it: nothing. */
const SANDBOX_CSP = "default-src 'none'; sandbox";

export function proxyRoutes(context: RouteContext): FastifyPluginAsyncTypebox {
  const { proxy, config } = context;
  return async (app) => {
    app.addHook("onRequest", context.adminAuth);

    app.post(
      "/unified/proxy",
      {
        // Calls made with an account's credentials reach the provider's data: admins only.
        // Not a change to Connect Hub: each call has its own log line and metrics.
        config: { adminOnly: true, audit: false },
        schema: {
          operationId: "stackone_proxy_request",
          summary: "Proxy Request",
          description: `Calls the linked account's provider with the account's credentials (applied by the server; an expired or refused OAuth2 token is refreshed and the call repeated once) and relays the answer. Only the provider's declared API hosts can be reached; \`..\` segments and URLs to other hosts are refused before any connection. A 2xx or 3xx answer comes back as it is (status, \`Content-Type\`, body, \`Retry-After\`); a 4xx or 5xx answer keeps its status and \`Retry-After\` and comes back in the error envelope, the provider's body in \`provider_errors[0].raw\` (a JSON object as it is, anything else as \`{"body": ...}\`). Answers larger than ${config.proxy.maxResponseBytes} bytes (PROXY_MAX_RESPONSE_BYTES) answer 502; no answer within the outbound timeout answers 504.`,
          tags: TAGS,
          security: ADMIN_SECURITY,
          headers: AccountIdHeader,
          body: ProxyRequestBody,
          response: {
            200: Type.Unknown({
              description:
                "The provider's answer: its status (any 2xx or 3xx), `Content-Type` and body, relayed.",
            }),
            ...ERRORS,
          },
        },
      },
      async (request, reply) => {
        const { body } = request;
        const method = (body.method ?? "GET").toUpperCase();
        const payload = unifiedPayload(method, body.body);
        const answer = await proxy.call({
          projectId: principalOf(request).projectId,
          accountId: request.headers["x-account-id"],
          method,
          target: { ...(body.path ? { path: body.path } : {}), ...(body.url ? { url: body.url } : {}) },
          headers: (credentialHeader) => {
            const headers = checkedCallerHeaders(body.headers, credentialHeader);
            if (payload.kind !== "none" && headers["content-type"] === undefined) {
              headers["content-type"] = payload.contentType;
            }
            // The body is read here, so it must arrive as it is to be shown in provider_errors.
            headers["accept-encoding"] = "identity";
            return headers;
          },
          body: payload.kind === "none" ? payload : { kind: "bytes", data: payload.data },
          signal: abortedWith(reply),
          log: request.log,
        });
        let data: Buffer;
        try {
          data = await readStreamLimited(
            answer.body,
            config.proxy.maxResponseBytes,
            new URL(answer.shownUrl),
          );
        } catch (error) {
          if (error instanceof OutboundRequestError) throw proxy.gatewayError(error, answer.provider);
          throw error;
        }
        const headers = relayedResponseHeaders(answer.headers);
        delete headers["content-length"];
        if (answer.status >= 400) throw providerError(answer, headers, data);
        reply
          .code(answer.status as 200)
          .headers(headers)
          .header("content-security-policy", SANDBOX_CSP);
        return reply.send(data);
      },
    );

    await app.register(async (raw) => {
      // The body is not parsed: it is streamed on to the provider as it arrives.
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
      // HEAD first: a HEAD route declared after GET would clash with the one Fastify adds.
      for (const method of ["HEAD", ...PROXY_METHODS.filter((name) => name !== "HEAD")]) {
        raw.route({
          method,
          url: "/proxy/*",
          config: { adminOnly: true, audit: false },
          schema: {
            operationId: `connect_hub_proxy_${method.toLowerCase()}`,
            summary: `Raw Proxy (${method})`,
            description: `Sends \`${method} {path}\` to the linked account's provider, below its API base URL, with the account's credentials (the caller's \`Authorization\`, cookies and hop-by-hop headers are not forwarded; other headers and the query are). The request body, of any type, is streamed to the provider as it arrives (at most ${config.proxy.maxRequestBytes} bytes, PROXY_MAX_REQUEST_BYTES), and the provider's answer (status, headers, body) is streamed back as it arrives, whatever its size or type. An expired OAuth2 token is refreshed first; a 401 is refreshed and repeated once when the body is empty or at most ${REPEATABLE_BODY_BYTES} bytes with a Content-Length. Errors of the proxy itself use the error envelope.`,
            tags: TAGS,
            security: ADMIN_SECURITY,
            headers: AccountIdHeader,
            response: {
              200: Type.Unknown({
                description: "The provider's answer, streamed: any status, headers and body.",
              }),
              ...ERRORS,
            },
          },
          handler: (request, reply) => rawProxy(context, request, reply),
        });
      }
    });
  };
}

async function rawProxy(context: RouteContext, request: FastifyRequest, reply: FastifyReply) {
  const { proxy, config } = context;
  if (request.headers.upgrade !== undefined) {
    throw new ApiError(400, "Upgrade (such as WebSocket) is not proxied");
  }
  const body = await rawBody(request, config.proxy.maxRequestBytes);
  let answer: ProxiedAnswer;
  try {
    answer = await proxy.call({
      projectId: principalOf(request).projectId,
      accountId: String(request.headers["x-account-id"]),
      method: request.method,
      target: { path: request.url.slice("/proxy".length) },
      headers: (credentialHeader) => forwardedRequestHeaders(request.headers, credentialHeader),
      body: body.proxyBody,
      signal: abortedWith(reply),
      log: request.log,
    });
  } catch (error) {
    if (body.exceeded()) throw tooLarge(config.proxy.maxRequestBytes);
    throw error;
  }
  reply
    .code(answer.status)
    .headers(relayedResponseHeaders(answer.headers))
    .header("content-security-policy", SANDBOX_CSP);
  if (request.method === "HEAD" || answer.status === 204 || answer.status === 304) {
    discardBody(answer.body);
    return reply.send();
  }
  return reply.send(answer.body);
}

/** The raw request's body: none, held in memory when small, or streamed through a size limit. */
async function rawBody(
  request: FastifyRequest,
  maxBytes: number,
): Promise<{ proxyBody: ProxyBody; exceeded: () => boolean }> {
  const length = request.headers["content-length"];
  const chunked = request.headers["transfer-encoding"] !== undefined;
  const declared = length === undefined ? undefined : Number(length);
  if (!chunked && (declared === undefined || declared === 0)) {
    return { proxyBody: { kind: "none" }, exceeded: () => false };
  }
  if (declared !== undefined && declared > maxBytes) throw tooLarge(maxBytes);
  if (!chunked && declared !== undefined && declared <= REPEATABLE_BODY_BYTES) {
    const chunks: Buffer[] = [];
    for await (const chunk of request.raw) chunks.push(chunk as Buffer);
    return { proxyBody: { kind: "bytes", data: Buffer.concat(chunks) }, exceeded: () => false };
  }
  let size = 0;
  let exceeded = false;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        exceeded = true;
        callback(new Error("request body too large"));
      } else callback(null, chunk);
    },
  });
  request.raw.pipe(limited);
  request.raw.once("error", (error) => limited.destroy(error));
  return { proxyBody: { kind: "stream", stream: limited }, exceeded: () => exceeded };
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    `Request body is larger than the proxy's limit of ${maxBytes} bytes (PROXY_MAX_REQUEST_BYTES)`,
  );
}

/** A signal that fires when the caller goes away before the answer has been sent. */
function abortedWith(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

type UnifiedPayload = { kind: "none" } | { kind: "bytes"; data: string; contentType: string };

function unifiedPayload(method: string, body: ProxyRequestBody["body"]): UnifiedPayload {
  if (body === undefined || body === null) return { kind: "none" };
  if (method === "GET" || method === "HEAD") {
    if (typeof body === "object" && Object.keys(body).length === 0) return { kind: "none" };
    throw new ApiError(400, `body cannot be sent with ${method}`);
  }
  if (typeof body === "string")
    return { kind: "bytes", data: body, contentType: "text/plain; charset=utf-8" };
  return { kind: "bytes", data: JSON.stringify(body), contentType: "application/json" };
}

/** The provider's 4xx or 5xx answer in the error envelope, with its status and Retry-After. */
function providerError(
  answer: ProxiedAnswer,
  headers: Record<string, string | string[]>,
  data: Buffer,
): ApiError {
  const text = data.toString("utf8");
  let raw: unknown = text;
  try {
    raw = JSON.parse(text);
  } catch {}
  const retryAfter = headers["retry-after"];
  return new ApiError(answer.status, `${answer.provider.name} answered ${answer.status}`, {
    providerErrors: [
      {
        status: answer.status,
        url: answer.shownUrl,
        raw: raw !== null && typeof raw === "object" && !Array.isArray(raw) ? raw : { body: raw },
        headers,
      },
    ],
    headers: typeof retryAfter === "string" ? { "retry-after": retryAfter } : {},
  });
}
