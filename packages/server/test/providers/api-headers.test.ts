/**
 * `api.headers` values are templates over the account's values: UKG Pro's secret customer API
 * key beside basic auth, Xero's tenant id from connection metadata, JumpCloud's optional
 * organization id. A header declared optional is left out when its value is missing; any
 * other missing value refuses the call before anything is sent.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboundClient } from "../../src/outbound/client.js";
import {
  authorize,
  type ConnectionValues,
  metadataRequest,
  ProviderApiError,
  verificationRequest,
} from "../../src/providers/api.js";
import { SHIPPED_PROVIDERS_DIR } from "../../src/providers/catalog.js";
import type { ProviderDefinition } from "../../src/providers/schema.js";
import { checkRules, checkSchema } from "../../src/providers/validate.js";
import { freePort } from "../support/server.js";
import { acmeHr } from "./fixtures.js";

function shippedFile(key: string): ProviderDefinition {
  return JSON.parse(
    readFileSync(path.join(SHIPPED_PROVIDERS_DIR, `${key}.json`), "utf8"),
  ) as ProviderDefinition;
}

function checked(file: unknown, key: string): ProviderDefinition {
  const result = checkSchema(file);
  if (!result.ok) throw new Error(result.problems.join("; "));
  const problems = checkRules(result.definition, key, { allowLoopbackUrls: true });
  if (problems.length > 0) throw new Error(problems.join("; "));
  return result.definition;
}

const UKG = { username: "svc-user", password: "svc-password", customerKey: "AB12C" };

/** UKG Pro's REST API as its docs describe it: basic auth and the US-Customer-Api-Key header. */
let server: Server;
let origin: string;
const seen: { key: string | undefined; authorization: string | undefined }[] = [];
let outbound: OutboundClient;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = createServer((request, response) => {
    const key = request.headers["us-customer-api-key"] as string | undefined;
    seen.push({ key, authorization: request.headers.authorization });
    const basic = `Basic ${Buffer.from(`${UKG.username}:${UKG.password}`).toString("base64")}`;
    const status = request.headers.authorization === basic && key === UKG.customerKey ? 200 : 401;
    response.writeHead(status, { "content-type": "application/json" }).end("[]");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  outbound = new OutboundClient({ timeoutMs: 5000, maxResponseBytes: 10_000, allowPrivateNetworks: true });
});
afterAll(async () => {
  await outbound.close();
  await new Promise((resolve) => server.close(resolve));
});

describe("UKG Pro's declaration", () => {
  const ukgOnLoopback = () => {
    const file = shippedFile("ukg-pro");
    const api = file.api as NonNullable<ProviderDefinition["api"]>;
    api.baseUrl = origin;
    delete api.allowedHosts;
    return checked(file, "ukg-pro");
  };
  const account = (customerKey: string): ConnectionValues => ({
    credentials: {
      host: "service4.ultipro.com",
      username: UKG.username,
      password: UKG.password,
      customer_api_key: customerKey,
    },
    setupInformation: { host: "service4.ultipro.com", username: UKG.username },
  });

  it("sends basic auth and the secret customer API key, and the simulator accepts only both", async () => {
    const provider = ukgOnLoopback();
    const call = async (values: ConnectionValues) => {
      const request = verificationRequest(provider, values, { allowLoopbackUrls: true });
      if (!request) throw new Error("no verification");
      expect(request.url.href).not.toContain(UKG.password);
      return (await outbound.request(request.url.href, { headers: request.headers })).status;
    };
    expect(await call(account(UKG.customerKey))).toBe(200);
    expect(seen.at(-1)?.key).toBe(UKG.customerKey);
    expect(await call(account("WRONG"))).toBe(401);
  });

  it("keeps the base URL's host on UKG's domains", () => {
    const provider = checked(shippedFile("ukg-pro"), "ukg-pro");
    const values = account(UKG.customerKey);
    expect(verificationRequest(provider, values)?.url.origin).toBe("https://service4.ultipro.com");
    const hostile = {
      ...values,
      setupInformation: { ...values.setupInformation, host: "ultipro.com.evil.example" },
    };
    expect(() => verificationRequest(provider, hostile)).toThrow(ProviderApiError);
  });

  it("refuses a call without the customer API key before sending it", () => {
    const provider = checked(shippedFile("ukg-pro"), "ukg-pro");
    const { customer_api_key: _omitted, ...credentials } = account(UKG.customerKey).credentials;
    try {
      verificationRequest(provider, { credentials, setupInformation: null });
      expect.unreachable("the request was built");
    } catch (error) {
      expect((error as ProviderApiError).problem).toBe("missing_value");
      expect((error as Error).message).toContain("customer_api_key");
    }
  });
});

