/**
 * Security headers on every response. Two fixed sets, computed once at start (@fastify/helmet
 * rebuilt the helmet middleware, CSP parsing included, on every request):
 *
 * - HTML (the connect page, the API reference): helmet's full set, with our strict CSP.
 * - Everything else (JSON): the set OWASP's REST Security Cheat Sheet recommends for APIs, a
 *   CSP that allows nothing and may not be framed, nosniff, no referrer, DENY framing,
 *   same-origin resources, no-store (a create answer holds a token), HSTS over https. The
 *   other helmet headers only govern HTML documents; sending them on every JSON answer cost
 *   about a tenth of the request time in the benchmark.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import helmet from "helmet";
import { REQUEST_ID_HEADER } from "./request-id.js";

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/** The headers helmet would set, captured from one run of its middleware. */
export function securityHeaders(options: { https: boolean }): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
      return response;
    },
    removeHeader() {},
  };
  helmet({
    contentSecurityPolicy: { directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: "no-referrer" },
    hsts: options.https,
  })({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/** The headers of every non-HTML answer. */
export function apiSecurityHeaders(options: { https: boolean }): Record<string, string> {
  return {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
    ...(options.https ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * The page may be framed by the origins its own CSP `frame-ancestors` names: no
     * `X-Frame-Options` is added (it knows no allow-list, and would block those origins).
     */
    embeddable?: boolean;
  }
}

/**
 * Adds the security headers (and the request id) on every answer; returns the function that
 * does it for answers sent outside the hooks (router errors).
 */
export function registerSecurityHeaders(
  app: FastifyInstance,
  options: { https: boolean },
): (reply: FastifyReply) => void {
  const html = securityHeaders(options);
  const api = apiSecurityHeaders(options);
  // onSend: the answer's content type is known by then, whatever produced it (route, error
  // handler, 404, plugin). A header a route set itself (e.g. the docs' own CSP) is kept.
  app.addHook("onSend", (request, reply, payload, done) => {
    const contentType = reply.getHeader("content-type");
    const headers = typeof contentType === "string" && contentType.startsWith("text/html") ? html : api;
    const embeddable = request.routeOptions.config?.embeddable === true;
    for (const name in headers) {
      if (!reply.hasHeader(name) && !(embeddable && name === "x-frame-options"))
        reply.header(name, headers[name]);
    }
    reply.header(REQUEST_ID_HEADER, request.id);
    done(null, payload);
  });
  return (reply) => {
    for (const name in api) if (!reply.hasHeader(name)) reply.header(name, api[name]);
    reply.header(REQUEST_ID_HEADER, reply.request.id);
  };
}
