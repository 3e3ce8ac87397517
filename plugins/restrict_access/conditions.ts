import type { AudienceService, ConditionNode, ProfileFieldService, RestrictedCourse, RestrictionCondition } from '../../core/index';
import type { Database } from '../../core/index';
import { audienceMembershipsMany, type CourseFacts, loadCourseFacts, loadCourseFactsMany, profileValuesMany } from './store';

/** The distinct activities these nodes name. */
const namedActivities = (conditions: ReadonlyArray<{ id: number }>): number[] => [...new Set(conditions.map((c) => Number(c.id)))];

/**
 * The built-in conditions, each a contribution to `restrictionConditions` exactly as another
 * plugin's would be (docs/plugin-authors.md). Node shapes follow Moodle's availability JSON where
 * Moodle has the condition (grade, profile, completion, date); audience membership is Waymark's.
 */

/** Activity names by id, per course object (one evaluation): explanations name activities hundreds of times per page. */
const namesByCourse = new WeakMap<RestrictedCourse, Map<number, string>>();
function activityName(course: RestrictedCourse, id: number): string {
  let names = namesByCourse.get(course);
  if (!names) namesByCourse.set(course, (names = new Map(course.activities.map((a) => [a.id, a.name]))));
  return names.get(id) ?? `activity ${id}`;
}
const percent = (value: number): string => `${Number(value.toFixed(2))}%`;

function activityProblems(course: RestrictedCourse, id: number, graded: boolean): Array<{ path: string; code: string; message: string }> {
  const activity = course.activities.find((a) => a.id === id);
  if (!activity) return [{ path: '/id', code: 'ACTIVITY_NOT_IN_COURSE', message: `activity ${id} is not another activity of this course` }];
  if (graded && !(activity.maxGrade > 0)) return [{ path: '/id', code: 'ACTIVITY_NOT_GRADED', message: `${activity.name} has no maximum grade` }];
  return [];
}

// --- grade -------------------------------------------------------------------------------------

/** `{type: "grade", id, min?, max?}`: the learner's grade in activity `id`, in percent of its maximum; min inclusive, max exclusive (Moodle). */
export interface GradeCondition extends ConditionNode {
  type: 'grade';
  id: number;
  min?: number;
  max?: number;
}

export function gradeCondition(db: Database): RestrictionCondition<GradeCondition, CourseFacts> {
  return {
    label: 'Grade',
    schema: {
      type: 'object',
      properties: {
        type: { const: 'grade' },
        id: { type: 'integer', minimum: 1, description: 'The graded activity (of the same course)' },
        min: { type: 'number', minimum: 0, maximum: 100, description: 'Lowest grade in percent, inclusive' },
        max: { type: 'number', minimum: 0, maximum: 100, description: 'Grade in percent the learner must stay below (exclusive)' },
      },
      required: ['type', 'id'],
      additionalProperties: false,
    },
    check(condition, course) {
      const problems = activityProblems(course, condition.id, true);
      if (condition.min !== undefined && condition.max !== undefined && condition.max <= condition.min) {
        problems.push({ path: '/max', code: 'MAX_NOT_ABOVE_MIN', message: 'max (exclusive) must be above min (inclusive)' });
      }
      return problems;
    },
    remap: (condition, activityIds) => ({ ...condition, id: activityIds.get(condition.id) ?? condition.id }),
    load: ({ userId, conditions }) => loadCourseFacts(db, userId, namedActivities(conditions)),
    loadMany: ({ userIds, course }) => loadCourseFactsMany(db, userIds, course.id),
    evaluate(condition, facts) {
      const grade = facts.gradePercent.get(condition.id);
      if (grade === undefined) return false; // no grade yet: the condition is not met (Moodle)
      if (condition.min !== undefined && grade < condition.min) return false;
      if (condition.max !== undefined && grade >= condition.max) return false;
      return true;
    },
    explain(condition, negated, course) {
      const name = activityName(course, condition.id);
      const range =
        condition.min !== undefined && condition.max !== undefined
          ? `at least ${percent(condition.min)} and less than ${percent(condition.max)}`
          : condition.min !== undefined
            ? `at least ${percent(condition.min)}`
            : condition.max !== undefined
              ? `less than ${percent(condition.max)}`
              : null;
      if (range === null) return negated ? `you have no grade in ${name}` : `you have a grade in ${name}`;
      return negated ? `you do not score ${range} in ${name}` : `you score ${range} in ${name}`;
    },
  };
}

