// @ts-check
/**
 * The hosted connect page's behaviour. It holds the connect session token in this tab's
 * sessionStorage only (or in memory, where a browser denies storage to a third-party frame),
 * removed from the address bar at once; it talks to the server with it as a
 * Bearer token, and posts messages to the embedding page only at the project's exact allowed
 * origins, never `*`.
 *
 * Messages sent to the opener or parent window:
 *   {type: "connect-hub:account-connected", account: {id, provider}}
 *   {type: "connect-hub:closed"}
 *   {type: "connect-hub:resize", height}   (to the parent frame, whenever the page's height changes)
 */

const TOKEN_KEY = "connect-hub:token";
const POPUP_KEY = "connect-hub:oauth-popup";
const ORIGINS_KEY = "connect-hub:origins";
const THEME_KEY = "connect-hub:theme";
/** The auth link's query parameters that override the project's theme (validated by the server). */
const THEME_PARAMS = ["theme", "theme_accent", "theme_background", "theme_text", "theme_radius"];
const OAUTH_RESULT = "connect-hub:oauth-result";
const SEARCH_THRESHOLD = 7;

/**
 * @typedef {{key: string, label: string, type: string, required: boolean, secret: boolean,
 *   help_text: string | null, placeholder: string | null, pattern: string | null}} Field
 * @typedef {{key: string, name: string, description: string, categories: string[], logo_url: string,
 *   docs_url: string | null, auth_type: "oauth2" | "api_key" | "basic", fields: Field[]}} Provider
 * @typedef {{session: {page_ref: string, status: string, origin_owner_name: string, expires_at: string,
 *   reauthorizing: {account_id: string, provider: string, setup_information: Record<string, unknown>,
 *   masked_secrets: Record<string, string>} | null}, providers: Provider[],
 *   allowed_origins: string[], theme: Theme}} PageModel
 * @typedef {{mode: "auto" | "light" | "dark", accent: string | null, background: string | null,
 *   text: string | null, radius: number | null}} Theme
 * @typedef {{ok: boolean, title: string, message: string, cancelled?: boolean,
 *   account?: {id: string, provider: string}, allowedOrigins: string[]}} CallbackResult
 */

/**
 * This tab's sessionStorage, or memory where the browser denies storage (a third-party frame
 * with third-party storage blocked): the page then works until it is reloaded.
 */
const tabStorage = (() => {
  /** @type {Map<string, string>} */
  const memory = new Map();
  /** @template T @param {() => T} use @param {() => T} fallback */
  const attempt = (use, fallback) => {
    try {
      return use();
    } catch {
      return fallback();
    }
  };
  return {
    /** @param {string} key */
    get: (key) =>
      attempt(
        () => sessionStorage.getItem(key),
        () => memory.get(key) ?? null,
      ),
    /** @param {string} key @param {string} value */
    set: (key, value) =>
      attempt(
        () => sessionStorage.setItem(key, value),
        () => void memory.set(key, value),
      ),
    /** @param {string} key */
    remove: (key) =>
      attempt(
        () => sessionStorage.removeItem(key),
        () => void memory.delete(key),
      ),
  };
})();

const app = /** @type {HTMLElement} */ (document.getElementById("app"));
const dataElement = document.getElementById("connect-hub-data");
const pageData = dataElement ? JSON.parse(dataElement.textContent ?? "{}") : {};

/**
 * Builds an element. Text goes in as text nodes: nothing is ever parsed as HTML.
 * @param {string} tag
 * @param {Record<string, string | boolean | undefined>} [attributes]
 * @param {(Node | string | null | undefined)[]} [children]
 * @returns {HTMLElement}
 */
function h(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) element.append(child);
  return element;
}

