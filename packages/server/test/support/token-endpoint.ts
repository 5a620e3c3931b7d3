/**
 * A bare OAuth2 token endpoint on a loopback port, declared to Connect Hub as an operator
 * provider (`token-idp`). It answers every grant with fresh tokens, at once or (`hold`) only
 * when the test releases the answers, and counts the calls: for tests of the refresh lease and
 * of callbacks that need a provider, but no browser.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./server.js";

export const TOKEN_PROVIDER_KEY = "token-idp";

export interface TokenEndpoint {
  tokenUrl: string;
  /** An operator PROVIDERS_DIR declaring the provider `token-idp` with this token URL. */
  providersDir: string;
  calls(): number;
  /** Resolves once `count` token requests have arrived in all. */
  arrived(count: number): Promise<void>;
  /** Answers every held request (with `hold`). */
  releaseAll(): void;
  close(): Promise<void>;
}

export async function startTokenEndpoint(options: { hold?: boolean } = {}): Promise<TokenEndpoint> {
  const port = await freePort();
  const held: ServerResponse[] = [];
  const arrivals: Array<() => void> = [];
  let calls = 0;
  const answer = (response: ServerResponse) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        access_token: `fresh-${calls}`,
        token_type: "Bearer",
        expires_in: 3600,
        refresh_token: "refresh-2",
      }),
    );
  };
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      calls += 1;
      if (options.hold) held.push(response);
      else answer(response);
      for (const arrived of arrivals.splice(0)) arrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const tokenUrl = `http://127.0.0.1:${port}/token`;

  const providersDir = mkdtempSync(path.join(tmpdir(), "connect-hub-token-idp-"));
  mkdirSync(path.join(providersDir, "logos"));
  writeFileSync(
    path.join(providersDir, "logos", `${TOKEN_PROVIDER_KEY}.svg`),
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" role="img" aria-label="Token IdP"><rect width="40" height="40"/></svg>',
  );
  writeFileSync(
    path.join(providersDir, `${TOKEN_PROVIDER_KEY}.json`),
    JSON.stringify({
      key: TOKEN_PROVIDER_KEY,
      name: "Token IdP",
      categories: ["iam"],
      description: "A bare token endpoint for tests.",
      website: "https://example.com",
      logo: `${TOKEN_PROVIDER_KEY}.svg`,
      auth: {
        type: "oauth2",
        authorizationUrl: "http://127.0.0.1:1/authorize",
        tokenUrl,
        scopes: ["read"],
        pkce: true,
        refresh: true,
      },
    }),
  );
  return {
    tokenUrl,
    providersDir,
    calls: () => calls,
    async arrived(count) {
      while (calls < count) await new Promise<void>((resolve) => arrivals.push(resolve));
    },
    releaseAll() {
      for (const response of held.splice(0)) answer(response);
    },
    close: () =>
      new Promise<void>((resolve) => {
        rmSync(providersDir, { recursive: true, force: true });
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
