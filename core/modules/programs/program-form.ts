/**
 * The operator's program form: a plain HTML form (no JavaScript) with one fieldset per course set.
 *
 * Round trip: the form's text is parsed into a request body and validated against the same JSON
 * Schema as `POST` / `PATCH /api/v1/programs` (program-input.ts), then by the same service, so what
 * the API accepts the form carries back unchanged: labels are never trimmed, numbers are printed
 * and read back exactly, and there is no set cap below the API's. An edit sends only what changed,
 * compared with the stored program after normalisation, so a rename leaves the structure alone.
 *
 * Courses are picked by name: a set lists its chosen courses as ticked boxes, and an "Add a course"
 * field is a pick-by-name box (the `courses` picker: type-ahead where JavaScript runs, candidates
 * as radio choices where it does not). "Add a course set" and "Add" are
 * submit buttons that re-render the form; a "remove" checkbox drops a row on the next submit.
 */
import type { ErrorDetail } from '../../kernel/errors';
import { field, fields } from '../../kernel/http/render';
import { MAX_COURSE_SETS, sameStructure, type CourseSetInput, type ProgramPatch } from './program-input';
import type { ProgramView } from './service';
import type { PickState } from '../../kernel/pickers';

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

export interface SetRow {
  index: number;
  /** The row's index in the submitted form (-1 for a row added by this submit or read from storage). */
  source: number;
  /** 1-based, for labels. */
  number: number;
  /** Exactly as typed or stored. */
  label: string;
  courseIds: string[];
  /** The course name typed in "Add a course" that is not resolved yet. */
  addCourse: string;
  /** The "Add a course" box's state after a name that did not resolve (its candidates, its error). */
  addState?: PickState;
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
  /** As stored or typed (line breaks as LF). */
  summary: string;
  available: boolean;
  allowExtensionRequests: boolean;
  /** Recurrence (issue 15): the period (empty: the program does not recur), the copy's lead time, the first period's start (as typed or stored). */
  recurrencePeriod: string;
  recurrenceLead: string;
  recurrenceStart: string;
  /** The structure version the form was filled from (edit only); '' on a new program. */
  structureVersion: string;
  sets: SetRow[];
  /** How many sets the submit declared, when it exceeded MAX_COURSE_SETS (nothing is dropped silently). */
  declaredSets?: number;
}

/** How a number is shown: 0 (the default) as empty. Any stored integer reads back the same. */
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
    allowExtensionRequests: program.allowExtensionRequests,
    recurrencePeriod: program.recurrence?.period ?? '',
    recurrenceLead: program.recurrence?.leadTime ?? '',
    recurrenceStart: program.recurrence?.startsAt ?? '',
    structureVersion: String(program.structureVersion),
    sets: program.courseSets.map((s, index) => ({
      index,
      source: -1,
      number: index + 1,
      label: s.label,
      courseIds: s.courseIds.map(String),
      addCourse: '',
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
    allowExtensionRequests: false,
    recurrencePeriod: '',
    recurrenceLead: '',
    recurrenceStart: '',
    structureVersion: '',
    sets: [blankRow(0)],
  });
}

function blankRow(index: number): SetRow {
  return {
    index,
    source: -1,
    number: index + 1,
    label: '',
    courseIds: [],
    addCourse: '',
    rule: 'all',
    minCourses: '',
    minScore: '',
    minTime: '',
    operator: 'then',
    isLast: false,
  };
}

function withPositions(state: ProgramFormState): ProgramFormState {
  const last = state.sets.length - 1;
  state.sets.forEach((s, i) => {
    s.index = i;
    s.number = i + 1;
    s.isLast = i === last;
  });
  return state;
}

/** A submitted field exactly as sent (no trimming): labels and the summary keep their spaces. */
function raw(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : '';
}

