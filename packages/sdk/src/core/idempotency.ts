/**
 * Idempotency keys for creates: one random UUID per call, reused by every retry of that call,
 * so the server (which replays the first answer to a repeated key and body for 24 hours)
 * creates one session however many attempts reach it.
 */

/** A version 4 UUID from the platform's CSPRNG. */
export function newIdempotencyKey(): string {
  if (typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  // randomUUID is missing in browsers' insecure contexts (plain http pages); getRandomValues is not.
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
