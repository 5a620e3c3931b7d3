/**
 * Request ids: every answer carries `x-request-id`, the error envelope repeats it as
 * `request_id` and every log line of the request has it as `reqId`, so a user can quote it.
 *
 * An incoming `x-request-id` is kept only when the peer is a proxy TRUST_PROXY trusts and the
 * value is short and plain (a client must not be able to forge ids into our logs); otherwise
 * one is generated: a random per-process prefix and a counter, which costs no randomness per
 * request and is unique across processes and restarts.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";
import type { TrustProxy } from "../config.js";

export const REQUEST_ID_HEADER = "x-request-id";
const WELL_FORMED = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

const prefix = randomBytes(6).toString("base64url");
let counter = 0;

/** A fresh id, unique to this process. */
export function newRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}

/** Whether the immediate peer is a proxy TRUST_PROXY trusts. */
export function trustedPeer(trustProxy: TrustProxy): (address: string) => boolean {
  if (trustProxy === false) return () => false;
  if (trustProxy === true) return () => true;
  // A hop count trusts that many proxies nearest to the server: the peer is the first.
  if (typeof trustProxy === "number") return () => trustProxy > 0;
  const trusts = proxyAddr.compile(trustProxy.split(",").map((entry) => entry.trim()));
  return (address) => trusts(address, 0);
}

/** Fastify's `genReqId`: a trusted proxy's well-formed id, or a new one. */
export function requestIdGenerator(trustProxy: TrustProxy): (request: IncomingMessage) => string {
  if (trustProxy === false) return newRequestId;
  const trusted = trustedPeer(trustProxy);
  return (request) => {
    const incoming = request.headers[REQUEST_ID_HEADER];
    if (typeof incoming === "string" && WELL_FORMED.test(incoming)) {
      const peer = request.socket.remoteAddress;
      if (peer !== undefined && trusted(peer)) return incoming;
    }
    return newRequestId();
  };
}