/** @param {Node[]} nodes */
function show(...nodes) {
  app.replaceChildren(...nodes);
  const heading = app.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

/** @returns {string[]} */
function allowedOrigins() {
  try {
    return JSON.parse(tabStorage.get(ORIGINS_KEY) ?? "[]");
  } catch {
    return [];
  }
}

/**
 * Tells the window that opened or embeds this page, at each exact allowed origin: a message
 * posted with a target origin that does not match the window's is dropped by the browser.
 * @param {unknown} message
 * @param {string[]} [origins]
 */
function notifyEmbedder(message, origins = allowedOrigins()) {
  const targets = [window.opener, window.parent !== window ? window.parent : null].filter(Boolean);
  for (const target of targets) {
    for (const origin of origins) {
      try {
        target.postMessage(message, origin);
      } catch {
        // A closed or cross-origin-isolated window: nothing to tell.
      }
    }
  }
}

function closeWindow() {
  notifyEmbedder({ type: "connect-hub:closed" });
  window.close();
  // Still here: this tab was not opened by a script, so the browser keeps it open.
  setTimeout(
    () => show(h("h1", {}, ["You can close this tab"]), h("p", {}, ["Nothing more to do here."])),
    50,
  );
}

/**
 * @param {string} path
 * @param {string} token
 * @param {unknown} [body]
 */
async function api(path, token, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = await response.json().catch(() => ({}));
  return { status: response.status, json };
}

/** @param {string} title @param {string} message */
function showMessage(title, message) {
  show(h("h1", {}, [title]), h("p", {}, [message]));
}

function takeToken() {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get("token");
  if (fromUrl) {
    tabStorage.set(TOKEN_KEY, fromUrl);
    const theme = new URLSearchParams();
    for (const name of THEME_PARAMS) {
      const value = params.get(name);
      if (value !== null) theme.set(name, value);
    }
    tabStorage.set(THEME_KEY, theme.toString());
    history.replaceState(null, "", "/connect");
  }
  return tabStorage.get(TOKEN_KEY);
}

async function startConnect() {
  if (location.pathname === "/connect/oauth/begin") return beginPopupOAuth();
  const token = takeToken();
  if (!token)
    return showMessage("This link is not valid", "Open the link you were given to connect your account.");
  const themeQuery = tabStorage.get(THEME_KEY);
  const { status, json } = await api(`/connect/api/session${themeQuery ? `?${themeQuery}` : ""}`, token);
  if (status === 401) {
    tabStorage.remove(TOKEN_KEY);
    return showMessage(
      "This link has expired",
      "This link is no longer valid. Ask for a new link to connect your account.",
    );
  }
  if (status !== 200) return showMessage("Something went wrong", json.message ?? "Please try again later.");
  const model = /** @type {PageModel} */ (json);
  tabStorage.set(ORIGINS_KEY, JSON.stringify(model.allowed_origins));
  applyTheme(model.theme);
  reportHeightToParent(model.allowed_origins);
  history.replaceState(null, "", `/connect?session=${encodeURIComponent(model.session.page_ref)}`);
  if (model.session.status !== "pending") {
    return showMessage("This link was already used", "An account was already connected with this link.");
  }
  if (model.providers.length === 0) {
    return showMessage(
      "Nothing to connect",
      "No integrations are available for this link. Contact the app that sent it.",
    );
  }
  if (model.providers.length === 1)
    return showProvider(model, /** @type {Provider} */ (model.providers[0]), token, false);
  showPicker(model, token);
}

/** @param {PageModel} model @param {string} token */
function showPicker(model, token) {
  const list = h("ul", { class: "providers", "aria-label": "Integrations" });
  /** @type {string} */
  let category = "all";
  let query = "";
  const render = () => {
    const needle = query.trim().toLowerCase();
    const shown = model.providers.filter(
      (p) =>
        (category === "all" || p.categories.includes(category)) &&
        (!needle || p.name.toLowerCase().includes(needle) || p.key.includes(needle)),
    );
    list.replaceChildren(
      ...shown.map((provider) => {
        const button = h("button", { type: "button", class: "provider", "data-provider": provider.key }, [
          h("img", { src: provider.logo_url, alt: "", width: "32", height: "32" }),
          h("span", { class: "provider-text" }, [
            h("span", { class: "provider-name" }, [provider.name]),
            h("span", { class: "muted" }, [provider.description]),
          ]),
        ]);
        button.addEventListener("click", () => showProvider(model, provider, token, true));
        return h("li", {}, [button]);
      }),
    );
    if (shown.length === 0) list.append(h("li", { class: "muted" }, ["No integration matches your search."]));
  };
  const controls = [];
  if (model.providers.length >= SEARCH_THRESHOLD) {
    const search = /** @type {HTMLInputElement} */ (
      h("input", { type: "search", id: "search", placeholder: "Search integrations", autocomplete: "off" })
    );
    search.addEventListener("input", () => {
      query = search.value;
      render();
    });
    controls.push(h("label", { for: "search", class: "visually-hidden" }, ["Search integrations"]), search);
    const categories = [...new Set(model.providers.flatMap((p) => p.categories))].sort();
    if (categories.length > 1) {
      const tabs = h("div", { role: "tablist", "aria-label": "Categories", class: "tabs" });
      for (const value of ["all", ...categories]) {
        const tab = h(
          "button",
          { type: "button", role: "tab", "aria-selected": String(value === category) },
          [value === "all" ? "All" : value.toUpperCase()],
        );
        tab.addEventListener("click", () => {
          category = value;
          for (const other of tabs.children) other.setAttribute("aria-selected", String(other === tab));
          render();
        });
        tabs.append(tab);
      }
      controls.push(tabs);
    }
  }
  render();
  const cancel = h("button", { type: "button", class: "secondary", id: "cancel" }, ["Cancel"]);
  cancel.addEventListener("click", closeWindow);
  show(
    h("h1", {}, ["Connect your account"]),
    h("p", { class: "muted" }, [`Choose the service ${model.session.origin_owner_name} uses.`]),
    ...controls,
    list,
    h("p", {}, [cancel]),
  );
}

/**
 * @param {PageModel} model @param {Provider} provider @param {string} token @param {boolean} canGoBack
 */
function showProvider(model, provider, token, canGoBack) {
  const error = h("p", { class: "error", role: "alert", id: "form-error", hidden: true });
  const form = /** @type {HTMLFormElement} */ (
    h("form", { novalidate: true, "aria-describedby": "form-error" })
  );
  // Re-authorizing: the account's plain values are pre-filled and its secrets shown masked
  // behind "Edit"; a secret not edited is left out of the submission and keeps its value.
  const prefill = model.session.reauthorizing?.provider === provider.key ? model.session.reauthorizing : null;
  for (const field of provider.fields) {
    const id = `field-${field.key}`;
    const help = field.help_text ? h("small", { id: `${id}-help`, class: "muted" }, [field.help_text]) : null;
    const input = h("input", {
      id,
      name: field.key,
      type: field.type,
      required: field.required,
      placeholder: field.placeholder ?? undefined,
      autocomplete: field.secret ? "off" : undefined,
      spellcheck: "false",
      "aria-describedby": help ? `${id}-help` : undefined,
    });
    if (field.pattern) {
      // Checked here rather than with the `pattern` attribute, whose `v`-flag syntax rejects
      // some patterns that the server's `u`-flag check accepts: both sides must agree.
      const pattern = new RegExp(`^(?:${field.pattern})$`, "u");
      const patterned = /** @type {HTMLInputElement} */ (input);
      patterned.addEventListener("input", () =>
        patterned.setCustomValidity(patterned.value === "" || pattern.test(patterned.value) ? "" : "pattern"),
      );
    }
    const prefilled = prefill?.setup_information[field.key];
    if (!field.secret && typeof prefilled === "string")
      /** @type {HTMLInputElement} */ (input).value = prefilled;
    const masked = field.secret ? prefill?.masked_secrets[field.key] : undefined;
    const control = masked ? maskedSecret(id, masked, input) : input;
    form.append(
      h("div", { class: "field" }, [
        h("label", { for: id }, [field.label, field.required ? "" : " (optional)"]),
        control,
        help,
      ]),
    );
  }
  const isOAuth = provider.auth_type === "oauth2";
  const submit = h("button", { type: "submit", class: "primary" }, [
    isOAuth ? `Continue to ${provider.name}` : "Connect",
  ]);
  form.append(submit);
  if (provider.docs_url) {
    form.append(
      h("p", { class: "muted" }, [
        h("a", { href: provider.docs_url, target: "_blank", rel: "noopener noreferrer" }, [
          `Where do I find these in ${provider.name}?`,
        ]),
      ]),
    );
  }
  /** @param {string} message */
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
    submit.removeAttribute("disabled");
    error.focus();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!form.checkValidity()) {
      const invalid = /** @type {HTMLInputElement | null} */ (form.querySelector(":invalid"));
      const label = invalid ? form.querySelector(`label[for="${invalid.id}"]`)?.textContent : null;
      fail(
        `${label ?? "A field"}: ${invalid?.validity.valueMissing ? "this is required" : "this is not in the expected format"}.`,
      );
      invalid?.focus();
      return;
    }
    submit.setAttribute("disabled", "");
    // A masked secret has no input of its name: it is sent as null, and keeps its value.
    /** @type {Record<string, string | null>} */
    const values = Object.fromEntries(
      provider.fields.map((f) => [
        f.key,
        /** @type {HTMLInputElement | null} */ (form.elements.namedItem(f.key))?.value ?? null,
      ]),
    );
    if (isOAuth) {
      const setup = Object.fromEntries(
        Object.entries(values).flatMap(([key, value]) => (value === null ? [] : [[key, value]])),
      );
      return startOAuth(provider, token, setup, fail);
    }
    const { status, json } = await api("/connect/api/credentials", token, { provider: provider.key, values });
    if (status === 201) return showConnected(provider.name, json.account);
    fail(json.message ?? "The account could not be connected. Please try again.");
  });
  const back = canGoBack ? h("button", { type: "button", class: "link" }, ["← All integrations"]) : null;
  back?.addEventListener("click", () => showPicker(model, token));
  const cancel = h("button", { type: "button", class: "secondary" }, ["Cancel"]);
  cancel.addEventListener("click", closeWindow);
  const title = model.session.reauthorizing ? `Reconnect ${provider.name}` : `Connect ${provider.name}`;
  show(
    ...(back ? [back] : []),
    h("div", { class: "provider-header" }, [
      h("img", { src: provider.logo_url, alt: "", width: "40", height: "40" }),
      h("h1", {}, [title]),
    ]),
    h("p", { class: "muted" }, [provider.description]),
    error,
    form,
    h("p", {}, [cancel]),
  );
  error.setAttribute("tabindex", "-1");
}