/** Browsers send a textarea's line breaks as CRLF; stored text uses LF. */
function lf(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** Reads a submitted form; `addRow` appends a blank set (the "Add a course set" button). */
export function formFromBody(body: unknown, addRow: boolean): ProgramFormState {
  const declared = Number(field(body, 'setCount'));
  const valid = Number.isSafeInteger(declared) && declared >= 0;
  const count = valid ? Math.min(declared, MAX_COURSE_SETS) : 0;
  const sets: SetRow[] = [];
  for (let i = 0; i < count; i++) {
    if (field(body, `set${i}_remove`)) continue;
    sets.push({
      ...blankRow(sets.length),
      source: i,
      label: raw(body, `set${i}_label`),
      courseIds: fields(body, `set${i}_courses`),
      addCourse: field(body, `set${i}_add_q`),
      rule: field(body, `set${i}_rule`) || 'all',
      minCourses: field(body, `set${i}_minCourses`),
      minScore: field(body, `set${i}_minScore`),
      minTime: field(body, `set${i}_minTime`),
      operator: field(body, `set${i}_operator`) || 'then',
    });
  }
  if (addRow) sets.push(blankRow(sets.length));
  return withPositions({
    shortname: raw(body, 'shortname'),
    fullname: raw(body, 'fullname'),
    summary: lf(raw(body, 'summary')),
    available: field(body, 'available') !== '',
    allowExtensionRequests: field(body, 'allowExtensionRequests') !== '',
    recurrencePeriod: field(body, 'recurrencePeriod'),
    recurrenceLead: field(body, 'recurrenceLead'),
    recurrenceStart: field(body, 'recurrenceStart'),
    structureVersion: field(body, 'structureVersion'),
    sets,
    ...(valid && declared > MAX_COURSE_SETS ? { declaredSets: declared } : {}),
  });
}

/** The form's limits, said before anything is read from the database. */
export function formProblems(state: ProgramFormState): ErrorDetail[] {
  if (state.declaredSets === undefined) return [];
  return [
    {
      path: 'courseSets',
      code: 'PROGRAM_TOO_MANY_COURSE_SETS',
      message: `A program has at most ${MAX_COURSE_SETS.toLocaleString('en')} course sets; this form has ${state.declaredSets.toLocaleString('en')}`,
    },
  ];
}

const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;
const ID = /^[1-9][0-9]{0,15}$/;

/**
 * A number field as the API would receive it: empty is absent (the default 0), decimal text is a
 * number, anything else stays text, so the shared schema names the field ("must be integer").
 */
function numberField(text: string): number | string | undefined {
  if (text === '') return undefined;
  return DECIMAL.test(text) ? Number(text) : text;
}

/** The form's course sets as the API body's `courseSets` (not yet validated: see the shared schema). */
export function setsFromForm(state: ProgramFormState): CourseSetInput[] {
  return state.sets.map((s) => {
    const set: Record<string, unknown> = {
      courseIds: s.courseIds.map((id) => (ID.test(id) ? Number(id) : id)),
      rule: s.rule,
      minTime: s.minTime === '' ? null : s.minTime,
    };
    if (s.label !== '') set.label = s.label;
    const minCourses = numberField(s.minCourses);
    if (minCourses !== undefined) set.minCourses = minCourses;
    const minScore = numberField(s.minScore);
    if (minScore !== undefined) set.minScore = minScore;
    if (!s.isLast) set.operator = s.operator;
    return set as unknown as CourseSetInput;
  });
}

/** The whole form as a `POST /programs` body. */
export function createBody(state: ProgramFormState): Record<string, unknown> {
  return {
    shortname: state.shortname,
    fullname: state.fullname,
    summary: state.summary === '' ? null : state.summary,
    available: state.available,
    allowExtensionRequests: state.allowExtensionRequests,
    courseSets: setsFromForm(state),
    ...(state.recurrencePeriod === '' ? {} : { recurrence: recurrenceOf(state) }),
  };
}

/** The form's recurrence as the API body's (the schema names an empty lead time). */
function recurrenceOf(state: ProgramFormState): Record<string, unknown> {
  return {
    period: state.recurrencePeriod,
    leadTime: state.recurrenceLead,
    ...(state.recurrenceStart === '' ? {} : { startsAt: state.recurrenceStart }),
  };
}

/** What an HTML text field gives back for a stored string: line breaks stripped, NUL replaced. */
function asTextField(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\r\n]/g, '').replace(/\u0000/g, '\uFFFD');
}