// --- activity completion -----------------------------------------------------------------------

/** `{type: "completion", id, e}`: activity `id` is complete, not complete, passed or failed (graded at or above / below `pass` percent, 50 by default). */
export interface CompletionCondition extends ConditionNode {
  type: 'completion';
  id: number;
  e: 'complete' | 'incomplete' | 'passed' | 'failed';
  pass?: number;
}

export function completionCondition(db: Database): RestrictionCondition<CompletionCondition, CourseFacts> {
  return {
    label: 'Activity completion',
    schema: {
      type: 'object',
      properties: {
        type: { const: 'completion' },
        id: { type: 'integer', minimum: 1 },
        e: { enum: ['complete', 'incomplete', 'passed', 'failed'] },
        pass: { type: 'number', minimum: 0, maximum: 100, description: 'Pass mark in percent for passed/failed (default 50)' },
      },
      required: ['type', 'id', 'e'],
      additionalProperties: false,
    },
    check(condition, course) {
      const problems = activityProblems(course, condition.id, condition.e === 'passed' || condition.e === 'failed');
      if (condition.pass !== undefined && condition.e !== 'passed' && condition.e !== 'failed') {
        problems.push({ path: '/pass', code: 'PASS_UNUSED', message: 'pass applies to passed and failed only' });
      }
      return problems;
    },
    remap: (condition, activityIds) => ({ ...condition, id: activityIds.get(condition.id) ?? condition.id }),
    load: ({ userId, conditions }) => loadCourseFacts(db, userId, namedActivities(conditions)),
    loadMany: ({ userIds, course }) => loadCourseFactsMany(db, userIds, course.id),
    evaluate(condition, facts) {
      const grade = facts.gradePercent.get(condition.id);
      const pass = condition.pass ?? 50;
      switch (condition.e) {
        case 'complete':
          return facts.completed.has(condition.id);
        case 'incomplete':
          return !facts.completed.has(condition.id);
        case 'passed':
          return grade !== undefined && grade >= pass;
        case 'failed':
          return grade !== undefined && grade < pass;
      }
    },
    explain(condition, negated, course) {
      const name = activityName(course, condition.id);
      const pass = percent(condition.pass ?? 50);
      const phrase = {
        complete: [`you complete ${name}`, `you have not completed ${name}`],
        incomplete: [`you have not completed ${name}`, `you complete ${name}`],
        passed: [`you pass ${name} (${pass} or more)`, `you have not passed ${name} (${pass} or more)`],
        failed: [`you are graded below ${pass} in ${name}`, `you are not graded below ${pass} in ${name}`],
      }[condition.e];
      return phrase[negated ? 1 : 0]!;
    },
  };
}

// --- user profile field ------------------------------------------------------------------------

const STANDARD_FIELDS = { lang: 'preferred language', email: 'email address', fullname: 'full name', username: 'username', timezone: 'time zone' } as const;
type StandardField = keyof typeof STANDARD_FIELDS;
const PROFILE_OPS = ['isequalto', 'isnotequalto', 'contains', 'doesnotcontain', 'isempty', 'isnotempty'] as const;
type ProfileOp = (typeof PROFILE_OPS)[number];

/** `{type: "profile", sf | cf, op, v?}`: a standard user field (`sf`: lang, email, ...) or a custom profile field (`cf`: its shortname). */
export interface ProfileCondition extends ConditionNode {
  type: 'profile';
  sf?: StandardField;
  cf?: string;
  op: ProfileOp;
  v?: string;
}