/**
 * A stored secret, masked and read-only, with an "Edit" button that swaps in the real (empty)
 * input. Until then the form has no input of that name, so the secret is left out.
 * @param {string} id @param {string} masked @param {HTMLElement} input
 */
function maskedSecret(id, masked, input) {
  const shown = h("input", { id, type: "text", value: masked, readonly: true, class: "masked" });
  const edit = h("button", { type: "button", class: "secondary" }, ["Edit"]);
  const row = h("div", { class: "masked-secret" }, [shown, edit]);
  edit.addEventListener("click", () => {
    row.replaceWith(input);
    input.focus();
  });
  return row;
}

/**
 * Top-level pages go to the provider in place. Embedded pages cannot (providers refuse to be
 * framed, and the state cookie must be first-party), so they open a popup that starts the
 * flow itself and reports back here.
 * @param {Provider} provider @param {string} token @param {Record<string, string>} values
 * @param {(message: string) => void} fail
 */
async function startOAuth(provider, token, values, fail) {
  if (window.top !== window) {
    const fragment = new URLSearchParams({ token, provider: provider.key, setup: JSON.stringify(values) });
    const popup = window.open(
      `/connect/oauth/begin#${fragment}`,
      "connect-hub-oauth",
      "popup,width=520,height=720",
    );
    if (!popup)
      return fail("Your browser blocked the sign-in window. Allow pop-ups for this page and try again.");
    /** @param {MessageEvent} event */
    const onMessage = (event) => {
      if (event.origin !== location.origin || event.source !== popup || event.data?.type !== OAUTH_RESULT)
        return;
      window.removeEventListener("message", onMessage);
      const result = /** @type {CallbackResult} */ (event.data.result);
      if (result.ok && result.account) showConnected(provider.name, result.account);
      else fail(result.message);
    };
    window.addEventListener("message", onMessage);
    return;
  }
  const { status, json } = await api("/connect/oauth/start", token, {
    provider: provider.key,
    setup_values: values,
  });
  if (status !== 201) return fail(json.message ?? "Could not start the authorization. Please try again.");
  location.assign(json.authorization_url);
}

