/**
 * What a program may be, said once for every way one arrives: the JSON Schema of the request bodies
 * of `POST` / `PATCH /api/v1/programs` (which the operator's form validates its parsed fields
 * against too), the checks beyond the schema that the programs service runs for both, and the
 * normal form of a course-set list that decides whether a structure changed.
 *
 * The engine's `validateStructure` still owns the structural rules (operators, rules, thresholds
 * against the courses); this file adds what the schema cannot say and the round-trip rules:
 * - at most {@link MAX_COURSE_SETS} sets;
 * - `minCourses` / `minScore` are whole numbers (course scores are), 0..{@link MAX_THRESHOLD};
 * - labels are kept exactly as given (no trimming); an empty or missing label is "Course set N";
 *   a label is one line (no control characters), since an HTML text field cannot carry a line break.
 */
import type { JsonSchema } from '../../kernel/http/routes';
import { DateInput } from '../../kernel/http/contract';
import type { ErrorDetail } from '../../kernel/errors';
import type { CourseSetDef, SetOperator, SetRule } from './engine';
import type { RecurrenceInput } from './recurrence';

/** The most course sets a program may have, through the API and the form alike. */
export const MAX_COURSE_SETS = 10_000;
/** The largest `minCourses` / `minScore`: the columns are 32-bit integers. */
export const MAX_THRESHOLD = 2_147_483_647;

export interface CourseSetInput {
  /** Kept exactly as given; empty or missing means "Course set N". */
  label?: string;
  courseIds: number[];
  rule: SetRule;
  minCourses?: number;
  /** A whole number, as course scores are. */
  minScore?: number;
  /** ISO-8601 duration such as `P2W`. */
  minTime?: string | null;
  /** Joins this set to the next; omitted/null on the last set. */
  operator?: SetOperator | null;
}

export interface ProgramInput {
  shortname: string;
  fullname: string;
  summary?: string | null;
  available?: boolean;
  /** ISO-8601 date-time. */
  availableFrom?: string | null;
  availableUntil?: string | null;
  /** Whether learners may ask their manager for a later due date (DOMAIN 9). */
  allowExtensionRequests?: boolean;
  courseSets: CourseSetInput[];
  /** A recurring program (one set, one course): its period and the copy's lead time; null stops it. */
  recurrence?: RecurrenceInput | null;
}

export type ProgramPatch = Partial<ProgramInput>;

const threshold = { type: 'integer', minimum: 0, maximum: MAX_THRESHOLD } as const;

/** One course set in a request body. */
const courseSetSchema: JsonSchema = {
  type: 'object',
  properties: {
    label: { type: 'string', maxLength: 255, description: 'Kept exactly as given (no trimming); one line; empty means "Course set N"' },
    courseIds: { type: 'array', items: { type: 'integer' } },
    rule: { type: 'string', description: 'all | any | some | optional' },
    minCourses: threshold,
    minScore: { ...threshold, description: 'A whole number (course scores are whole numbers)' },
    minTime: { type: ['string', 'null'], description: 'ISO-8601 duration, e.g. P2W' },
    operator: { type: ['string', 'null'], description: 'then | and | or; none on the last set' },
  },
  required: ['courseIds', 'rule'],
  additionalProperties: false,
};

const programFields = {
  shortname: { type: 'string', minLength: 1, maxLength: 100 },
  fullname: { type: 'string', minLength: 1, maxLength: 255 },
  summary: { type: ['string', 'null'] },
  available: { type: 'boolean' },
  availableFrom: { anyOf: [DateInput, { type: 'null' }] },
  availableUntil: { anyOf: [DateInput, { type: 'null' }] },
  allowExtensionRequests: { type: 'boolean', description: 'Learners may ask their manager for a later due date' },
  courseSets: { type: 'array', items: courseSetSchema, maxItems: MAX_COURSE_SETS },
  recurrence: {
    anyOf: [
      {
        type: 'object',
        description: 'The program recurs: one course set with one course, copied for every period (docs/recurrence.md)',
        properties: {
          period: { type: 'string', minLength: 2, maxLength: 30, description: 'ISO-8601 duration of a period, e.g. P1Y' },
          leadTime: { type: 'string', minLength: 2, maxLength: 30, description: "How long before a period ends its successor's copy is made, e.g. P1M" },
          startsAt: { ...DateInput, description: 'When the first period starts (a date alone: the start of that day); default now' },
        },
        required: ['period', 'leadTime'],
        additionalProperties: false,
      },
      { type: 'null' },
    ],
  },
};