interface ProfileFacts {
  values: Map<string, string>;
  fieldNames: Map<string, string>;
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' });
/** Intl lookups cost microseconds each and a course page may explain hundreds of conditions: each code is named once. */
const languageNameCache = new Map<string, string>();

function languageName(code: string): string {
  let name = languageNameCache.get(code);
  if (name === undefined) {
    try {
      name = languageNames.of(code.replace('_', '-')) ?? code;
    } catch {
      name = code;
    }
    if (languageNameCache.size < 1000) languageNameCache.set(code, name);
  }
  return name;
}

function shownValue(condition: ProfileCondition): string {
  const v = condition.v ?? '';
  return condition.sf === 'lang' ? languageName(v) : `“${v}”`;
}

export function profileCondition(db: Database, deps: { profileFields: ProfileFieldService }): RestrictionCondition<ProfileCondition, ProfileFacts> {
  const loadMany = async ({ userIds, conditions }: { userIds: readonly number[]; conditions: readonly ProfileCondition[] }) => {
    const withCustom = conditions.some((c) => c.cf !== undefined);
    const [values, fields] = await Promise.all([profileValuesMany(db, userIds, withCustom), withCustom ? deps.profileFields.list() : Promise.resolve([])]);
    const fieldNames = new Map(fields.map((f) => [f.shortname, f.name]));
    return new Map([...values].map(([userId, v]) => [userId, { values: v, fieldNames }]));
  };
  return {
    label: 'User profile',
    schema: {
      type: 'object',
      properties: {
        type: { const: 'profile' },
        sf: { enum: Object.keys(STANDARD_FIELDS), description: 'A standard field' },
        cf: { type: 'string', minLength: 1, maxLength: 100, description: 'A custom profile field, by shortname' },
        op: { enum: [...PROFILE_OPS] },
        v: { type: 'string', maxLength: 255 },
      },
      required: ['type', 'op'],
      oneOf: [{ required: ['sf'] }, { required: ['cf'] }],
      additionalProperties: false,
    },
    async check(condition) {
      const problems: Array<{ path: string; code: string; message: string }> = [];
      const needsValue = condition.op !== 'isempty' && condition.op !== 'isnotempty';
      if (needsValue && condition.v === undefined) problems.push({ path: '/v', code: 'REQUIRED', message: `is required for ${condition.op}` });
      if (!needsValue && condition.v !== undefined) problems.push({ path: '/v', code: 'VALUE_UNUSED', message: `${condition.op} takes no value` });
      if (condition.cf !== undefined && !(await deps.profileFields.findByShortname(condition.cf))) {
        problems.push({ path: '/cf', code: 'UNKNOWN_PROFILE_FIELD', message: `no custom profile field "${condition.cf}"` });
      }
      return problems;
    },
    // One learner is a batch of one: the same reads, so a page and an operator's count agree.
    load: async ({ userId, conditions }) => (await loadMany({ userIds: [userId], conditions })).get(userId)!,
    loadMany,
    evaluate(condition, facts) {
      const actual = (facts.values.get(condition.sf !== undefined ? `sf:${condition.sf}` : `cf:${condition.cf}`) ?? '').trim().toLowerCase();
      const wanted = (condition.v ?? '').trim().toLowerCase();
      switch (condition.op) {
        case 'isequalto':
          return actual === wanted;
        case 'isnotequalto':
          return actual !== wanted;
        case 'contains':
          return actual.includes(wanted);
        case 'doesnotcontain':
          return !actual.includes(wanted);
        case 'isempty':
          return actual === '';
        case 'isnotempty':
          return actual !== '';
      }
    },
    explain(condition, negated, _course, facts) {
      const field = condition.sf !== undefined ? STANDARD_FIELDS[condition.sf] : (facts.fieldNames.get(condition.cf!) ?? condition.cf!);
      const flip: Record<ProfileOp, ProfileOp> = {
        isequalto: 'isnotequalto',
        isnotequalto: 'isequalto',
        contains: 'doesnotcontain',
        doesnotcontain: 'contains',
        isempty: 'isnotempty',
        isnotempty: 'isempty',
      };
      const op = negated ? flip[condition.op] : condition.op;
      const value = shownValue(condition);
      return {
        isequalto: `your ${field} is ${value}`,
        isnotequalto: `your ${field} is not ${value}`,
        contains: `your ${field} contains ${value}`,
        doesnotcontain: `your ${field} does not contain ${value}`,
        isempty: `your ${field} is empty`,
        isnotempty: `your ${field} is filled in`,
      }[op];
    },
  };
}

// --- audience membership -----------------------------------------------------------------------

/** `{type: "audience", id}`: the learner is a member of audience `id` (static or dynamic, as materialised by people). */
export interface AudienceCondition extends ConditionNode {
  type: 'audience';
  id: number;
}

interface AudienceFacts {
  memberOf: Set<number>;
  names: Map<number, string>;
}

/** Audience names change rarely and are the same for every learner: kept a minute rather than read per page. */
const NAME_TTL_MS = 60_000;

export function audienceCondition(db: Database, audiences: AudienceService): RestrictionCondition<AudienceCondition, AudienceFacts> {
  const names = new Map<number, { name: string; at: number }>();
  const nameOf = async (id: number): Promise<string> => {
    const cached = names.get(id);
    if (cached && Date.now() - cached.at < NAME_TTL_MS) return cached.name;
    const name = (await audiences.find(id))?.name ?? `audience ${id}`;
    names.set(id, { name, at: Date.now() });
    return name;
  };
  const loadMany = async ({ userIds, conditions }: { userIds: readonly number[]; conditions: readonly AudienceCondition[] }) => {
    const ids = [...new Set(conditions.map((c) => c.id))];
    const [memberships, named] = await Promise.all([
      audienceMembershipsMany(db, userIds, ids),
      Promise.all(ids.map(async (id) => [id, await nameOf(id)] as const)),
    ]);
    const names = new Map(named);
    return new Map([...memberships].map(([userId, memberOf]) => [userId, { memberOf, names }]));
  };
  return {
    label: 'Audience membership',
    schema: {
      type: 'object',
      properties: { type: { const: 'audience' }, id: { type: 'integer', minimum: 1 } },
      required: ['type', 'id'],
      additionalProperties: false,
    },
    async check(condition) {
      return (await audiences.find(condition.id)) ? [] : [{ path: '/id', code: 'UNKNOWN_AUDIENCE', message: `no audience ${condition.id}` }];
    },
    load: async ({ userId, conditions }) => (await loadMany({ userIds: [userId], conditions })).get(userId)!,
    loadMany,
    evaluate: (condition, facts) => facts.memberOf.has(condition.id),
    explain(condition, negated, _course, facts) {
      const name = facts.names.get(condition.id) ?? `audience ${condition.id}`;
      return negated ? `you are not a member of ${name}` : `you are a member of ${name}`;
    },
  };
}

// --- date window -------------------------------------------------------------------------------

/** `{type: "date", d: ">=" | "<", t}`: from (`>=`) or until (`<`) the moment `t` (ISO-8601 date-time). Two in an `&` make a window. */
export interface DateCondition extends ConditionNode {
  type: 'date';
  d: '>=' | '<';
  t: string;
}

export function dateCondition(timezone: string): RestrictionCondition<DateCondition, null> {
  const format = new Intl.DateTimeFormat('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: timezone,
    timeZoneName: 'short',
  });
  // The same few moments are explained on every page: format each once.
  const formatted = new Map<string, string>();
  const when = (t: string): string => {
    let text = formatted.get(t);
    if (text === undefined) {
      text = format.format(new Date(Date.parse(t)));
      if (formatted.size < 10_000) formatted.set(t, text);
    }
    return text;
  };
  return {
    label: 'Date',
    schema: {
      type: 'object',
      properties: { type: { const: 'date' }, d: { enum: ['>=', '<'] }, t: { type: 'string', format: 'date-time' } },
      required: ['type', 'd', 't'],
      additionalProperties: false,
    },
    load: () => Promise.resolve(null),
    loadMany: ({ userIds }) => Promise.resolve(new Map(userIds.map((id) => [id, null]))),
    evaluate(condition, _facts, now) {
      const at = Date.parse(condition.t);
      return condition.d === '>=' ? now >= at : now < at;
    },
    explain(condition, negated) {
      const from = (condition.d === '>=') !== negated;
      return from ? `it is ${when(condition.t)} or later` : `it is before ${when(condition.t)}`;
    },
  };
}
