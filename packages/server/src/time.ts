/** Every timestamp Connect Hub stores or sends: ISO-8601 UTC with milliseconds and `Z`. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

let formattedMillis = Number.NaN;
let formatted = "";

/**
 * `date.toISOString()`, remembered for the last millisecond formatted: a busy server formats
 * the same millisecond several times (a create stores three timestamps, requests arrive
 * together), and formatting costs more than a lookup. An invalid date throws, as before.
 */
export function isoTimestamp(date: Date): string {
  const millis = date.getTime();
  if (millis !== formattedMillis) {
    formatted = date.toISOString();
    formattedMillis = millis;
  }
  return formatted;
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
