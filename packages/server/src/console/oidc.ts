/**
 * Console sign-in with the operator's own OpenID Connect provider (openid-client v6): the
 * authorization code flow with PKCE S256, `state` and `nonce`, all three kept in a short-lived
 * sealed cookie (HttpOnly, SameSite=Lax, path /console/oidc) that binds the flow to the
 * browser that started it. The identity is then checked against CONSOLE_OIDC_ALLOW.
 *
 * Discovery happens at the first sign-in, not at start-up, so a server starts while its
 * identity provider is away; a failed discovery is tried again at the next sign-in.
 */
import * as oidc from "openid-client";
import type { ConsoleOidcConfig } from "../config.js";
import type { SecretBox } from "../crypto/secrets.js";
import type { ConsoleRole } from "../db/schema.js";
import type { Clock } from "../time.js";
import { roleFor } from "./allow-list.js";
import { OIDC_STATE_TTL_SECONDS } from "./cookies.js";

const SEAL_CONTEXT = "console-oidc-state";

interface FlowState {
  state: string;
  nonce: string;
  verifier: string;
  expiresAt: number;
}

export type OidcOutcome =
  | { allowed: true; role: ConsoleRole; subject: string; email: string | undefined }
  | { allowed: false; reason: string };

export class ConsoleOidc {
  private discovered: Promise<oidc.Configuration> | undefined;
  readonly redirectUri: string;

  constructor(
    private readonly settings: ConsoleOidcConfig,
    publicUrl: string,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {
    this.redirectUri = `${publicUrl}/console/oidc/callback`;
  }

  /** The issuer's authorization URL and the sealed value of the state cookie. */
  async start(): Promise<{ url: string; cookieValue: string }> {
    const configuration = await this.configuration();
    const flow: FlowState = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      expiresAt: this.clock().getTime() + OIDC_STATE_TTL_SECONDS * 1000,
    };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: "openid email profile",
      response_type: "code",
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: "S256",
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url: url.href, cookieValue: this.secrets.seal(JSON.stringify(flow), SEAL_CONTEXT) };
  }

  /**
   * Completes the flow the callback's query belongs to: checks the browser's state cookie,
   * exchanges the code, verifies the ID token, and applies the allow-list.
   */
  async finish(query: string, cookieValue: string | undefined): Promise<OidcOutcome> {
    const flow = this.openFlow(cookieValue);
    if (!flow) {
      return { allowed: false, reason: "the sign-in took too long or began in another browser; start again" };
    }
    const configuration = await this.configuration();
    const tokens = await oidc.authorizationCodeGrant(configuration, new URL(`${this.redirectUri}?${query}`), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) return { allowed: false, reason: "the identity provider sent no ID token" };
    let email = typeof claims.email === "string" ? claims.email : undefined;
    let emailVerified = claims.email_verified === true;
    // Providers that keep the e-mail out of the ID token give it at the userinfo endpoint.
    if (email === undefined && configuration.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      email = typeof info.email === "string" ? info.email : undefined;
      emailVerified = info.email_verified === true;
    }
    const role = roleFor(this.settings.allow, { subject: claims.sub, email, emailVerified });
    if (!role) {
      return {
        allowed: false,
        reason: `${email ?? claims.sub}${email && !emailVerified ? " (e-mail not verified)" : ""} is not on the console allow-list of this server (CONSOLE_OIDC_ALLOW)`,
      };
    }
    return { allowed: true, role, subject: claims.sub, email: emailVerified ? email : undefined };
  }

  private openFlow(cookieValue: string | undefined): FlowState | undefined {
    if (!cookieValue || cookieValue.length > 4096) return undefined;
    try {
      const flow = JSON.parse(this.secrets.open(cookieValue, SEAL_CONTEXT)) as FlowState;
      return flow.expiresAt > this.clock().getTime() ? flow : undefined;
    } catch {
      return undefined;
    }
  }

  private configuration(): Promise<oidc.Configuration> {
    if (!this.discovered) {
      const issuer = new URL(this.settings.issuer);
      // Plain http is accepted by the configuration for loopback issuers only (development, tests).
      const insecure = issuer.protocol === "http:";
      this.discovered = oidc
        .discovery(
          issuer,
          this.settings.clientId,
          this.settings.clientSecret,
          undefined,
          insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
        )
        .catch((error: unknown) => {
          this.discovered = undefined;
          throw error;
        });
    }
    return this.discovered;
  }
}
