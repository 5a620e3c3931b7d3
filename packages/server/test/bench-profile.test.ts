/**
 * The benchmark's profile charges each CPU sample to the right piece of the request path:
 * a synthetic V8 profile with known stacks, so a wrong rule shows as a wrong figure.
 */
import { describe, expect, it } from "vitest";
import { chargeSamples, PIECES } from "../../../bench/profile.js";

const frame = (functionName: string, url: string) => ({ functionName, url });
const DIST = "file:///app/packages/server/dist";
const MODULES = "file:///app/node_modules";

/** Nodes as V8 writes them: ids, call frames, children. */
function profileOf(stacks: Record<string, Array<{ functionName: string; url: string }>>) {
  const nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children: number[] }> = [
    { id: 1, callFrame: frame("(root)", ""), children: [] },
  ];
  const leafOf: Record<string, number> = {};
  for (const [name, stack] of Object.entries(stacks)) {
    let parent = nodes[0] as (typeof nodes)[number];
    for (const callFrame of stack) {
      const node = { id: nodes.length + 1, callFrame, children: [] as number[] };
      nodes.push(node);
      parent.children.push(node.id);
      parent = node;
    }
    leafOf[name] = parent.id;
  }
  return { nodes, leafOf };
}

const { nodes, leafOf } = profileOf({
  // The security headers hook calls `done`, and Fastify writes the answer beneath it.
  headerHook: [
    frame("onSendHookRunner", `${MODULES}/fastify/lib/hooks.js`),
    frame("", `${DIST}/http/security-headers.js`),
    frame("header", `${MODULES}/fastify/lib/reply.js`),
  ],
  writeUnderHook: [
    frame("", `${DIST}/http/security-headers.js`),
    frame("next", `${MODULES}/fastify/lib/hooks.js`),
    frame("onSendEnd", `${MODULES}/fastify/lib/reply.js`),
    frame("writeHead", "node:_http_server"),
  ],
  logLine: [
    frame("requestCompleted", `${DIST}/http/logging.js`),
    frame("LOG", `${MODULES}/pino/lib/tools.js`),
    frame("stringify", ""),
  ],
  query: [
    frame("authenticateConnectSession", `${DIST}/connect-sessions/service.js`),
    frame("executeQuery", `${MODULES}/kysely/dist/esm/dialect/sqlite/sqlite-driver.js`),
  ],
  gc: [frame("(garbage collector)", "")],
  idle: [frame("(idle)", "")],
});

describe("bench profile: chargeSamples", () => {
  it("charges samples to their piece, stops at Fastify's step boundaries, and skips idle time", () => {
    const order = [
      "headerHook",
      "writeUnderHook",
      "writeUnderHook",
      "logLine",
      "query",
      "query",
      "gc",
      "idle",
    ];
    const profile = {
      nodes,
      startTime: 1000,
      samples: order.map((name) => leafOf[name] as number),
      timeDeltas: order.map(() => 10),
    };
    // 7 busy samples over 70 µs of CPU per request: 10 µs each.
    const pieces = chargeSamples(profile, { fromUs: 0, toUs: Number.POSITIVE_INFINITY }, 70);
    expect(pieces["security headers"]).toBeCloseTo(10);
    expect(pieces["node:http, sockets, timers"]).toBeCloseTo(20);
    expect(pieces["request log"]).toBeCloseTo(10);
    expect(pieces["database (Kysely, SQLite, group commit)"]).toBeCloseTo(20);
    expect(pieces["garbage collection"]).toBeCloseTo(10);
    const total = PIECES.reduce((sum, piece) => sum + pieces[piece], 0);
    expect(total).toBeCloseTo(70);
  });

  it("counts only the samples inside the measured window", () => {
    const order = ["logLine", "query", "query", "logLine"];
    const profile = {
      nodes,
      startTime: 0,
      samples: order.map((name) => leafOf[name] as number),
      timeDeltas: [100, 100, 100, 100], // at 100, 200, 300, 400
    };
    const pieces = chargeSamples(profile, { fromUs: 150, toUs: 350 }, 50);
    expect(pieces["database (Kysely, SQLite, group commit)"]).toBeCloseTo(50);
    expect(pieces["request log"]).toBe(0);
  });
});
