/**
 * A real HTTP receiver for webhook deliveries on a loopback port: it records every request
 * (headers, raw body, arrival time) and answers as the test tells it to, so tests can play a
 * healthy endpoint, a failing one, a throttling one, or (stopped) one that is down.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { freePort } from "./server.js";

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
  /** The parsed envelope. */
  event: { type: string; timestamp: string; data: Record<string, unknown> };
  id: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedDelivery[];
  /** Decides the answer to each request (default 204). */
  respond: (delivery: ReceivedDelivery, index: number) => Answer;
  /** Resolves once `predicate` holds over what was received, or rejects after `timeoutMs`. */
  waitFor(
    predicate: (received: ReceivedDelivery[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedDelivery[]>;
  ofType(type: string): ReceivedDelivery[];
  stop(): Promise<void>;
  /** Listens again on the same port after `stop`. */
  start(): Promise<void>;
}

export async function startWebhookReceiver(port?: number): Promise<WebhookReceiver> {
  const chosenPort = port ?? (await freePort());
  let server: Server | undefined;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${chosenPort}/hooks`,
    port: chosenPort,
    received: [],
    respond: () => ({ status: 204 }),
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver.received)) {
        if (Date.now() > deadline) {
          const seen = receiver.received.map((r) => `${r.event.type} ${r.id}`).join(", ");
          throw new Error(`webhook receiver: condition not met in ${timeoutMs} ms; received: [${seen}]`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return receiver.received;
    },
    ofType: (type) => receiver.received.filter((r) => r.event.type === type),
    stop: () =>
      new Promise((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
        server = undefined;
      }),
    start: async () => {
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          const delivery: ReceivedDelivery = {
            headers: request.headers,
            body,
            at: Date.now(),
            event: JSON.parse(body),
            id: String(request.headers["webhook-id"]),
          };
          const index = receiver.received.push(delivery) - 1;
          const answer = receiver.respond(delivery, index);
          response.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? "");
        });
      });
      await new Promise<void>((resolve) => server?.listen(chosenPort, "127.0.0.1", resolve));
    },
  };
  await receiver.start();
  return receiver;
}

/** The three Standard Webhooks headers of a delivery, as `standardwebhooks` takes them. */
export function signatureHeaders(delivery: ReceivedDelivery): Record<string, string> {
  return {
    "webhook-id": String(delivery.headers["webhook-id"]),
    "webhook-timestamp": String(delivery.headers["webhook-timestamp"]),
    "webhook-signature": String(delivery.headers["webhook-signature"]),
  };
}
