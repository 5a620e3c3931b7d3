/**
 * HTML of the hosted connect page. Pages carry no inline script or style (the CSP forbids
 * both): behaviour lives in /connect/assets/connect.js, and data for it travels in a
 * `<script type="application/json">` block, which browsers never execute.
 */
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

/** JSON safe inside a script element: no `</script>` or comment openers can appear. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

/**
 * Every page this server renders, around its own `<main>` content and `<head>` scripts: one
 * place for the referrer, colour-scheme and stylesheet tags the connect page and the
 * embedded popup share.
 */
export function pageShell(title: string, main: string, head: string, mainAttributes = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/connect/assets/connect.css">
${head}</head>
<body>
<main id="app" class="card"${mainAttributes}>
${main}
</main>
</body>
</html>
`;
}

function layout(title: string, body: string, data?: unknown): string {
  const dataScript =
    data === undefined
      ? ""
      : `<script type="application/json" id="connect-hub-data">${jsonForScript(data)}</script>\n`;
  return pageShell(
    title,
    body,
    `${dataScript}<script type="module" src="/connect/assets/connect.js"></script>\n`,
    ' aria-live="polite"',
  );
}

/** The page shell: the script fetches the session and renders the provider picker. */
export function connectPage(): string {
  return layout(
    "Connect your account",
    `<p class="muted" id="loading">Loading…</p>
<noscript><p>This page needs JavaScript to connect your account.</p></noscript>`,
    { view: "connect" },
  );
}

export function messagePage(title: string, message: string): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>`,
    { view: "message" },
  );
}

export interface CallbackResult {
  ok: boolean;
  title: string;
  message: string;
  cancelled?: boolean;
  account?: { id: string; provider: string };
  allowedOrigins: string[];
}

/** Where the provider sends the browser back; the script tells the opener, if any. */
export function callbackPage(result: CallbackResult): string {
  const retry = result.ok
    ? ""
    : `\n<p><button type="button" id="retry" class="primary">Try again</button></p>`;
  const close = `\n<p><button type="button" id="close" class="secondary">Close</button></p>`;
  return layout(
    result.title,
    `<h1 class="${result.ok ? "success" : "error"}">${escapeHtml(result.title)}</h1>
<p>${escapeHtml(result.message)}</p>${retry}${close}`,
    { view: "callback", result },
  );
}