async function beginPopupOAuth() {
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, "", "/connect/oauth/begin");
  const token = params.get("token");
  const provider = params.get("provider");
  if (!token || !provider) return showMessage("Nothing to do", "Start from the connect page.");
  tabStorage.set(TOKEN_KEY, token);
  tabStorage.set(POPUP_KEY, "1");
  const { status, json } = await api("/connect/oauth/start", token, {
    provider,
    setup_values: JSON.parse(params.get("setup") ?? "{}"),
  });
  if (status !== 201) {
    window.opener?.postMessage(
      {
        type: OAUTH_RESULT,
        result: { ok: false, title: "Error", message: json.message, allowedOrigins: [] },
      },
      location.origin,
    );
    return showMessage("Could not start the authorization", json.message ?? "Please try again.");
  }
  location.assign(json.authorization_url);
}

/** @param {string} providerName @param {{id: string, provider: string}} account */
function showConnected(providerName, account) {
  notifyEmbedder({
    type: "connect-hub:account-connected",
    account: { id: account.id, provider: account.provider },
  });
  const close = h("button", { type: "button", class: "primary" }, ["Close"]);
  close.addEventListener("click", closeWindow);
  show(
    h("h1", { class: "success" }, [`${providerName} is connected`]),
    h("p", {}, [
      window.top === window
        ? "Your account was connected. You can close this window."
        : "Your account was connected.",
    ]),
    h("p", {}, [close]),
  );
}

