import type { ErrorDetail } from '../../kernel/errors';
import type { JsonSchema } from '../../kernel/http/routes';

/**
 * Restricted access inside courses (DOMAIN 8): the learning module stores each activity's
 * availability tree and asks whoever contributes to the `activityAccess` extension point (the
 * restrict_access plugin) what one learner may see and open. The module itself knows no condition:
 * it only fails closed when nobody can answer (docs/restrictions.md).
 */

/** What a learner gets for one activity that carries a restriction tree. */
export interface ActivityAccess {
  /** False: the activity is left out of the learner's course page (it still cannot be opened by URL). */
  visible: boolean;
  /** False: listed greyed (when visible) and refused when opened. */
  available: boolean;
  /** Why it is not available, for the learner ("Available if you score at least 51% ..."); null when available. */
  explanation: string | null;
}

/**
 * The course a restriction is checked against: what explanations and checks need of its activities
 * and sections. A section's tree applies to every activity in it (`sectionId`).
 */
export interface RestrictedCourse {
  id: number;
  activities: ReadonlyArray<{ id: number; name: string; type: string; maxGrade: number; availability: unknown; sectionId?: number | null }>;
  sections?: ReadonlyArray<{ id: number; name: string; availability: unknown }>;
}

/**
 * The contribution that decides access (one is expected; the restrict_access plugin's key is
 * `tree`). Both calls are per request: `evaluate` is called once per learner and course page,
 * whatever the number of activities.
 */
export interface ActivityAccessProvider {
  /** Checks a tree before it is saved: problems with the path of the bad node; none when the tree is good. */
  check(tree: unknown, course: RestrictedCourse): Promise<ErrorDetail[]>;
  /**
   * The access of every activity of `course` that carries a tree or sits in a section that does, for
   * one learner (a section the learner fails locks or hides every activity in it).
   */
  evaluate(userId: number, course: RestrictedCourse): Promise<Map<number, ActivityAccess>>;
  /** The tree with the activities it names renamed through `activityIds` (a course copy). */
  remap?(tree: unknown, activityIds: ReadonlyMap<number, number>): unknown;
}

/** A condition node of a tree: `type` picks the contribution to `restrictionConditions`. */
export interface ConditionNode {
  type: string;
  [key: string]: unknown;
}

/** What a condition's `load` is given: the learner, the course and every node of its type in the course's trees. */
export interface ConditionLoad<C extends ConditionNode = ConditionNode> {
  userId: number;
  course: RestrictedCourse;
  conditions: readonly C[];
  /** The request's clock (epoch ms), the same for every condition. */
  now: number;
}

/**
 * One kind of condition in availability trees (grade, profile, audience, completion, date, or a
 * plugin's). Evaluation of a course page for one learner calls `load` once per condition type
 * present in the course's trees, then `evaluate` per node, in memory: the number of queries does
 * not grow with the number of activities.
 */
export interface RestrictionCondition<C extends ConditionNode = ConditionNode, Facts = unknown> {
  /** Shown to operators ("Grade"). */
  label: string;
  /** JSON Schema (2020-12) of the node, `type` included; checked by Ajv when a tree is saved. */
  schema: JsonSchema;
  /** Checks beyond the schema that need the course (e.g. the activity named is one of its own). Paths are relative to the node. */
  check?(condition: C, course: RestrictedCourse): ErrorDetail[] | Promise<ErrorDetail[]>;
  /** Loads, in a bounded number of queries, what evaluating every node of this type for this learner needs. */
  load(request: ConditionLoad<C>): Promise<Facts>;
  /**
   * Optional: the same for a batch of learners in a bounded number of set-based queries (operators'
   * "who matches" counts evaluate every enrolled learner). Without it, `load` runs per learner.
   */
  loadMany?(request: Omit<ConditionLoad<C>, 'userId'> & { userIds: readonly number[] }): Promise<Map<number, Facts>>;
  /** A condition that names activities renames them through `activityIds` when its course is copied (others leave it out). */
  remap?(condition: C, activityIds: ReadonlyMap<number, number>): C;
  /** Whether the learner meets the condition. Pure: everything comes from `facts`. */
  evaluate(condition: C, facts: Facts, now: number): boolean;
  /**
   * The learner-facing clause completing "Available if ...": "you score at least 51% in Knowledge
   * check"; `negated` asks for the opposite ("you are not a member of ABC"). `facts` are what
   * `load` returned for this learner (names it looked up, for instance).
   */
  explain(condition: C, negated: boolean, course: RestrictedCourse, facts: Facts): string;
}

declare module '../../kernel/extensions' {
  interface ExtensionPointMap {
    activityAccess: ActivityAccessProvider;
    restrictionConditions: RestrictionCondition;
  }
}

/** What a learner gets when restrictions exist but nothing can evaluate them (the plugin is disabled, or it failed). */
export const ACCESS_UNCHECKABLE: ActivityAccess = {
  visible: true,
  available: false,
  explanation: 'Not available: its access restrictions cannot be checked right now. Ask your administrator.',
};
