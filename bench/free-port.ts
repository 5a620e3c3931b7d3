/**
 * A port free at the moment, for a server started later whose URL is needed first (in its
 * configuration, or its command line). Drawn below the kernel's ephemeral range
 * (ip_local_port_range, 32768 and up on Linux): a port from that range, which `listen(0)`
 * returns, can be taken between this check and the server's listen by any outgoing
 * connection's local port, and a test suite or a benchmark makes thousands of them. Below it
 * only another listener could take it, and the draw is random across 20,000 ports.
 * (Imported by the test suite too: no dependency but Node.)
 */
import { createServer } from "node:net";

const FIRST_PORT = 12_000;
const PORTS = 20_000;

export async function freePort(): Promise<number> {
  for (;;) {
    const port = FIRST_PORT + Math.floor(Math.random() * PORTS);
    if (await canListen(port)) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
