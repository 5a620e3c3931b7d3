/**
 * The yardstick: a bare node:http server that reads the request body and answers 201 with a
 * fixed JSON body of a given size, the least any HTTP JSON service can do per request.
 * Usage: node baseline-server.js PORT BODY_BYTES
 */
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const size = Number(process.argv[3] ?? 600);
const prefix = '{"id":1,"status":"pending","pad":"';
const suffix = '"}';
const body = Buffer.from(prefix + "x".repeat(Math.max(0, size - prefix.length - suffix.length)) + suffix);

createServer((request, response) => {
  request.on("data", () => {});
  request.on("end", () => {
    response.writeHead(request.method === "GET" ? 200 : 201, {
      "content-type": "application/json; charset=utf-8",
      "content-length": body.length,
    });
    response.end(body);
  });
}).listen(port, "127.0.0.1");

process.on("SIGTERM", () => process.exit(0));
