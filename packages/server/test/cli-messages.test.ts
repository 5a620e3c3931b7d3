/** The CLI's wording of service messages: the API's field names become the CLI's flags. */
import { describe, expect, it } from "vitest";
import { inCliTerms } from "../src/cli/errors.js";

describe("service messages at a shell", () => {
  it.each([
    [
      "HubSpot uses OAuth2: set client_id and client_secret (from your HubSpot app) to enable it",
      "HubSpot uses OAuth2: pass --client-id ID and --client-secret-stdin (from your HubSpot app) to enable it",
    ],
    [
      "BambooHR connects with api_key: it takes no OAuth client settings",
      "BambooHR connects with api_key: it takes no OAuth client settings",
    ],
    [
      "Provider nope is not in the catalog (see GET /providers)",
      "Provider nope is not in the catalog (see `connect-hub providers`)",
    ],
    [
      "Endpoint wh_1 is disabled: enable it first (PATCH enabled: true)",
      "Endpoint wh_1 is disabled: enable it first (`connect-hub webhooks enable ID`)",
    ],
    [
      'allowed_origins: "x" is not an origin like https://app.example.com',
      '"x" is not an origin like https://app.example.com',
    ],
    [
      "events must be some of: *, account.created (got nope)",
      "--events must be some of: *, account.created (got nope)",
    ],
    ["origin_owner_id must not be blank", "--owner-id must not be blank"],
  ])("%s", (message, expected) => {
    expect(inCliTerms(message)).toBe(expected);
  });
});
