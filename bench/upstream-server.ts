/**
 * The provider behind the proxy benchmark: a bare node:http server answering `GET /v1/me`
 * (and `/healthz`, for the runner's start-up check) with a small JSON body, only with the
 * bearer token the benchmark's account holds.
 * Usage: node upstream-server.js PORT TOKEN
 */
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const expected = `Bearer ${process.argv[3] ?? ""}`;
const body = Buffer.from(JSON.stringify({ id: "user-1", name: "Ada Lovelace", email: "ada@example.com" }));

createServer((request, response) => {
  request.on("data", () => {});
  request.on("end", () => {
    const healthz = request.url === "/healthz";
    const status = healthz || request.headers.authorization === expected ? 200 : 401;
    response.writeHead(status, { "content-type": "application/json", "content-length": body.length });
    response.end(body);
  });
}).listen(port, "127.0.0.1");

process.on("SIGTERM", () => process.exit(0));
