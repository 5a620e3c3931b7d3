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
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import ipaddr from "ipaddr.js";
import { Agent, type RequestInit, fetch as undiciFetch } from "undici";

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
  /** Unguarded, used only for URLs under `ownSandboxPrefix`. */
  private readonly ownDispatcher: Agent | undefined;

  constructor(readonly options: OutboundOptions) {
    this.dispatcher = new Agent({
      connect: options.allowPrivateNetworks ? {} : { lookup: guardedLookup as never },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.ownDispatcher =
      options.ownSandboxPrefix && !options.allowPrivateNetworks
        ? new Agent({ headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs })
        : undefined;
  }

  /** Whether `target` (already parsed, hence normalised) is one of this server's sandbox routes. */
  private isOwnSandbox(target: URL): boolean {
    const prefix = this.options.ownSandboxPrefix;
    return prefix !== undefined && target.username === "" && target.href.startsWith(prefix);
  }

  async request(
    url: string,
    init: Omit<RequestInit, "dispatcher" | "signal" | "redirect"> = {},
  ): Promise<OutboundResponse> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new OutboundRequestError(`not a valid URL: ${url}`, "bad_url");
    }
    if (target.protocol !== "https:" && target.protocol !== "http:") {
      throw new OutboundRequestError(`unsupported protocol ${target.protocol}`, "bad_url");
    }
    const own = this.ownDispatcher !== undefined && this.isOwnSandbox(target);
    const literalHost = target.hostname.replace(/^\[|\]$/g, "");
    if (
      !this.options.allowPrivateNetworks &&
      !own &&
      ipaddr.isValid(literalHost) &&
      !isPublicAddress(literalHost)
    ) {
      throw new OutboundRequestError(
        `refused to call ${literalHost}: a private or reserved address`,
        "blocked_address",
      );
    }
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await undiciFetch(target, {
        ...init,
        dispatcher: own ? (this.ownDispatcher as Agent) : this.dispatcher,
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

  async close(): Promise<void> {
    await Promise.all([this.dispatcher.close(), this.ownDispatcher?.close()]);
  }
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
  const name = (error as { name?: string }).name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new OutboundRequestError(`${target.host} did not answer in time`, "timeout");
  }
  return new OutboundRequestError(`could not reach ${target.host}`, "network");
}
