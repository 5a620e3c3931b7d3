/**
 * `/proxy/{path}` streams both ways. Each transfer is interlocked with the far end: the next
 * piece is sent only once the previous one has arrived on the other side of the proxy, which
 * is possible only if the proxy relays each piece as it comes (a proxy that held the body
 * whole would wait forever). A larger transfer shows the process's memory stays bounded.
 */
import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyHub, startProxyHub } from "../support/proxy-hub.js";
import { SIMULATOR_KEYS } from "../support/proxy-upstream.js";
import { basicAuth } from "../support/server.js";

const PIECE = 1024 * 1024;
const PIECES = 12;

let hub: ProxyHub;
let account: string;

beforeAll(async () => {
  hub = await startProxyHub({ PROXY_MAX_REQUEST_BYTES: String(1024 * PIECE) });
  account = await hub.connect("sim-header", { api_key: SIMULATOR_KEYS.header });
});
afterAll(() => hub?.close());

/** Resolves when `count()` reaches `target`, re-checked on every `notify()`. */
class Progress {
  private waiters: Array<{ target: number; resolve: () => void }> = [];
  value = 0;
  add(bytes: number): void {
    this.value += bytes;
    this.waiters = this.waiters.filter((waiter) => {
      if (this.value < waiter.target) return true;
      waiter.resolve();
      return false;
    });
  }
  reached(target: number): Promise<void> {
    if (this.value >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }
}

function piece(index: number): Buffer {
  return Buffer.alloc(PIECE, index % 251);
}

function openProxy(method: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(hub.server.url);
  let respond: (response: IncomingMessage) => void = () => {};
  const answered = new Promise<IncomingMessage>((resolve) => {
    respond = resolve;
  });
  const request = httpRequest({
    hostname,
    port,
    path,
    method,
    headers: { authorization: basicAuth(hub.apiKey), "x-account-id": account, ...headers },
  });
  request.on("response", respond);
  return { request, answered };
}

describe("/proxy/{path} streams", () => {
  it("an upload: the provider reads, and answers, before the caller has finished sending", async () => {
    const received = new Progress();
    const digest = createHash("sha256");
    hub.simulator.handle("/v1/upload", (request, response) => {
      let answeredEarly = false;
      request.on("data", (chunk: Buffer) => {
        digest.update(chunk);
        received.add(chunk.byteLength);
        if (!answeredEarly) {
          answeredEarly = true;
          response.writeHead(200, { "content-type": "text/plain" });
          response.write("receiving\n");
        }
      });
      request.on("end", () => response.end(`received ${received.value}\n`));
    });
    const sent = createHash("sha256");
    const { request, answered } = openProxy("PUT", "/proxy/upload", {
      "content-type": "application/octet-stream",
    });
    for (let index = 0; index < PIECES; index++) {
      const data = piece(index);
      sent.update(data);
      request.write(data);
      await received.reached((index + 1) * PIECE);
      // The provider's answer started before the caller's upload was done.
      if (index === 0) expect((await answered).statusCode).toBe(200);
    }
    request.end();
    const response = await answered;
    let text = "";
    for await (const chunk of response) text += chunk;
    expect(text).toBe(`receiving\nreceived ${PIECES * PIECE}\n`);
    expect(digest.digest("hex")).toBe(sent.digest("hex"));
  });

  it("a download: each piece reaches the caller before the provider sends the next", async () => {
    const delivered = new Progress();
    const sent = createHash("sha256");
    hub.simulator.handle("/v1/download", async (_request, response) => {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      for (let index = 0; index < PIECES; index++) {
        const data = piece(index);
        sent.update(data);
        response.write(data);
        await delivered.reached((index + 1) * PIECE);
      }
      response.end();
    });
    const { request, answered } = openProxy("GET", "/proxy/download");
    request.end();
    const response = await answered;
    expect(response.headers["content-type"]).toBe("application/octet-stream");
    const digest = createHash("sha256");
    for await (const chunk of response) {
      digest.update(chunk as Buffer);
      delivered.add((chunk as Buffer).byteLength);
    }
    expect(delivered.value).toBe(PIECES * PIECE);
    expect(digest.digest("hex")).toBe(sent.digest("hex"));
  });

  it("a large body both ways without holding it in memory", async () => {
    const total = 128 * PIECE;
    hub.simulator.handle("/v1/mirror", (request, response) => {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      request.pipe(response);
    });
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const { request, answered } = openProxy("POST", "/proxy/mirror", {
      "content-type": "application/octet-stream",
    });
    const data = piece(1);
    const upload = (async () => {
      for (let sent = 0; sent < total; sent += PIECE) {
        if (!request.write(data)) await new Promise((resolve) => request.once("drain", resolve));
      }
      request.end();
    })();
    const response = await answered;
    let bytes = 0;
    for await (const chunk of response) {
      bytes += (chunk as Buffer).byteLength;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    await upload;
    expect(bytes).toBe(total);
    // Holding the body whole would add at least its size (128 MiB), twice over.
    expect(peak - baseline).toBeLessThan(64 * PIECE);
  });
});
