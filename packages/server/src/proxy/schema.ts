/** Route schemas of the proxy: StackOne's `/unified/proxy` body and the account header. */
import { type Static, Type } from "@sinclair/typebox";
import { Nullable, StringEnum } from "../http/schema-types.js";

export const PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
/** StackOne's SDK sends lowercase methods (`"get"`); both cases are accepted. */
const METHOD_VALUES = [...PROXY_METHODS.map((method) => method.toLowerCase()), ...PROXY_METHODS];

export const AccountIdHeader = Type.Object(
  {
    "x-account-id": Type.String({
      minLength: 1,
      maxLength: 200,
      description: "The linked account whose credentials the call is made with.",
    }),
  },
  { additionalProperties: true },
);

export const ProxyRequestBody = Type.Object(
  {
    url: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 2048,
          description:
            "An absolute URL on one of the provider's declared hosts, used instead of its API base URL; `path` is appended to it.",
        }),
      ),
    ),
    path: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 4096,
          description:
            "The path below the provider's API base URL (or below `url`), with any query parameters. No `..` segments.",
        }),
      ),
    ),
    method: Type.Optional(
      Nullable(StringEnum(METHOD_VALUES, { description: "The HTTP method; GET when omitted." })),
    ),
    headers: Type.Optional(
      Nullable(
        Type.Record(Type.String(), Type.Unknown(), {
          description:
            "Headers sent to the provider. Credentials, cookies, `Host`, `Content-Length` and hop-by-hop headers are refused: the server applies the account's credentials itself.",
        }),
      ),
    ),
    body: Type.Optional(
      Nullable(
        Type.Unsafe<Record<string, unknown> | unknown[] | string>({
          type: ["object", "array", "string"],
          description:
            "The request body: an object or array is sent as JSON, a string as it is (with the `Content-Type` of `headers`, else JSON or text/plain). Not with GET or HEAD (an empty object is ignored).",
        }),
      ),
    ),
  },
  { additionalProperties: false, description: "StackOne's proxy request." },
);
export type ProxyRequestBody = Static<typeof ProxyRequestBody>;