/**
 * Applies the resolved theme: the mode as an attribute the stylesheet reads, the tokens as CSS
 * custom properties through the CSSOM (allowed under the CSP's `style-src 'self'`, unlike a
 * style attribute). The server has validated every value (hex colours, a bounded integer).
 * @param {Theme} theme
 */
function applyTheme(theme) {
  const root = document.documentElement;
  root.dataset.theme = theme.mode;
  if (theme.accent) {
    root.style.setProperty("--accent", theme.accent);
    root.style.setProperty("--focus", theme.accent);
    root.style.setProperty("--accent-text", isLight(theme.accent) ? "#111111" : "#ffffff");
  }
  if (theme.background) {
    root.style.setProperty("--bg", theme.background);
    root.style.setProperty("--card", theme.background);
  }
  if (theme.text) root.style.setProperty("--text", theme.text);
  if (theme.radius !== null) root.style.setProperty("--radius", `${theme.radius}px`);
}

/** Whether a #rrggbb colour is light enough to need dark text on it (WCAG relative luminance). */
function isLight(/** @type {string} */ hex) {
  const [r, g, b] = [1, 3, 5].map((at) => {
    const channel = Number.parseInt(hex.slice(at, at + 2), 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0) > 0.179;
}

/**
 * In an iframe, lays the page out to its content's height and tells the parent that height on
 * every change, at the project's exact allowed origins only (never `*`), so the embedder can
 * size the frame and no inner scrollbar appears.
 * @param {string[]} origins
 */
function reportHeightToParent(origins) {
  if (window.parent === window || typeof ResizeObserver === "undefined") return;
  document.documentElement.classList.add("embedded");
  let lastHeight = -1;
  new ResizeObserver(() => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === lastHeight) return;
    lastHeight = height;
    for (const origin of origins) window.parent.postMessage({ type: "connect-hub:resize", height }, origin);
  }).observe(document.documentElement);
}

/** @param {CallbackResult} result */
function showCallback(result) {
  if (tabStorage.get(POPUP_KEY) === "1" && window.opener) {
    tabStorage.remove(POPUP_KEY);
    window.opener.postMessage({ type: OAUTH_RESULT, result }, location.origin);
    window.close();
    return;
  }
  reportHeightToParent(result.allowedOrigins);
  if (result.ok && result.account) {
    notifyEmbedder({ type: "connect-hub:account-connected", account: result.account }, result.allowedOrigins);
  }
  document.getElementById("retry")?.addEventListener("click", () => location.assign("/connect"));
  document.getElementById("close")?.addEventListener("click", closeWindow);
  document.querySelector("h1")?.setAttribute("tabindex", "-1");
}

if (pageData.view === "connect") {
  startConnect().catch(() =>
    showMessage("Something went wrong", "Check your connection and reload the page."),
  );
} else if (pageData.view === "callback") {
  showCallback(pageData.result);
}