describe("optional headers", () => {
  const xero = checked(shippedFile("xero"), "xero");
  const jumpcloud = checked(shippedFile("jumpcloud"), "jumpcloud");
  const url = () => new URL("https://api.xero.com/api.xro/2.0/Organisation");

  it("send Xero's tenant id from connection metadata, and leave it out before it is known", () => {
    const connected = { credentials: { access_token: "at" }, setupInformation: { tenant_id: "tenant-42" } };
    expect(authorize(xero, connected, url())).toMatchObject({ "xero-tenant-id": "tenant-42" });
    const item = xero.connectionMetadata?.find((candidate) => candidate.from === "request");
    if (item?.from !== "request") throw new Error("Xero declares its tenant request");
    const beforeGrant = metadataRequest(xero, item, {
      credentials: { access_token: "at" },
      setupInformation: {},
    });
    expect(beforeGrant.headers).not.toHaveProperty("xero-tenant-id");
    expect(beforeGrant.headers.authorization).toBe("Bearer at");
  });

  it("send JumpCloud's organization id only when the form has one", () => {
    const target = new URL("https://console.jumpcloud.com/api/organizations");
    expect(
      authorize(
        jumpcloud,
        { credentials: { api_key: "k", org_id: "org-1" }, setupInformation: null },
        target,
      ),
    ).toEqual({ Accept: "application/json", "x-api-key": "k", "x-org-id": "org-1" });
    for (const org_id of [undefined, ""]) {
      const headers = authorize(
        jumpcloud,
        { credentials: { api_key: "k", org_id }, setupInformation: null },
        target,
      );
      expect(headers).toEqual({ Accept: "application/json", "x-api-key": "k" });
    }
  });

  it("refuse a value with a line break instead of leaving the header out", () => {
    const values = { credentials: { api_key: "k", org_id: "org\r\nx-evil: 1" }, setupInformation: null };
    expect(() => authorize(jumpcloud, values, new URL("https://console.jumpcloud.com/api"))).toThrow(
      "the account's org_id is not valid",
    );
  });
});

describe("the loader's rules for api.headers", () => {
  const file = (headers: Record<string, unknown>) => ({
    ...acmeHr,
    api: {
      docs: "https://docs.example.com",
      baseUrl: "https://api.acme-hr.example.com",
      auth: { style: "header", name: "X-Api-Key", value: "{{api_key}}" },
      headers,
    },
  });
  const problemsOf = (value: unknown) => {
    const result = checkSchema(structuredClone(value));
    return result.ok ? checkRules(result.definition, "acme-hr") : result.problems;
  };

  it("accept credential values in templates, static values, and optional headers", () => {
    expect(problemsOf(file({ Accept: "application/json", "X-Key": "{{api_key}}" }))).toEqual([]);
    expect(problemsOf(file({ "X-Key": { value: "Token {{api_key}}", optional: true } }))).toEqual([]);
  });

  it("name an undeclared placeholder, a malformed one and an unknown field", () => {
    expect(problemsOf(file({ "X-Org": "{{org_id}}" }))).toEqual([
      "api.headers.X-Org uses {{org_id}}, which is not a credential value of acme-hr",
    ]);
    expect(problemsOf(file({ "X-Org": "{{org id}}" }))).toEqual([
      "api.headers.X-Org has a malformed placeholder (write {{key}})",
    ]);
    expect(problemsOf(file({ "X-Org": { value: "{{api_key}}", optional: true, when: "x" } }))).not.toEqual(
      [],
    );
  });
});
