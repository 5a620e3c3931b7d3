/**
 * The OAuth2 token endpoint calls (RFC 6749 4.1.3 and 6, RFC 7636): exchanging an
 * authorization code with its PKCE verifier, and refreshing. Calls go through the outbound
 * client (timeouts, size limit, SSRF guard).
 */
import type { OutboundClient } from "../outbound/client.js";

export interface TokenSet {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
  /** Absolute expiry computed from `expires_in` when the provider gave one. */
  expires_at?: string;
}

/** The tokens, and the token endpoint's whole JSON answer (for connection metadata). */
export interface TokenGrant {
  tokens: TokenSet;
  response: Readonly<Record<string, unknown>>;
}

export interface TokenEndpointClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  authMethod: "client_secret_basic" | "client_secret_post";
}

/** The provider answered, but not with tokens; `error` is its OAuth error code. */
export class OAuthTokenError extends Error {
  override readonly name = "OAuthTokenError";
  constructor(
    message: string,
    readonly status: number,
    readonly error: string,
    readonly url: string,
    readonly raw: unknown,
  ) {
    super(message);
  }
}

export class OAuthTokenClient {
  constructor(
    private readonly outbound: OutboundClient,
    private readonly now: () => Date,
  ) {}

  async exchangeCode(
    client: TokenEndpointClient,
    grant: { code: string; redirectUri: string; codeVerifier?: string },
  ): Promise<TokenSet> {
    return (await this.exchangeCodeForGrant(client, grant)).tokens;
  }

  async refresh(client: TokenEndpointClient, refreshToken: string): Promise<TokenSet> {
    return (await this.refreshForGrant(client, refreshToken)).tokens;
  }

  /** `exchangeCode`, also answering the token response (its extra fields are metadata). */
  exchangeCodeForGrant(
    client: TokenEndpointClient,
    grant: { code: string; redirectUri: string; codeVerifier?: string },
  ): Promise<TokenGrant> {
    return this.requestTokens(client, {
      grant_type: "authorization_code",
      code: grant.code,
      redirect_uri: grant.redirectUri,
      ...(grant.codeVerifier ? { code_verifier: grant.codeVerifier } : {}),
    });
  }

  /** `refresh`, also answering the token response. */
  refreshForGrant(client: TokenEndpointClient, refreshToken: string): Promise<TokenGrant> {
    return this.requestTokens(client, { grant_type: "refresh_token", refresh_token: refreshToken });
  }

  private async requestTokens(
    client: TokenEndpointClient,
    params: Record<string, string>,
  ): Promise<TokenGrant> {
    const body = new URLSearchParams(params);
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    if (client.authMethod === "client_secret_basic") {
      // RFC 6749 2.3.1: both parts form-urlencoded before base64.
      const credentials = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
    } else {
      body.set("client_id", client.clientId);
      body.set("client_secret", client.clientSecret);
    }
    const response = await this.outbound.request(client.tokenUrl, {
      method: "POST",
      headers,
      body: body.toString(),
    });
    const json =
      response.json<Record<string, unknown>>() ?? Object.fromEntries(new URLSearchParams(response.text));
    if (response.status !== 200 || typeof json.access_token !== "string") {
      const error = typeof json.error === "string" ? json.error : "invalid_response";
      const description = typeof json.error_description === "string" ? `: ${json.error_description}` : "";
      throw new OAuthTokenError(
        `the token endpoint answered ${response.status} ${error}${description}`,
        response.status,
        error,
        client.tokenUrl,
        response.json() ?? null,
      );
    }
    const expiresIn = Number(json.expires_in);
    const tokens: TokenSet = {
      access_token: json.access_token,
      token_type: typeof json.token_type === "string" ? json.token_type : "Bearer",
      ...(typeof json.refresh_token === "string" ? { refresh_token: json.refresh_token } : {}),
      ...(typeof json.scope === "string" ? { scope: json.scope } : {}),
      ...(typeof json.id_token === "string" ? { id_token: json.id_token } : {}),
      ...(Number.isFinite(expiresIn) && expiresIn > 0
        ? { expires_at: new Date(this.now().getTime() + expiresIn * 1000).toISOString() }
        : {}),
    };
    return { tokens, response: json };
  }
}
