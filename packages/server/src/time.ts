/** Every timestamp Connect Hub stores or sends: ISO-8601 UTC with milliseconds and `Z`. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

interface SecondFormatted {
  second: number;
  /** `toISOString()` of that second without its milliseconds and `Z`: `2026-12-04T10:00:00.` */
  prefix: string;
}

// Two seconds remembered: a create formats "now" and "now + its lifetime" in turn.
const remembered: [SecondFormatted, SecondFormatted] = [
  { second: Number.NaN, prefix: "" },
  { second: Number.NaN, prefix: "" },
];
let replaceNext = 0;

/**
 * `date.toISOString()`, from the text of its second when that second was formatted lately:
 * `toISOString` costs ~0.7 µs a call, and a busy server formats the same few seconds over and
 * over (a create stores its time and its expiry). An invalid date throws, as before.
 */
export function isoTimestamp(date: Date): string {
  const millis = date.getTime();
  const second = Math.floor(millis / 1000);
  const slot =
    remembered[0].second === second
      ? remembered[0]
      : remembered[1].second === second
        ? remembered[1]
        : undefined;
  if (slot === undefined) {
    const text = date.toISOString();
    const replaced = remembered[replaceNext] as SecondFormatted;
    replaced.second = second;
    replaced.prefix = text.slice(0, -4);
    replaceNext = 1 - replaceNext;
    return text;
  }
  const ms = millis - second * 1000;
  return `${slot.prefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
