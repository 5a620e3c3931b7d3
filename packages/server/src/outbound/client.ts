/**
 * The one HTTP client for calls leaving the server (OAuth token endpoints today, webhooks
 * later). Every call has a timeout and a response size limit, and connections to private,
 * loopback, link-local and metadata addresses are refused at connect time: the check runs on
 * the address actually dialled, so DNS rebinding cannot slip past it. Tests that run their
 * peers on loopback turn the guard off with `allowPrivateNetworks`.
 *
 * One narrow exception: URLs under `ownSandboxPrefix` (this server's own PUBLIC_URL plus
 * `/sandbox/`, set only while the sandbox providers are on) may reach the server itself even
 * when that is a loopback or private address. Only that exact origin and path prefix is
 * exempt (the URL is normalised first, so `..` cannot climb out of it), and redirects are
 * never followed.
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
  /** `${PUBLIC_URL}/sandbox/`: calls below it may reach this server on any address. */
  readonly ownSandboxPrefix?: string | undefined;
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
/** Global unicast IPv6 (2000::/3): outside it are, among others, ::/96 and ::ffff:0:0/96. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");

/**
 * True for addresses a server may call on the public internet. Every IPv6 form that embeds an
 * IPv4 address (IPv4-compatible `::7f00:1`, IPv4-mapped `::ffff:`, IPv4-translated, NAT64
 * 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32) is refused outright: the
 * network may route it to the embedded address, which could be private.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return parsed.range() === PUBLIC_RANGE;
  const v6 = parsed as ipaddr.IPv6;
  return v6.match(GLOBAL_UNICAST_V6) && v6.range() === PUBLIC_RANGE;
}

/** `host:port` of a URL, the port always written out: the form of WEBHOOK_ALLOWED_HOSTS. */
export function hostAndPort(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname.toLowerCase()}:${port}`;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** Resolves a host name to all its addresses, as `dns.lookup` with `all: true` does. */
export type DnsLookup = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemLookup: DnsLookup = (hostname, options, callback) => dnsLookup(hostname, options, callback);

const guardedLookup = (resolve: DnsLookup) => (hostname: string, options: object, callback: LookupCallback) =>
  resolve(hostname, { ...options, all: true }, (error, addresses) => {
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

export interface OutboundPolicy {
  /**
   * `host:port` pairs reachable even when private (WEBHOOK_ALLOWED_HOSTS, for webhook
   * deliveries only): the guard is skipped for exactly these.
   */
  readonly allowedHosts?: ReadonlySet<string>;
}

export class OutboundClient {
  private readonly dispatcher: Agent;
  /**
   * Without the address guard, used only for this server's own sandbox routes and for
   * allow-listed `host:port` pairs; made on first use.
   */
  private unguarded: Agent | undefined;

  /** `resolve` is the system resolver; tests inject one to make a name resolve where they need. */
  constructor(
    readonly options: OutboundOptions,
    resolve: DnsLookup = systemLookup,
  ) {
    this.dispatcher = new Agent({
      connect: options.allowPrivateNetworks ? {} : { lookup: guardedLookup(resolve) as never },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Whether `target` (already parsed, hence normalised) is one of this server's sandbox routes. */
  private isOwnSandbox(target: URL): boolean {
    const prefix = this.options.ownSandboxPrefix;
    return prefix !== undefined && target.username === "" && target.href.startsWith(prefix);
  }

  async request(
    url: string,
    init: Omit<RequestInit, "dispatcher" | "signal" | "redirect"> = {},
    policy: OutboundPolicy = {},
  ): Promise<OutboundResponse> {
    const { target, dispatcher } = this.checkedTarget(url, policy);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await undiciFetch(target, {
        ...init,
        dispatcher,
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
  async open(
    url: string | URL,
    init: OutboundStreamInit,
    policy: OutboundPolicy = {},
  ): Promise<OutboundStream> {
    const { target, dispatcher } = this.checkedTarget(String(url), policy);
    try {
      const response = await undiciRequest(target, {
        method: init.method as "GET",
        headers: init.headers,
        body: init.body ?? null,
        dispatcher,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw classify(error, target);
    }
  }

  /**
   * Parses and checks a URL, and picks the agent that may dial it: the guarded one, or the
   * unguarded one for this server's own sandbox routes and allow-listed `host:port` pairs.
   */
  private checkedTarget(url: string, policy: OutboundPolicy): { target: URL; dispatcher: Agent } {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new OutboundRequestError(`not a valid URL: ${url}`, "bad_url");
    }
    if (target.protocol !== "https:" && target.protocol !== "http:") {
      throw new OutboundRequestError(`unsupported protocol ${target.protocol}`, "bad_url");
    }
    const exempt =
      !this.options.allowPrivateNetworks &&
      (this.isOwnSandbox(target) || policy.allowedHosts?.has(hostAndPort(target)) === true);
    const literalHost = target.hostname.replace(/^\[|\]$/g, "");
    if (
      !this.options.allowPrivateNetworks &&
      !exempt &&
      ipaddr.isValid(literalHost) &&
      !isPublicAddress(literalHost)
    ) {
      throw new OutboundRequestError(
        `refused to call ${literalHost}: a private or reserved address`,
        "blocked_address",
      );
    }
    return { target, dispatcher: exempt ? this.unguardedAgent() : this.dispatcher };
  }

  private unguardedAgent(): Agent {
    this.unguarded ??= new Agent({
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
    });
    return this.unguarded;
  }

  async close(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.unguarded?.close()]);
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
