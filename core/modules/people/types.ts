/** A site user as services see it (times are epoch milliseconds). */
export interface User {
  id: number;
  username: string;
  email: string;
  fullname: string;
  isAdmin: boolean;
  lang: string;
  timezone: string;
  suspended: boolean;
  deleted: boolean;
  firstLoginAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A custom profile field value: text and menu are strings, dates epoch ms, checkboxes booleans. */
export type ProfileValue = string | number | boolean;

/** Profile values as written: `null` clears a field. Dates may also be ISO-8601 strings. */
export type ProfileInput = Record<string, ProfileValue | null>;

export interface CreateUserInput {
  username: string;
  email: string;
  fullname: string;
  password?: string;
  isAdmin?: boolean;
  lang?: string;
  timezone?: string;
  profile?: ProfileInput;
}

export interface UpdateUserInput {
  email?: string;
  fullname?: string;
  password?: string;
  isAdmin?: boolean;
  lang?: string;
  timezone?: string;
  suspended?: boolean;
  deleted?: boolean;
  profile?: ProfileInput;
}

export type ProfileFieldType = 'text' | 'menu' | 'date' | 'checkbox';

export interface ProfileField {
  id: number;
  shortname: string;
  name: string;
  type: ProfileFieldType;
  /** Menu choices; empty for other types. */
  options: string[];
  createdAt: number;
  updatedAt: number;
}

export interface CreateProfileFieldInput {
  shortname: string;
  name: string;
  type: ProfileFieldType;
  options?: string[];
}

export type HierarchyKind = 'organisation' | 'position';

/** A node of the organisation or position tree. */
export interface HierarchyNode {
  id: number;
  kind: HierarchyKind;
  name: string;
  parentId: number | null;
  /** Ids from the root down to this node, e.g. `/1/4/9/`. */
  path: string;
  /** 1 for a root. */
  depth: number;
  createdAt: number;
  updatedAt: number;
}

export interface CreateHierarchyNodeInput {
  name: string;
  parentId?: number | null;
}

export interface JobAssignment {
  id: number;
  userId: number;
  positionId: number | null;
  organisationId: number | null;
  managerJobAssignmentId: number | null;
  managerUserId: number | null;
  /** Job assignment ids from the top of the management chain down to this one: `/3/17/42/`. */
  managerPath: string;
  startDate: number | null;
  positionAssignedDate: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface JobAssignmentInput {
  positionId?: number | null;
  organisationId?: number | null;
  managerJobAssignmentId?: number | null;
  startDate?: number | null;
  /** Defaults to now whenever the position is set or changed and this is not given. */
  positionAssignedDate?: number | null;
}

/**
 * A built-in condition of a dynamic audience. Other modules and plugins contribute more types
 * through the `audienceRuleConditions` extension point (`program_completed`, `program_assignment`).
 */
export type AudienceRule =
  | { type: 'profile_field'; field: string; value: ProfileValue }
  | { type: 'user_field'; field: 'lang' | 'timezone'; value: string }
  | { type: 'position'; positionId: number; includeChildren?: boolean }
  | { type: 'organisation'; organisationId: number; includeChildren?: boolean }
  | { type: 'audience'; audienceId: number }
  /** Has a current completion of the course (a `course_completions` row). */
  | { type: 'course_completed'; courseId: number };

/** Any condition: a built-in one, or one a module or plugin contributed (its own properties). */
export type AudienceCondition = { type: string; [property: string]: unknown };

/**
 * A node of an audience's rule tree: a condition, or conditions joined by and / or, or a negation.
 * An audience's `rules` list is an implicit "and" of its nodes.
 */
export type AudienceRuleNode = AudienceCondition | AudienceRuleGroup;

/** An and / or / not node of an audience's rule tree. */
export type AudienceRuleGroup = { op: 'and' | 'or'; rules: AudienceRuleNode[] } | { op: 'not'; rule: AudienceRuleNode };

export type AudienceType = 'static' | 'dynamic';

export interface Audience {
  id: number;
  name: string;
  type: AudienceType;
  /** null for a static audience; an implicit "and" of rule tree nodes. */
  rules: AudienceRuleNode[] | null;
  createdAt: number;
  updatedAt: number;
}

export interface CreateAudienceInput {
  name: string;
  /** Present (non-empty) for a dynamic audience. */
  rules?: Array<AudienceRule | AudienceRuleNode>;
}

export interface UpdateAudienceInput {
  name?: string;
  /** New rules of a dynamic audience: membership is recomputed by a background job. */
  rules?: AudienceRuleNode[];
}

/** What an edit of an audience's rules queued: the recompute job and what it will report. */
export interface AudienceUpdateResult {
  audience: Audience;
  /** The `people.audience_recompute` job (GET /api/v1/jobs/{id}: progress, then `{added, removed}`); null when the rules did not change. */
  jobId: number | null;
}

export type AudienceMemberSource = 'manual' | 'rules';

export interface AudienceMember {
  userId: number;
  username: string;
  fullname: string;
  source: AudienceMemberSource;
  addedAt: number;
}
