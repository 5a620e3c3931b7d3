/**
 * Verifying Connect Hub's webhooks, per Standard Webhooks (https://www.standardwebhooks.com):
 * `webhook-signature` holds one or more space-separated `v1,<base64 HMAC-SHA256>` signatures
 * of `"{webhook-id}.{webhook-timestamp}.{raw body}"` under the endpoint's secret (two while a
 * rotated secret's overlap lasts); one match is enough. Built on Web Crypto alone, so it runs
 * in Node 20+, browsers, Deno, Bun and edge runtimes.
 *
 * Pass the raw body exactly as received: a body parsed and serialised again may differ by a
 * byte and will not verify.
 */
import { ConnectHubError } from "./models/errors.js";

/** The envelope of every event. `data` carries the account or session as the API shows it. */
export interface WebhookEvent<T = Record<string, unknown>> {
  type: string;
  timestamp: string;
  data: T;
}

/** A `Headers` object, or a plain object such as Node's `IncomingHttpHeaders`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in seconds; default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The current time; for tests. */
  now?: Date;
}

/** The delivery is not authentic, or is too old or too new to accept. */
export class WebhookVerificationError extends ConnectHubError {
  override readonly name = "WebhookVerificationError";
}

const SECRET_PREFIX = "whsec_";
const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Checks a delivery's signature and timestamp; returns the parsed event, or throws
 * `WebhookVerificationError`. `secret` is the endpoint's `whsec_...` signing secret.
 */
export async function verifyWebhook<T = Record<string, unknown>>(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent<T>> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError("webhook-timestamp is not a Unix time");
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError("webhook-timestamp is too far from now: a replay, or a clock off");
  }
  const body = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
  const key = await crypto.subtle.importKey(
    "raw",
    secretBytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const expected = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`)),
  );
  const matched = signatures
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .some((entry) => {
      const candidate = fromBase64(entry.slice(3));
      return candidate !== undefined && constantTimeEqual(candidate, expected);
    });
  if (!matched) throw new WebhookVerificationError("no signature matches the secret");
  try {
    return JSON.parse(body) as WebhookEvent<T>;
  } catch {
    throw new WebhookVerificationError("the payload is not JSON");
  }
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (!bytes?.length) throw new WebhookVerificationError("the secret is not a whsec_ signing secret");
  return bytes;
}

function fromBase64(value: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.from(atob(value), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Compares every byte whatever the first difference, so timing tells nothing about the signature. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) difference |= (a[i] ?? 0) ^ (b[i] as number);
  return difference === 0;
}