/**
 * The `PATCH /programs/{id}` body for an edit: only what the operator changed. Names compare as the
 * service stores them (trimmed), the summary by its text with LF line breaks, the course sets after
 * normalisation (a label compares by what its text field could carry, so a label stored through the
 * API before labels had to be one line does not count as a change). The structure is sent, and so
 * replaced and recomputed, only when it really differs.
 */
export function editPatch(state: ProgramFormState, stored: ProgramView): { patch: ProgramPatch & Record<string, unknown>; structureChanged: boolean } {
  const patch: Record<string, unknown> = {};
  if (state.shortname.trim() !== asTextField(stored.shortname)) patch.shortname = state.shortname;
  if (state.fullname.trim() !== asTextField(stored.fullname)) patch.fullname = state.fullname;
  if (state.summary !== lf(stored.summary ?? '')) patch.summary = state.summary === '' ? null : state.summary;
  if (state.available !== stored.available) patch.available = state.available;
  if (state.allowExtensionRequests !== stored.allowExtensionRequests) patch.allowExtensionRequests = state.allowExtensionRequests;
  const recurrence = stored.recurrence;
  if (state.recurrencePeriod === '') {
    if (recurrence) patch.recurrence = null;
  } else if (
    !recurrence ||
    state.recurrencePeriod !== recurrence.period ||
    state.recurrenceLead !== recurrence.leadTime ||
    (state.recurrenceStart !== '' && state.recurrenceStart !== recurrence.startsAt)
  ) {
    // The stored anchor is shown as it is stored; sent only when the operator typed another.
    const body = recurrenceOf(state);
    if (recurrence && state.recurrenceStart === recurrence.startsAt) delete body.startsAt;
    patch.recurrence = body;
  }
  const sets = setsFromForm(state);
  const structureChanged = !sameStructure(stored.courseSets, sets, (a, b) => asTextField(a) === b || a === b);
  if (structureChanged) patch.courseSets = sets;
  return { patch, structureChanged };
}

const FIELD_NAMES: Record<string, string> = {
  label: 'label',
  courseIds: 'courses',
  rule: 'completion rule',
  minCourses: 'minimum courses',
  minScore: 'minimum score',
  minTime: 'minimum time',
  operator: 'operator',
  shortname: 'Short name',
  fullname: 'Full name',
  summary: 'Summary',
  courseSets: 'Course sets',
  recurrence: 'Recurrence:',
  'recurrence.period': 'Recurs every',
  'recurrence.leadTime': 'Copy made ahead by',
  'recurrence.startsAt': 'First period starts',
};

/**
 * Makes problems readable: the engine's paths (`courseSets[1].courseIds`) and the schema's
 * pointers (`/courseSets/1/minScore`) both become "Course set 2: minimum score ...".
 */
export function readableProblems(details: readonly ErrorDetail[]): string[] {
  return details.map((d) => {
    if (d.message.startsWith('Course set')) return d.message;
    const path = (d.path ?? '')
      .replace(/^\//, '')
      .replace(/\/(\d+)/g, '[$1]')
      .replace(/\//g, '.');
    const match = /^courseSets\[(\d+)\](?:\.(\w+))?/.exec(path);
    if (match) {
      const what = match[2] ? (FIELD_NAMES[match[2]] ?? match[2]) : '';
      const message = d.message.startsWith(match[2] ?? '\u0000') || !what ? d.message : `${what} ${d.message}`;
      return `Course set ${Number(match[1]) + 1}: ${message}`;
    }
    const top = FIELD_NAMES[path];
    return top && !d.message.toLowerCase().startsWith(path.toLowerCase()) ? `${top} ${d.message}` : d.message;
  });
}
