/**
 * The seed's Java examples (`seed/ConnectSessions.md`: createConnectSession, then
 * authenticateConnectSession) written with this SDK. The root `tsconfig.json` typechecks this
 * file, which proves the seed's shape compiles; nothing runs on import. In your own project,
 * import from "@connect-hub/sdk" instead of "../src/index.js".
 */
import {
  type AuthenticateConnectSessionResponse,
  Categories,
  ConnectHub,
  type ConnectSessionCreate,
  ConnectSessionStatus,
  type CreateConnectSessionResponse,
  type Security,
  Type,
  UnauthorizedResponse,
} from "../src/index.js";

export interface SeedExampleOutcome {
  token: string;
  authLinkUrl: string;
  expiresAt: Date;
  pending: boolean;
  expiredTokenStatus: number | undefined;
}

export async function createThenAuthenticate(serverURL: string, apiKey: string): Promise<SeedExampleOutcome> {
  const security: Security = { username: apiKey, password: "" };
  const sdk = new ConnectHub({ serverURL, security });

  const req: ConnectSessionCreate = {
    originOwnerId: "<id>",
    originOwnerName: "<value>",
    categories: [
      Categories.Ats,
      Categories.Hris,
      Categories.Documents,
      Categories.Crm,
      Categories.Iam,
      Categories.Marketing,
      Categories.Lms,
      Categories.Iam,
      Categories.Documents,
      Categories.Ticketing,
      Categories.Screening,
      Categories.Messaging,
      Categories.Accounting,
    ],
    type: Type.Test,
  };

  const res: CreateConnectSessionResponse = await sdk.connectSessions.createConnectSession(req);

  const { token, authLinkUrl, expiresAt } = res.connectSessionTokenAuthLink;

  const authenticated: AuthenticateConnectSessionResponse =
    await sdk.connectSessions.authenticateConnectSession({
      token: res.connectSessionTokenAuthLink?.token,
    });
  const pending = authenticated.connectSession.status === ConnectSessionStatus.Pending;

  let expiredTokenStatus: number | undefined;
  try {
    await sdk.connectSessions.authenticateConnectSession({ token: "<expired>" });
  } catch (error) {
    if (!(error instanceof UnauthorizedResponse)) throw error;
    expiredTokenStatus = error.statusCode;
  }
  return { token, authLinkUrl, expiresAt, pending, expiredTokenStatus };
}
