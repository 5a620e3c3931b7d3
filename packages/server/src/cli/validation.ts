/**
 * Input a CLI command hands to a service, checked against the API's own schema (the same
 * validator as the routes), with a problem named by the flag that set the field.
 */
import type { TSchema } from "@sinclair/typebox";
import { CliError } from "./errors.js";

export async function checkAgainstSchema(
  schema: TSchema,
  input: Record<string, unknown>,
  part: "body" | "querystring",
  flagOfField: Readonly<Record<string, string>>,
): Promise<void> {
  const { validatorCompiler } = await import("../http/validation.js");
  const validate = validatorCompiler()({ schema, httpPart: part, method: "POST", url: "/cli" });
  if (validate(input)) return;
  const [problem] =
    (
      validate as unknown as {
        errors?: Array<{ instancePath: string; message?: string; params?: { allowedValues?: unknown[] } }>;
      }
    ).errors ?? [];
  const steps = (problem?.instancePath ?? "").split("/").slice(1);
  const field = steps[0] ?? "";
  const value = steps.reduce<unknown>(
    (at, step) => (at as Record<string, unknown> | undefined)?.[step],
    input,
  );
  const got = steps.length > 0 && value !== undefined ? ` (got ${JSON.stringify(value)})` : "";
  const allowed = problem?.params?.allowedValues;
  const rule = allowed ? `must be one of ${allowed.join(", ")}` : (problem?.message ?? "is not accepted");
  throw new CliError(`${flagOfField[field] ?? field}: ${rule}${got}`);
}
