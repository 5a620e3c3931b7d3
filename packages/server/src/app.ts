/**
 * Builds the HTTP application from a configuration and an open database. It never listens:
 * `main.ts` (and the tests) decide where it runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerFactoryHandler } from "fastify";
import { CredentialService } from "./accounts/credentials.js";
import { accountRoutes } from "./accounts/routes.js";
import { ACCOUNT_SHARED_SCHEMAS } from "./accounts/schema.js";
import { AccountService } from "./accounts/service.js";
import { AccountVerificationService } from "./accounts/verification.js";
import type { Config } from "./config.js";
import { connectSessionRoutes } from "./connect-sessions/routes.js";
import { CONNECT_SESSION_SHARED_SCHEMAS } from "./connect-sessions/schema.js";
import { ConnectSessionService } from "./connect-sessions/service.js";
import { ConnectionChecker } from "./connections/checker.js";
import { connectorRoutes } from "./connectors/routes.js";
import { consoleAdminRoutes } from "./console/admin-routes.js";
import { consoleAssetRoutes, consoleAssetsDir } from "./console/assets.js";
import { AuditLog, registerAuditHook } from "./console/audit.js";
import { sessionCookieName } from "./console/cookies.js";
import { ConsoleOidc } from "./console/oidc.js";
import { consoleOidcRoutes } from "./console/oidc-routes.js";
import { consoleRoutes } from "./console/routes.js";
import { ConsoleService } from "./console/service.js";
import { loadSecretBox } from "./crypto/keyring.js";
import type { SecretBox } from "./crypto/secrets.js";
import type { Db } from "./db/database.js";
import { popupRoutes } from "./embed/popup-routes.js";
import { embedRoutes } from "./embed/routes.js";
import { EmbedService } from "./embed/service.js";
import { requireAdmin } from "./http/admin-auth.js";
import { AuthFailureLimiter } from "./http/auth-failures.js";
import {
  ApiError,
  errorBody,
  errorHandler,
  refuseWhileClosing,
  sendError,
  toApiError,
  useErrorClock,
} from "./http/errors.js";
import { guardedJsonParser, rejectNulInUrl } from "./http/input-guards.js";
import { logDestination, loggerOptions, OneLinePerRequest, requestLogger } from "./http/logging.js";
import { registerRateLimit } from "./http/rate-limit.js";
import { newRequestId, REQUEST_ID_HEADER, requestIdGenerator } from "./http/request-id.js";
import { ErrorResponse } from "./http/schema-types.js";
import { apiSecurityHeaders, registerSecurityHeaders } from "./http/security-headers.js";
import { sharedSerializerFactory } from "./http/serialization.js";
import { countFailedConnectTokens } from "./http/token-failures.js";
import { validatorCompiler } from "./http/validation.js";
import { hubRoutes } from "./hub/routes.js";
import { HubService } from "./hub/service.js";
import { integrationRoutes } from "./integrations/routes.js";
import { INTEGRATION_SHARED_SCHEMAS } from "./integrations/schema.js";
import { IntegrationService } from "./integrations/service.js";
import { Sweeper } from "./maintenance/sweeper.js";
import { OAuthTokenClient } from "./oauth/token-client.js";
import { healthRoutes } from "./ops/health.js";
import { registerMetrics } from "./ops/metrics.js";
import { type DnsLookup, OutboundClient } from "./outbound/client.js";
import { loadProviderCatalog, type ProviderCatalog } from "./providers/catalog.js";
import { proxyRoutes } from "./proxy/routes.js";
import { ProxyService } from "./proxy/service.js";
import { SANDBOX_PATH } from "./sandbox/constants.js";
import { sandboxRoutes } from "./sandbox/routes.js";
import { statsRoutes } from "./stats/routes.js";
import { STATS_SHARED_SCHEMAS } from "./stats/schema.js";
import { StatsService } from "./stats/service.js";
import { TenancyService } from "./tenancy/service.js";
import { type Clock, systemClock } from "./time.js";
import { VERSION } from "./version.js";
import { WebhookDispatcher } from "./webhooks/dispatcher.js";
import { WebhookOutbox } from "./webhooks/outbox.js";
import { webhookRoutes } from "./webhooks/routes.js";
import { openApiWebhooks, WEBHOOK_SHARED_SCHEMAS } from "./webhooks/schema.js";
import { WebhookService, webhookRules } from "./webhooks/service.js";

export interface AppOptions {
  config: Config;
  db: Db;
  clock?: Clock;
  /** Where logs go; defaults to standard output. */
  logStream?: NodeJS.WritableStream;
  /** Defaults to the shipped catalog plus the configured PROVIDERS_DIR folders. */
  catalog?: ProviderCatalog;
  /** Defaults to ENCRYPTION_KEY (or the development key in the data folder). */
  secrets?: SecretBox;
  /** How outbound calls resolve host names; defaults to the system resolver. */
  dnsLookup?: DnsLookup;
}

