/**
 * Validators and serialisers are compiled once per process, however many apps are built in it
 * (a test suite builds hundreds; each compiled everything again): the cache must still keep
 * apart what compiles differently, the coercion of a body and of a query, and a serialiser
 * compiled against other shared schemas.
 */
import { describe, expect, it } from "vitest";
import { sharedSerializerFactory } from "../src/http/serialization.js";
import { validatorCompiler } from "../src/http/validation.js";

type Route = Parameters<ReturnType<typeof validatorCompiler>>[0];
const route = (schema: unknown, httpPart: string): Route =>
  ({ schema, httpPart, method: "GET", url: "/things" }) as Route;

describe("the process-wide schema compilers", () => {
  it("give every app the same validator for an equal schema, keeping body and query apart", () => {
    const schema = () => ({ type: "object", properties: { count: { type: "integer" } } });
    const [first, second] = [validatorCompiler(), validatorCompiler()];
    const body = first(route(schema(), "body"));
    expect(second(route(schema(), "body"))).toBe(body);
    const query = second(route(schema(), "querystring"));
    expect(query).not.toBe(body);
    // A body is validated strictly; a query string's text is coerced.
    expect(body({ count: "3" })).toBe(false);
    expect(query({ count: "3" })).toBe(true);
  });

  it("share a serialiser between apps only when their shared schemas are the same", () => {
    const thing = (properties: Record<string, unknown>) => ({
      Thing: { $id: "Thing", type: "object", properties },
    });
    const answer = { schema: { $ref: "Thing#" }, method: "GET", url: "/things", httpStatus: "200" };
    const build = (shared: ReturnType<typeof thing>) =>
      sharedSerializerFactory()(shared, {})(answer as never) as (value: unknown) => string;
    const named = build(thing({ name: { type: "string" } }));
    expect(build(thing({ name: { type: "string" } }))).toBe(named);
    const counted = build(thing({ count: { type: "integer" } }));
    expect(counted).not.toBe(named);
    expect(named({ name: "a", count: 1 })).toBe('{"name":"a"}');
    expect(counted({ name: "a", count: 1 })).toBe('{"count":1}');
  });
});
