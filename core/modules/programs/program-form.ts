/**
 * The operator's program form: a plain HTML form (no JavaScript) with one fieldset per course set.
 * "Add a course set" is a submit button that re-renders the form with one more row; a "remove"
 * checkbox drops a row on the next submit. Values survive every round trip, errors included.
 */
import type { CourseSetInput, ProgramInput, ProgramView } from './service';
import type { ErrorDetail } from '../../kernel/errors';
import { field, fields } from '../../kernel/http/render';

export const RULES = [
  { value: 'all', label: 'All courses' },
  { value: 'any', label: 'Any one course' },
  { value: 'some', label: 'Some courses (minimum courses and/or score)' },
  { value: 'optional', label: 'Optional' },
] as const;

export const OPERATORS = [
  { value: 'then', label: 'then (the next set opens after this group is complete)' },
  { value: 'and', label: 'and' },
  { value: 'or', label: 'or' },
] as const;

/** The most sets one form submit may carry; far above any real program. */
const MAX_ROWS = 50;

export interface SetRow {
  index: number;
  /** 1-based, for labels. */
  number: number;
  label: string;
  courseIds: string[];
  rule: string;
  minCourses: string;
  minScore: string;
  minTime: string;
  operator: string;
  isLast: boolean;
}

export interface ProgramFormState {
  shortname: string;
  fullname: string;
  summary: string;
  available: boolean;
  sets: SetRow[];
}

function numberText(value: number): string {
  return value ? String(value) : '';
}

/** Fills the form from a stored program. */
export function formFromProgram(program: ProgramView): ProgramFormState {
  return withPositions({
    shortname: program.shortname,
    fullname: program.fullname,
    summary: program.summary ?? '',
    available: program.available,
    sets: program.courseSets.map((s, index) => ({
      index,
      number: index + 1,
      label: s.label,
      courseIds: s.courseIds.map(String),
      rule: s.rule,
      minCourses: numberText(s.minCourses),
      minScore: numberText(s.minScore),
      minTime: s.minTime ?? '',
      operator: s.operator ?? 'then',
      isLast: false,
    })),
  });
}

export function emptyForm(): ProgramFormState {
  return withPositions({
    shortname: '',
    fullname: '',
    summary: '',
    available: true,
    sets: [blankRow(0)],
  });
}

function blankRow(index: number): SetRow {
  return { index, number: index + 1, label: '', courseIds: [], rule: 'all', minCourses: '', minScore: '', minTime: '', operator: 'then', isLast: false };
}

function withPositions(state: ProgramFormState): ProgramFormState {
  state.sets = state.sets.map((s, i) => ({ ...s, index: i, number: i + 1, isLast: i === state.sets.length - 1 }));
  return state;
}

/** Reads a submitted form; `addRow` appends a blank set (the "Add a course set" button). */
export function formFromBody(body: unknown, addRow: boolean): ProgramFormState {
  const declared = Number(field(body, 'setCount'));
  const count = Number.isInteger(declared) && declared >= 0 ? Math.min(declared, MAX_ROWS) : 0;
  const sets: SetRow[] = [];
  for (let i = 0; i < count; i++) {
    if (field(body, `set${i}_remove`)) continue;
    sets.push({
      ...blankRow(sets.length),
      label: field(body, `set${i}_label`),
      courseIds: fields(body, `set${i}_courses`),
      rule: field(body, `set${i}_rule`) || 'all',
      minCourses: field(body, `set${i}_minCourses`),
      minScore: field(body, `set${i}_minScore`),
      minTime: field(body, `set${i}_minTime`),
      operator: field(body, `set${i}_operator`) || 'then',
    });
  }
  if (addRow && sets.length < MAX_ROWS) sets.push(blankRow(sets.length));
  return withPositions({
    shortname: field(body, 'shortname'),
    fullname: field(body, 'fullname'),
    summary: field(body, 'summary'),
    available: field(body, 'available') !== '',
    sets,
  });
}

/**
 * Turns the form into the service input. Text that is not a number is passed through as NaN-free
 * problems here (with the row named), everything else is left to the programs service, which
 * validates structure with the engine's stable codes.
 */
export function toProgramInput(state: ProgramFormState): { input: ProgramInput; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const whole = (text: string, path: string, label: string): number => {
    if (text === '') return 0;
    if (!/^[0-9]{1,9}$/.test(text)) {
      problems.push({ path, code: 'NOT_AN_INTEGER', message: `${label} must be a whole number` });
      return 0;
    }
    return Number(text);
  };
  const courseSets: CourseSetInput[] = state.sets.map((s, i) => {
    const name = `Course set ${i + 1}`;
    const ids = s.courseIds.filter((id) => /^[1-9][0-9]{0,9}$/.test(id)).map(Number);
    return {
      label: s.label || undefined,
      courseIds: ids,
      rule: s.rule as CourseSetInput['rule'],
      minCourses: whole(s.minCourses, `courseSets[${i}].minCourses`, `${name}: minimum courses`),
      minScore: whole(s.minScore, `courseSets[${i}].minScore`, `${name}: minimum score`),
      minTime: s.minTime || null,
      operator: s.isLast ? null : (s.operator as CourseSetInput['operator']),
    };
  });
  return {
    input: { shortname: state.shortname, fullname: state.fullname, summary: state.summary || null, available: state.available, courseSets },
    problems,
  };
}

/** True when the submitted sets differ from the stored ones (so a rename does not reset progress). */
export function setsChanged(stored: ProgramView, sets: readonly CourseSetInput[]): boolean {
  if (stored.courseSets.length !== sets.length) return true;
  return stored.courseSets.some((s, i) => {
    const n = sets[i]!;
    return (
      s.label !== (n.label ?? `Course set ${i + 1}`) ||
      s.rule !== n.rule ||
      s.minCourses !== (n.minCourses ?? 0) ||
      s.minScore !== (n.minScore ?? 0) ||
      (s.minTime ?? null) !== (n.minTime ?? null) ||
      (s.operator ?? null) !== (n.operator ?? null) ||
      s.courseIds.join(',') !== n.courseIds.join(',')
    );
  });
}

/** Makes engine paths such as `courseSets[1].courseIds` readable: "Course set 2: ...". */
export function readableProblems(details: readonly ErrorDetail[]): string[] {
  return details.map((d) => {
    const match = /^courseSets\[(\d+)\]/.exec(d.path ?? '');
    const prefix = match ? `Course set ${Number(match[1]) + 1}: ` : '';
    return d.message.startsWith('Course set') ? d.message : `${prefix}${d.message}`;
  });
}
