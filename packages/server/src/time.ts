/** Every timestamp Connect Hub stores or sends: ISO-8601 UTC with milliseconds and `Z`. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export function isoTimestamp(date: Date): string {
  return date.toISOString();
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
