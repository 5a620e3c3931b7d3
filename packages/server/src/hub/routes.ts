/**
 * The hosted connect page. Until the page itself ships, the auth link answers honestly: a
 * page that says the connect page is not available in this version (501), never a fake
 * success. The token is neither echoed nor logged.
 */
import type { FastifyPluginAsync } from "fastify";

const NOT_AVAILABLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect page not available</title>
</head>
<body>
<main>
<h1>The connect page is not available yet</h1>
<p>This Connect Hub server issues connect sessions, but its hosted connect page is not part of this version. Nothing was connected.</p>
</main>
</body>
</html>
`;

export const hubRoutes: FastifyPluginAsync = async (app) => {
  app.get("/connect", { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .code(501)
      .header("cache-control", "no-store")
      .header("referrer-policy", "no-referrer")
      .type("text/html; charset=utf-8")
      .send(NOT_AVAILABLE_PAGE);
  });
};
