/**
 * How a stored secret is shown back when an account is re-authorized: never the value, only
 * its last four characters, and those only when the secret is long enough that they give
 * nothing useful away.
 */
const MIN_LENGTH_FOR_TAIL = 16;
const TAIL_LENGTH = 4;

export function secretTail(value: string): string {
  return value.length >= MIN_LENGTH_FOR_TAIL ? value.slice(-TAIL_LENGTH) : "";
}

/** The hosted page's display of a secret: bullets, then the tail. */
export function maskSecret(value: string): string {
  return `••••••••••${secretTail(value)}`;
}