export { VERSION };

/**
 * Longest path parameter the router accepts (Fastify's default is 100); the schemas allow ids
 * of up to 255 characters and answer 400 past that. Beyond this the router answers 414.
 */
const MAX_PARAM_LENGTH = 2048;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, db } = options;
  const clock = options.clock ?? systemClock;
  const https = new URL(config.publicUrl).protocol === "https:";
  // Set once security headers are registered; router errors are answered outside the hooks.
  let addApiHeaders: (reply: FastifyReply) => void = () => {};

  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream ?? (await logDestination(config.logFormat))),
    bodyLimit: config.bodyLimitBytes,
    serverFactory: serverWithRequestTimeout(config.requestTimeoutSeconds),
    clientErrorHandler: clientErrorAnswerer(apiSecurityHeaders({ https }), clock),
    genReqId: requestIdGenerator(config.trustProxy),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A malformed percent-escape or an over-long parameter, refused by the router itself.
    frameworkErrors: (error, request, reply) => {
      const apiError = toApiError(error, config.bodyLimitBytes);
      request.log.info({ statusCode: apiError.statusCode, reason: apiError.message }, "request rejected");
      addApiHeaders(reply);
      return sendError(reply, apiError);
    },
    logController: new OneLinePerRequest(),
    schemaController: { compilersFactory: { buildSerializer: sharedSerializerFactory() } },
    // Requests that arrive while closing get our 503 envelope (refuseWhileClosing), not Fastify's.
    return503OnClosing: false,
    childLoggerFactory: requestLogger,
    // A hop count trusts that many proxies nearest to the server (as Express does).
    trustProxy:
      typeof config.trustProxy === "number"
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    forceCloseConnections: "idle",
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Per-request fields set by the hooks, declared up front so every request has one shape.
  for (const field of ["presentedKey", "principal", "adminCaller"] as const)
    app.decorateRequest(field, undefined);
  // Only JSON bodies are accepted; anything else answers 415.
  app.removeContentTypeParser("text/plain");
  // JSON bodies: Fastify's parser, then the depth and NUL rules of input-guards.ts.
  const parseJson = guardedJsonParser(app.getDefaultJsonParser("error", "error"));
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, parseJson);
  useErrorClock(app, clock);
  refuseWhileClosing(app);
  app.addHook("onRequest", rejectNulInUrl);
  app.setValidatorCompiler(validatorCompiler());
  app.setErrorHandler(errorHandler(config.bodyLimitBytes));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new ApiError(404, `Route ${request.method} ${request.url.split("?")[0]} does not exist`),
    ),
  );
  // Shared schemas are added here, at the root: a plugin that adds its own gets a fresh
  // schema controller without the strict body validator set above.
  for (const schema of [
    ErrorResponse,
    ...ACCOUNT_SHARED_SCHEMAS,
    ...CONNECT_SESSION_SHARED_SCHEMAS,
    ...INTEGRATION_SHARED_SCHEMAS,
    ...WEBHOOK_SHARED_SCHEMAS,
    ...STATS_SHARED_SCHEMAS,
  ])
    app.addSchema(schema);

  addApiHeaders = registerSecurityHeaders(app, { https });
  const redis = await registerRateLimit(app, {
    perMinute: config.rateLimitPerMinute,
    redisUrl: config.redisUrl,
  });
  const authFailures = new AuthFailureLimiter(config.authFailuresPerMinute, clock, redis);
  countFailedConnectTokens(app, authFailures);

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Connect Hub API",
        version: VERSION,
        description:
          "Connect sessions for your customers' third-party accounts. Wire-compatible with StackOne's Connect Sessions API: authenticate with your API key as the HTTP Basic username and an empty password.",
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          basic: { type: "http", scheme: "basic" },
          consoleSession: {
            type: "apiKey",
            in: "cookie",
            name: sessionCookieName(https),
            description:
              "The console's session cookie (GET /console/sign-in or OIDC sign-in). Changes also need `x-csrf-token`; an all-projects session names its project in `x-connect-hub-project`.",
          },
        },
      },
      tags: [
        { name: "Connect Sessions" },
        { name: "Accounts" },
        { name: "Integrations" },
        {
          name: "Embedded Hub",
          description:
            "What StackOne's embeddable component (`@stackone/hub`) calls from the embedding page, with the connect session token.",
        },
        { name: "Connectors" },
        {
          name: "Proxy",
          description: "Calls to a linked account's provider, made with its stored credentials.",
        },
        {
          name: "Webhooks",
          description: "Endpoints that hear about accounts and sessions; the events are under `webhooks`.",
        },
        {
          name: "Console",
          description: "The operator console's sign-in and sessions, and the projects it shows.",
        },
        { name: "API Keys", description: "The project's API keys: each key is shown once, when created." },
        { name: "Audit Log", description: "Who changed what, when, from where." },
        { name: "Stats", description: "What the operator console's overview shows." },
      ],
      // Plain JSON Schema objects; the plugin's typing wants its own OpenAPI types.
      webhooks: openApiWebhooks(config.organizationIdType) as never,
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });

  const catalog =
    options.catalog ??
    (await loadProviderCatalog({
      extraDirs: config.providersDirs,
      allowLoopbackUrls: config.outbound.allowPrivateNetworks,
      ...(config.sandboxProviders ? { sandboxPublicUrl: config.publicUrl } : {}),
    }));
  const secrets = options.secrets ?? loadSecretBox(config, (message) => app.log.warn(message));
  const outbound = new OutboundClient(
    {
      ...config.outbound,
      ownSandboxPrefix: config.sandboxProviders ? `${config.publicUrl}${SANDBOX_PATH}` : undefined,
    },
    options.dnsLookup,
  );
  const tokens = new OAuthTokenClient(outbound, clock);
  const checker = new ConnectionChecker(outbound, {
    allowLoopbackUrls: config.outbound.allowPrivateNetworks,
    clock,
  });

  const integrations = new IntegrationService(db.kysely, catalog, secrets, clock);
  const events = new WebhookOutbox(clock, config.organizationIdType);
  const accounts = new AccountService(db.kysely, catalog, secrets, clock, events);
  const metrics = await registerMetrics(app, db, config.metrics);
  const tenancy = new TenancyService(db.kysely, clock, { apiKeyCacheSeconds: config.apiKeyCacheSeconds });
  const audit = new AuditLog(db.kysely, clock, db.writes);
  const connectSessions = new ConnectSessionService(db, clock, {
    publicUrl: config.publicUrl,
    organizationIdType: config.organizationIdType,
    onSessionCreated: metrics.sessionCreated,
    checkProvider: (projectId, providerKey) => integrations.assertOffered(projectId, providerKey),
    audit,
  });
  const credentials = new CredentialService(
    db.kysely,
    accounts,
    integrations,
    catalog,
    secrets,
    tokens,
    clock,
  );
  const hub = new HubService(db.kysely, {
    catalog,
    integrations,
    accounts,
    tenancy,
    secrets,
    tokens,
    checker,
    clock,
    publicUrl: config.publicUrl,
    events,
  });
  const consoleSessions = new ConsoleService(db.kysely, config.publicUrl, clock);
  registerAuditHook(app, audit);
  const context = {
    config,
    catalog,
    connectSessions,
    accounts,
    credentials,
    accountVerification: new AccountVerificationService({
      accounts,
      credentials,
      integrations,
      catalog,
      checker,
      clock,
    }),
    integrations,
    projects: tenancy,
    hub,
    embed: new EmbedService(db.kysely, { hub, accounts, secrets, clock, publicUrl: config.publicUrl }),
    webhooks: new WebhookService(db.kysely, secrets, clock, webhookRules(config, db.dialect)),
    proxy: new ProxyService(db.kysely, accounts, credentials, catalog, outbound, metrics, {
      allowLoopbackUrls: config.outbound.allowPrivateNetworks,
      timeoutMs: config.outbound.timeoutMs,
      clock,
    }),
    consoleSessions,
    audit,
    adminAuth: requireAdmin({
      tenancy,
      consoleSessions,
      failures: authFailures,
      publicUrl: config.publicUrl,
      cookieName: sessionCookieName(https),
    }),
    stats: new StatsService(db.kysely, clock),
  };

  await app.register(connectSessionRoutes(context));
  await app.register(accountRoutes(context));
  await app.register(integrationRoutes(context));
  await app.register(hubRoutes(context));
  await app.register(webhookRoutes(context));
  await app.register(embedRoutes(context));
  await app.register(popupRoutes(context));
  await app.register(connectorRoutes(context));
  if (config.sandboxProviders)
    await app.register(sandboxRoutes({ secrets, clock, publicUrl: config.publicUrl }));
  await app.register(statsRoutes(context));
  await app.register(proxyRoutes(context));
  await app.register(consoleRoutes(context));
  const oidcSignIn =
    config.console.oidc && new ConsoleOidc(config.console.oidc, config.publicUrl, secrets, clock);
  await app.register(consoleOidcRoutes(context, oidcSignIn));
  await app.register(consoleAdminRoutes(context));
  await app.register(consoleAssetRoutes(consoleAssetsDir(config.console.assetsDir)));

  await healthRoutes(app, db);

  const sweeper = new Sweeper(db, config.sweeper, {
    clock,
    log: app.log,
    events,
    webhookRetentionSeconds: Math.round(config.webhooks.retentionMs / 1000),
    auditRetentionSeconds: Math.round(config.console.auditRetentionMs / 1000),
  });
  app.addHook("onReady", async () => sweeper.start());
  app.addHook("onClose", () => sweeper.stop());
  const dispatcher = new WebhookDispatcher(db, outbound, secrets, events, config.webhooks, {
    clock,
    log: app.log,
  });
  app.addHook("onReady", async () => dispatcher.start());
  // Sends in flight finish before the outbound client closes.
  app.addHook("onClose", async () => {
    await dispatcher.stop();
    await outbound.close();
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  return app;
}

/**
 * A plain node:http server whose request timeout is checked every second, so a request that
 * has not fully arrived in time gets its 408 promptly (Node's default check runs every 30 s).
 */
function serverWithRequestTimeout(timeoutSeconds: number) {
  return (handler: FastifyServerFactoryHandler) =>
    createServer(
      { requestTimeout: timeoutSeconds * 1000, connectionsCheckingInterval: 1000 },
      (req: IncomingMessage, res: ServerResponse) => handler(req, res),
    );
}

/** Errors Node raises before a request reaches Fastify, in the same envelope and headers as all others. */
function clientErrorAnswerer(securityHeaders: Record<string, string>, clock: Clock) {
  const headerLines = Object.entries(securityHeaders)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return (error: Error & { code?: string }, socket: Duplex) =>
    answerClientError(error, socket, headerLines, clock());
}

function answerClientError(
  error: Error & { code?: string },
  socket: Duplex,
  headerLines: string,
  now: Date,
): void {
  if (!socket.writable) return;
  const requestId = newRequestId();
  const timedOut = error.code === "ERR_HTTP_REQUEST_TIMEOUT";
  const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
  const status = timedOut ? 408 : tooLarge ? 431 : 400;
  const message = timedOut
    ? "Request timed out: the request did not arrive in full in time"
    : tooLarge
      ? "Request headers are too large"
      : "Malformed HTTP request";
  const body = JSON.stringify(errorBody(status, message, { requestId, now }));
  const reason = timedOut ? "Request Timeout" : tooLarge ? "Request Header Fields Too Large" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\n${headerLines}${timedOut ? "Retry-After: 1\r\n" : ""}Connection: close\r\n\r\n${body}`,
  );
}
