/**
 * The SaaS product's own page, on another loopback origin, embedding StackOne's component
 * (`@stackone/hub` 1.11.4, a dev dependency) exactly as a customer would: the published
 * `<stackone-hub>` web component file as is, or the React component bundled with React from
 * node_modules by rolldown. Nothing is downloaded. Events the component raises are recorded on
 * `window.hubEvents` for the test to read.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { rolldown } from "rolldown";
import { freePort } from "./server.js";

const require = createRequire(import.meta.url);
/** The published `<stackone-hub>` bundle (the package exports it as `./webcomponent`). */
const WEB_COMPONENT_FILE = require.resolve("@stackone/hub/webcomponent");

const REACT_ENTRY = `
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { StackOneHub } from "@stackone/hub";
const params = new URLSearchParams(location.search);
window.hubEvents = [];
createRoot(document.getElementById("root")).render(
  createElement(StackOneHub, {
    token: params.get("token") ?? undefined,
    baseUrl: params.get("baseUrl") ?? undefined,
    appUrl: params.get("appUrl") ?? undefined,
    accountId: params.get("accountId") ?? undefined,
    theme: params.get("theme") ?? "light",
    height: "560px",
    onSuccess: (account) => window.hubEvents.push({ type: "success", detail: account }),
  }),
);
`;

const WEB_COMPONENT_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Embedder</title>
<script src="/hub/webcomponent.js"></script></head><body>
<div id="slot"></div>
<script>
  window.hubEvents = [];
  const params = new URLSearchParams(location.search);
  const hub = document.createElement("stackone-hub");
  for (const [name, value] of [["token", params.get("token")], ["base-url", params.get("baseUrl")],
      ["app-url", params.get("appUrl")], ["account-id", params.get("accountId")], ["height", "560px"]]) {
    if (value) hub.setAttribute(name, value);
  }
  hub.addEventListener("success", (event) => window.hubEvents.push({ type: "success", detail: event.detail }));
  document.getElementById("slot").append(hub);
</script></body></html>`;

const REACT_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Embedder</title></head>
<body><div id="root"></div><script src="/react-app.js"></script></body></html>`;

export interface Embedder {
  /** http://localhost:<port>: the origin a project allows in these tests. */
  origin: string;
  /** http://127.0.0.1:<port>: the same server under an origin nobody allows. */
  strangerOrigin: string;
  close(): Promise<void>;
}

async function bundleReactApp(): Promise<string> {
  const bundle = await rolldown({
    input: "embedder-entry",
    platform: "browser",
    logLevel: "silent",
    transform: { define: { "process.env.NODE_ENV": '"production"' } },
    plugins: [
      {
        name: "entry",
        resolveId: (id) => (id === "embedder-entry" ? id : null),
        load: (id) => (id === "embedder-entry" ? REACT_ENTRY : null),
      },
    ],
  });
  const { output } = await bundle.generate({ format: "iife" });
  await bundle.close();
  return output[0].code;
}

export async function startEmbedder(): Promise<Embedder> {
  const webComponent = readFileSync(WEB_COMPONENT_FILE);
  const reactApp = await bundleReactApp();
  const port = await freePort();
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const send = (type: string, body: string | Buffer) =>
      response.writeHead(200, { "content-type": type }).end(body);
    if (url.pathname === "/hub/webcomponent.js") return send("text/javascript", webComponent);
    if (url.pathname === "/react-app.js") return send("text/javascript", reactApp);
    if (url.pathname === "/web-component") return send("text/html", WEB_COMPONENT_PAGE);
    if (url.pathname === "/react") return send("text/html", REACT_PAGE);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://localhost:${port}`,
    strangerOrigin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
