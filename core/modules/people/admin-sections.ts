/**
 * The `userAdminSections` extension point: what other modules (and plugins) show about a user on
 * the operator's user page, below people's own sections. The assignment module contributes
 * "Programs" (the programs the user is assigned to, linked to their progress), so the people
 * module, which other modules depend on, never reads their tables.
 */
export interface UserAdminSection {
  /** The section's heading: "Programs". */
  title: string;
  /** Ordering among sections (lower first); default 100. */
  order?: number;
  /** At most `limit` lines about the user; `more` links to the whole list when it is longer, or to where it is managed. */
  lines(userId: number, limit: number): Promise<UserAdminLines>;
}

export interface UserAdminLines {
  items: Array<{ label: string; href?: string; hint?: string }>;
  /** Shown when there are no items: "Not assigned to any program." */
  empty: string;
  /** A link under the lines, shown whether or not there are any: "All 14 programs", "Manage the learning plan". */
  more?: { label: string; href: string } | null;
}

declare module '../../kernel/extensions' {
  interface ExtensionPointMap {
    userAdminSections: UserAdminSection;
  }
}
