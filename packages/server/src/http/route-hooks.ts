/** Helpers for hooks attached to single routes from an `onRoute` hook. */

/** A route option's hooks (one, several or none) as a list, to add one to. */
export function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}
