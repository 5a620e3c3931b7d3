/**
 * The server side of the connect page's credential forms: the same required and pattern rules
 * the page applies, enforced again here, since the page is only a convenience.
 */
import { ApiError } from "../http/errors.js";
import { anchoredPattern } from "../providers/oauth-urls.js";
import type { ProviderField } from "../providers/schema.js";

const MAX_FIELD_LENGTH = 4096;

/** Checks a credential form against the provider's declared fields; returns the kept values. */
export function checkFieldValues(
  fields: readonly ProviderField[],
  values: Record<string, unknown>,
): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const field of fields) {
    const raw = Object.hasOwn(values, field.key) ? values[field.key] : undefined;
    if (raw !== undefined && raw !== null && typeof raw !== "string") {
      throw new ApiError(400, `${field.label} must be text`);
    }
    const value = field.secret ? (raw ?? "") : (raw ?? "").trim();
    if (value === "") {
      if (field.required) throw new ApiError(400, `${field.label} is required`);
      continue;
    }
    if (value.length > MAX_FIELD_LENGTH) throw new ApiError(400, `${field.label} is too long`);
    if (field.pattern !== undefined && !anchoredPattern(field.pattern).test(value)) {
      throw new ApiError(400, `${field.label} is not in the expected format`);
    }
    checked[field.key] = value;
  }
  return checked;
}