/** The body of `POST /programs`, and what the create form must produce. */
export const programCreateSchema: JsonSchema = {
  type: 'object',
  properties: programFields,
  required: ['shortname', 'fullname', 'courseSets'],
  additionalProperties: false,
};

/** The body of `PATCH /programs/{id}`, and what the edit form must produce. */
export const programPatchSchema: JsonSchema = { type: 'object', properties: programFields, additionalProperties: false };

/** Control characters: an HTML text field cannot carry them (line breaks are stripped, NUL replaced). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True when `text` is one line an HTML text field carries unchanged. */
export function isOneLine(text: string): boolean {
  return !CONTROL.test(text);
}

/** The default label of the set at `index` (0-based). */
export function defaultLabel(index: number): string {
  return `Course set ${index + 1}`;
}

/** A course-set list in the form it is stored in (defaults applied, no operator on the last set). */
export function normaliseCourseSets(sets: readonly CourseSetInput[]): Array<Partial<CourseSetDef>> {
  return sets.map((s, i) => ({
    id: i + 1,
    label: s.label === undefined || s.label === '' ? defaultLabel(i) : s.label,
    courseIds: s.courseIds,
    rule: s.rule,
    minCourses: s.minCourses ?? 0,
    minScore: s.minScore ?? 0,
    minTime: s.minTime ?? null,
    // Passed through as given: the engine rejects a missing operator between sets and one on the last.
    operator: s.operator,
  }));
}

/**
 * What the engine's structure check does not cover, for API and form alike: the set count, labels
 * on one line, whole-number thresholds (a service caller may bypass the request schema). Paths and
 * codes follow the engine's (`courseSets[i].field`, PROGRAM_*).
 */
export function checkCourseSetInput(sets: readonly unknown[]): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (sets.length > MAX_COURSE_SETS) {
    problems.push({
      path: 'courseSets',
      code: 'PROGRAM_TOO_MANY_COURSE_SETS',
      message: `A program has at most ${MAX_COURSE_SETS.toLocaleString('en')} course sets`,
    });
  }
  sets.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object') return;
    const set = raw as Record<string, unknown>;
    if (typeof set.label === 'string' && !isOneLine(set.label)) {
      problems.push({ path: `courseSets[${i}].label`, code: 'PROGRAM_LABEL_INVALID', message: `Course set ${i + 1}: the label must be one line of text` });
    }
    for (const field of ['minCourses', 'minScore'] as const) {
      const value = set[field];
      if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_THRESHOLD)) {
        problems.push({ path: `courseSets[${i}].${field}`, code: 'PROGRAM_THRESHOLD_INVALID', message: `${field} must be a whole number, 0 or more` });
      }
    }
  });
  return problems;
}

/**
 * True when two course-set lists are the same structure once normalised: same sets in the same
 * order with the same label, courses (in order), rule, thresholds, minimum time and operators.
 * `sameLabel` decides label equality (the form compares what a text field can carry).
 */
export function sameStructure(
  a: readonly CourseSetInput[],
  b: readonly CourseSetInput[],
  sameLabel: (a: string, b: string) => boolean = (x, y) => x === y,
): boolean {
  if (a.length !== b.length) return false;
  const na = normaliseCourseSets(a);
  const nb = normaliseCourseSets(b);
  return na.every((x, i) => {
    const y = nb[i]!;
    const lastA = i === na.length - 1;
    return (
      sameLabel(x.label!, y.label!) &&
      x.rule === y.rule &&
      x.minCourses === y.minCourses &&
      x.minScore === y.minScore &&
      x.minTime === y.minTime &&
      (lastA ? true : (x.operator ?? null) === (y.operator ?? null)) &&
      x.courseIds!.length === y.courseIds!.length &&
      x.courseIds!.every((id, j) => id === y.courseIds![j])
    );
  });
}
