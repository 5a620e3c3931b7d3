/** `verifyWebhook` against signatures made by the official `standardwebhooks` package. */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "../src/index.js";

const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
const other = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
const body = JSON.stringify({
  type: "account.created",
  timestamp: "2026-11-27T12:00:00.000Z",
  data: { account: { id: "acc_1" } },
});

function signed(withSecrets: string[], at = new Date(), id = "msg_abc") {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": withSecrets.map((s) => new Webhook(s).sign(id, at, body)).join(" "),
  };
}

describe("verifyWebhook", () => {
  it("accepts a delivery signed by standardwebhooks and returns the event", async () => {
    const event = await verifyWebhook(body, signed([secret]), secret);
    expect(event).toEqual(JSON.parse(body));
  });

  it("takes a Headers object and a byte payload", async () => {
    const event = await verifyWebhook(new TextEncoder().encode(body), new Headers(signed([secret])), secret);
    expect(event.type).toBe("account.created");
  });

  it("accepts any of several signatures, as during a secret rotation", async () => {
    const headers = signed([other, secret]);
    await expect(verifyWebhook(body, headers, secret)).resolves.toBeDefined();
    await expect(verifyWebhook(body, headers, other)).resolves.toBeDefined();
  });

  it("refuses another secret, an altered body, another id, and missing headers", async () => {
    const headers = signed([secret]);
    await expect(verifyWebhook(body, headers, other)).rejects.toThrow(WebhookVerificationError);
    await expect(verifyWebhook(`${body} `, headers, secret)).rejects.toThrow("no signature matches");
    await expect(verifyWebhook(body, { ...headers, "webhook-id": "msg_other" }, secret)).rejects.toThrow();
    await expect(verifyWebhook(body, { "webhook-id": "msg_abc" }, secret)).rejects.toThrow("missing");
    await expect(
      verifyWebhook(body, { ...headers, "webhook-signature": "v1,!!notbase64 v2,abc" }, secret),
    ).rejects.toThrow("no signature matches");
  });

  it("refuses a timestamp outside the tolerance (5 minutes by default)", async () => {
    const old = signed([secret], new Date(Date.now() - 301_000));
    await expect(verifyWebhook(body, old, secret)).rejects.toThrow("too far from now");
    await expect(verifyWebhook(body, old, secret, { toleranceSeconds: 600 })).resolves.toBeDefined();
    const future = signed([secret], new Date(Date.now() + 301_000));
    await expect(verifyWebhook(body, future, secret)).rejects.toThrow("too far from now");
  });

  it("agrees with standardwebhooks on what it accepts", async () => {
    const headers = signed([secret]);
    expect(new Webhook(secret).verify(body, headers)).toEqual(await verifyWebhook(body, headers, secret));
  });
});
