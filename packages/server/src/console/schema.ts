/** Wire schemas of the console's session routes, the audit log, API keys and projects. */
import { Type } from "@sinclair/typebox";
import { Nullable, PageQuery, StringEnum, Timestamp } from "../http/schema-types.js";

export const ConsoleConfig = Type.Object({
  oidc: Type.Object({
    enabled: Type.Boolean(),
    name: Type.Optional(Type.String({ description: "The sign-in button's label (CONSOLE_OIDC_NAME)." })),
  }),
});

export const Role = StringEnum(["admin", "viewer"] as const);
const Operator = Type.Object({
  email: Type.Optional(Type.String()),
  subject: Type.String({ description: "The identity provider's subject, or `cli link <link id>`." }),
  method: StringEnum(["link", "oidc"] as const),
});

export const ConsoleSessionView = Type.Object({
  id: Type.String(),
  operator: Operator,
  role: Role,
  project: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  csrf_token: Type.String({ description: "Send it as `x-csrf-token` on every change." }),
  expires_at: Timestamp,
});

export const ConsoleSessionSummary = Type.Object({
  id: Type.String(),
  operator: Operator,
  role: Role,
  project_id: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  created_at: Timestamp,
  expires_at: Timestamp,
  last_seen_at: Timestamp,
  current: Type.Boolean({ description: "Whether this is the caller's own session." }),
});

export const SignInQuery = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200, description: "The link's `chl_...` token." }),
});

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) });

const Actor = Type.Object({
  type: StringEnum(["api_key", "console", "cli"] as const),
  id: Type.String(),
  display: Type.String({ description: "`chk_…wXyZ`, an operator's e-mail, or `cli link <link id>`." }),
});

export const AuditEvent = Type.Object({
  id: Type.String(),
  project_id: Nullable(Type.String({ description: "Null for an event about every project." })),
  occurred_at: Timestamp,
  actor: Actor,
  action: Type.String({ description: "Dotted, e.g. `integration.updated`, `api_key.created`." }),
  target_type: Nullable(Type.String()),
  target_id: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  details: Type.Object({}, { additionalProperties: true, description: "Small facts; never secrets." }),
});

export const AuditQuery = Type.Composite([
  PageQuery(50),
  Type.Object({
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    actor_type: Type.Optional(StringEnum(["api_key", "console", "cli"] as const)),
    target_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  }),
]);

export const ApiKeySummary = Type.Object({
  id: Type.String(),
  start: Type.String({ description: "The key's first characters, e.g. `chk_AbCd`." }),
  last_four: Type.String(),
  created_at: Timestamp,
  revoked_at: Nullable(Timestamp),
});

export const ApiKeyCreated = Type.Object({
  id: Type.String(),
  key: Type.String({ description: "The key itself: shown in this answer only." }),
  start: Type.String(),
  last_four: Type.String(),
  created_at: Timestamp,
});

export const ProjectSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  organization_id: Type.String(),
  organization_name: Type.String(),
});
