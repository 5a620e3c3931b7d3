/**
 * The one HTTP client for calls leaving the server (OAuth token endpoints, webhooks, the
 * proxy). Every call has a timeout and a response size limit, and connections to private,
 * loopback, link-local and metadata addresses are refused at connect time: the check runs on
 * the address actually dialled, so DNS rebinding cannot slip past it. Tests that run their
 * peers on loopback turn the guard off with `allowPrivateNetworks`.
 *
 * `request` reads the whole answer (up to `maxResponseBytes`). `open` streams both ways for
 * the proxy: the request body is sent as it arrives, the answer's body is handed over unread
 * (the caller applies its own limit, if any), and the timeout is an idle timeout (no answer
 * headers, or no body bytes, for `timeoutMs`) so a large transfer may take as long as it keeps
 * moving. Neither follows redirects nor decompresses.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { Readable } from "node:stream";
import ipaddr from "ipaddr.js";
import { Agent, type RequestInit, fetch as undiciFetch, request as undiciRequest } from "undici";

export interface OutboundOptions {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly allowPrivateNetworks: boolean;
}

export class OutboundRequestError extends Error {
  override readonly name = "OutboundRequestError";
  constructor(
    message: string,
    readonly reason: "blocked_address" | "timeout" | "too_large" | "network" | "bad_url",
  ) {
    super(message);
  }
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T | undefined;
}

/** A streamed answer: status and headers as received, the body still unread. */
export interface OutboundStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface OutboundStreamInit {
  method: string;
  headers: Record<string, string>;
  /** Sent as it is read; a stream is consumed (so a call with one cannot be repeated). */
  body?: Readable | Buffer | string | undefined;
  /** Aborts the call (e.g. when the caller of the proxy goes away). */
  signal?: AbortSignal;
}

const PUBLIC_RANGE = "unicast";

/** True for addresses a server may call on the public internet. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === PUBLIC_RANGE;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function guardedLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const list = addresses as LookupAddress[];
    const blocked = list.find((entry) => !isPublicAddress(entry.address));
    if (blocked) {
      const refusal = new OutboundRequestError(
        `refused to connect to ${hostname}: ${blocked.address} is a private or reserved address`,
        "blocked_address",
      ) as OutboundRequestError & NodeJS.ErrnoException;
      refusal.code = "EBLOCKEDADDRESS";
      return callback(refusal, []);
    }
    const wantsAll = (options as { all?: boolean }).all === true;
    const first = list[0] as LookupAddress;
    return wantsAll ? callback(null, list) : callback(null, first.address, first.family);
  });
}

export class OutboundClient {
  private readonly dispatcher: Agent;

  constructor(readonly options: OutboundOptions) {
    this.dispatcher = new Agent({
      connect: options.allowPrivateNetworks ? {} : { lookup: guardedLookup as never },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async request(
    url: string,
    init: Omit<RequestInit, "dispatcher" | "signal" | "redirect"> = {},
  ): Promise<OutboundResponse> {
    const target = this.checkedTarget(url);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await undiciFetch(target, {
        ...init,
        dispatcher: this.dispatcher,
        signal,
        redirect: "manual",
      });
      const text = await readLimited(response.body, this.options.maxResponseBytes);
      return {
        status: response.status,
        headers: response.headers as unknown as Headers,
        text,
        json<T>() {
          try {
            return JSON.parse(text) as T;
          } catch {
            return undefined;
          }
        },
      };
    } catch (error) {
      throw classify(error, target);
    }
  }

  /** Streams a call both ways (see the module comment); errors are OutboundRequestErrors. */
  async open(url: string | URL, init: OutboundStreamInit): Promise<OutboundStream> {
    const target = this.checkedTarget(String(url));
    try {
      const response = await undiciRequest(target, {
        method: init.method as "GET",
        headers: init.headers,
        body: init.body ?? null,
        dispatcher: this.dispatcher,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw classify(error, target);
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private checkedTarget(url: string): URL {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new OutboundRequestError(`not a valid URL: ${url}`, "bad_url");
    }
    if (target.protocol !== "https:" && target.protocol !== "http:") {
      throw new OutboundRequestError(`unsupported protocol ${target.protocol}`, "bad_url");
    }
    const literalHost = target.hostname.replace(/^\[|\]$/g, "");
    if (!this.options.allowPrivateNetworks && ipaddr.isValid(literalHost) && !isPublicAddress(literalHost)) {
      throw new OutboundRequestError(
        `refused to call ${literalHost}: a private or reserved address`,
        "blocked_address",
      );
    }
    return target;
  }
}

/** Drops a streamed body that will not be read (its connection is closed, quietly). */
export function discardBody(body: Readable): void {
  body.on("error", () => {});
  body.destroy();
}

/** Reads a streamed body up to `maxBytes`; a larger one is discarded and refused. */
export async function readStreamLimited(body: Readable, maxBytes: number, target: URL): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        discardBody(body);
        throw new OutboundRequestError(`response larger than ${maxBytes} bytes`, "too_large");
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw classify(error, target);
  }
  return Buffer.concat(chunks);
}

async function readLimited(body: AsyncIterable<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes)
      throw new OutboundRequestError(`response larger than ${maxBytes} bytes`, "too_large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function classify(error: unknown, target: URL): OutboundRequestError {
  for (let cause: unknown = error; cause; cause = (cause as { cause?: unknown }).cause) {
    if (cause instanceof OutboundRequestError) return cause;
  }
  const { name, code } = error as { name?: string; code?: string };
  if (
    name === "TimeoutError" ||
    name === "AbortError" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT"
  ) {
    return new OutboundRequestError(`${target.host} did not answer in time`, "timeout");
  }
  return new OutboundRequestError(`could not reach ${target.host}`, "network");
}
