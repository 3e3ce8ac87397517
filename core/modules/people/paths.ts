/**
 * Materialised paths are ids joined by '/', with a leading and trailing slash: `/1/4/9/`.
 * Every path below `/1/4/` starts with it and continues with digits and slashes only, all of
 * which sort below '~', so "this node and all below" is the range [P, P + '~'). A range uses the
 * index on SQLite and MySQL alike, where `LIKE 'P%'` would not on SQLite (LIKE is case-insensitive
 * there and skips the index).
 */
export const PATH_UPPER_SUFFIX = '~';

/** The path of a child of `parentPath` (or a root when parentPath is null). */
export function childPath(parentPath: string | null, id: number): string {
  return `${parentPath ?? '/'}${id}/`;
}
