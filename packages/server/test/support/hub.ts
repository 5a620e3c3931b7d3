/** Drives the hosted connect page's API the way its script does, for API-level tests. */
import { basicAuth, type TestServer } from "./server.js";

export async function adminRequest(
  server: Pick<TestServer, "url">,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> & Array<Record<string, unknown>> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: basicAuth(apiKey),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export async function createSession(server: TestServer, apiKey: string, body: Record<string, unknown> = {}) {
  const response = await adminRequest(server, apiKey, "POST", "/connect_sessions", {
    origin_owner_id: "cust-1",
    origin_owner_name: "Acme",
    ...body,
  });
  if (response.status !== 201) throw new Error(`session not created: ${JSON.stringify(response.body)}`);
  return response.body as unknown as { id: number; token: string; auth_link_url: string };
}

/** Submits a credential form on the connect page's API, as a same-origin browser would. */
export async function submitCredentials(
  server: TestServer,
  token: string,
  provider: string,
  values: Record<string, string>,
) {
  const response = await fetch(`${server.url}/connect/api/credentials`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      origin: new URL(server.config.publicUrl).origin,
      "sec-fetch-site": "same-origin",
    },
    body: JSON.stringify({ provider, values }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Creates a session and connects an API-key account through it; returns the account id. */
export async function connectApiKeyAccount(
  server: TestServer,
  apiKey: string,
  session: Record<string, unknown> = {},
  provider = "ashby",
  values: Record<string, string> = { api_key: "ashby-secret-key-123" },
): Promise<string> {
  const { token } = await createSession(server, apiKey, session);
  const result = await submitCredentials(server, token, provider, values);
  if (result.status !== 201) throw new Error(`not connected: ${JSON.stringify(result.body)}`);
  return (result.body.account as { id: string }).id;
}
