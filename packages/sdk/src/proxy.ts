/**
 * `hub.proxy`: calls to a linked account's provider through Connect Hub's `/unified/proxy`,
 * which applies the account's credentials (refreshing an OAuth2 token when needed) and reaches
 * only the provider's declared API hosts.
 *
 * A 2xx or 3xx answer of the provider is returned with its status, headers and body (JSON
 * parsed, anything else as text). A 4xx or 5xx answer throws the error class of its status
 * (`NotFoundResponse`, `TooManyRequestsResponse`...), with the provider's body in
 * `providerErrors[0].raw`; so do Connect Hub's own refusals (an unknown account, a path that
 * leaves the provider's API).
 *
 * Retries: GET, HEAD and OPTIONS retry like every other call. Other methods may change data at
 * the provider, so they retry only a 429 (the provider, or Connect Hub, did not take the call)
 * and never an attempt whose answer was lost.
 */
import type { RequestOptions } from "./core/options.js";
import type { RequestCore, ResponseMetadata } from "./core/request-core.js";
import { DEFAULT_RETRY_CODES } from "./core/retries.js";
import { isJsonContentType, parseJson } from "./core/wire.js";

export type ProxyMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

export interface ProxyRequest {
  /** The linked account whose credentials the call is made with. */
  accountId: string;
  /** Default GET. */
  method?: ProxyMethod;
  /** Below the provider's API base URL (or below `url`), with any query; no `..` segments. */
  path?: string;
  /** An absolute URL on one of the provider's declared hosts, instead of its API base URL. */
  url?: string;
  /** Sent to the provider; credentials, cookies and hop-by-hop headers are refused. */
  headers?: Record<string, string>;
  /** An object or array is sent as JSON, a string as it is. Not with GET or HEAD. */
  body?: Record<string, unknown> | unknown[] | string;
}

export interface ProxyResponse extends ResponseMetadata {
  /** The provider's answer headers, as Connect Hub relays them. */
  headers: Headers;
  /** A JSON answer parsed, any other as text; `undefined` when the answer has no body. */
  data: unknown;
}

const SAFE_METHODS = new Set<string>(["GET", "HEAD", "OPTIONS"]);
const UNSAFE_RETRY_CODES: readonly number[] = [429];

export class ProxyRequests {
  readonly #core: RequestCore;

  constructor(core: RequestCore) {
    this.#core = core;
  }

  /** Makes one call to the account's provider and returns its answer (see the module comment). */
  async request(request: ProxyRequest, options: RequestOptions = {}): Promise<ProxyResponse> {
    const method = request.method ?? "GET";
    const safe = SAFE_METHODS.has(method.toUpperCase());
    const { value, ...metadata } = await this.#core.execute(
      {
        operationId: "proxyRequest",
        method: "POST",
        path: "/unified/proxy",
        headers: { "x-account-id": request.accountId },
        body: {
          method,
          ...(request.path !== undefined ? { path: request.path } : {}),
          ...(request.url !== undefined ? { url: request.url } : {}),
          ...(request.headers !== undefined ? { headers: request.headers } : {}),
          ...(request.body !== undefined ? { body: request.body } : {}),
        },
        successStatus: 200,
        isSuccess: (status) => status >= 200 && status < 400,
        defaultRetryCodes: safe ? DEFAULT_RETRY_CODES : UNSAFE_RETRY_CODES,
        retryLostAnswers: safe,
        read: () => undefined,
        readAnswer: ({ response, body }) => readProxyBody(response, body),
      },
      options,
    );
    return { ...metadata, headers: metadata.rawResponse.headers, data: value };
  }
}

function readProxyBody(response: Response, body: string): unknown {
  if (body === "") return undefined;
  if (isJsonContentType(response.headers.get("content-type"))) {
    const parsed = parseJson(body);
    if (parsed.ok) return parsed.value;
  }
  return body;
}
