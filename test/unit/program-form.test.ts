import { expect } from 'chai';
import fc from 'fast-check';
import { createBodyValidator } from '../../core/kernel/http/validation';
import { editPatch, formFromBody, formFromProgram, readableProblems, setsFromForm, type ProgramFormState } from '../../core/modules/programs/program-form';
import {
  MAX_COURSE_SETS,
  MAX_THRESHOLD,
  checkCourseSetInput,
  isOneLine,
  normaliseCourseSets,
  programPatchSchema,
  sameStructure,
} from '../../core/modules/programs/program-input';
import type { ProgramView } from '../../core/modules/programs/service';

/** What a browser posts for a form filled from `state`, untouched (the fields the template renders). */
function posted(state: ProgramFormState, changes: Record<string, string> = {}): Record<string, string | string[]> {
  const body: Record<string, string | string[]> = {
    setCount: String(state.sets.length),
    structureVersion: state.structureVersion,
    fullname: state.fullname,
    shortname: state.shortname,
    // A textarea posts its line breaks as CRLF.
    summary: state.summary.replace(/\n/g, '\r\n'),
    ...(state.available ? { available: '1' } : {}),
    ...(state.allowExtensionRequests ? { allowExtensionRequests: '1' } : {}),
  };
  for (const s of state.sets) {
    Object.assign(body, {
      [`set${s.index}_label`]: s.label,
      [`set${s.index}_courses`]: s.courseIds,
      [`set${s.index}_add_q`]: '',
      [`set${s.index}_rule`]: s.rule,
      [`set${s.index}_minCourses`]: s.minCourses,
      [`set${s.index}_minScore`]: s.minScore,
      [`set${s.index}_minTime`]: s.minTime,
      ...(s.isLast ? {} : { [`set${s.index}_operator`]: s.operator }),
    });
  }
  return { ...body, ...changes };
}

/** One line of text as the API accepts it for a label: anything but control characters, up to 255 UTF-16 units. */
const oneLine = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((t) => isOneLine(t) && t.length <= 255);

const storedSet = fc.record({
  label: fc.oneof(oneLine, fc.constantFrom('  spaced  ', '<b>&amp;</b>', 'Ünïcödé ✓', 'Course set 1')),
  courseIds: fc.uniqueArray(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { maxLength: 4 }),
  rule: fc.constantFrom('all', 'any', 'some', 'optional' as const),
  minCourses: fc.integer({ min: 0, max: MAX_THRESHOLD }),
  minScore: fc.integer({ min: 0, max: MAX_THRESHOLD }),
  minTime: fc.constantFrom(null, 'P2W', 'P1M', 'PT36H'),
  operator: fc.constantFrom('then', 'and', 'or' as const),
});

const storedProgram = fc
  .record({
    shortname: oneLine.map((t) => t.trim()).filter((t) => t !== ''),
    fullname: oneLine.map((t) => t.trim()).filter((t) => t !== ''),
    summary: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
    available: fc.boolean(),
    allowExtensionRequests: fc.boolean(),
    structureVersion: fc.integer({ min: 1, max: 1000 }),
    courseSets: fc.array(storedSet, { minLength: 1, maxLength: 70 }),
  })
  .map((p): ProgramView => ({
    id: 1,
    ...p,
    availableFrom: null,
    availableUntil: null,
    minTimeRequired: null,
    recurrence: null,
    courseSets: p.courseSets.map((s, i) => ({ ...s, id: i + 1, operator: i === p.courseSets.length - 1 ? null : s.operator })),
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  }));

describe('program form round trip (issue 10 item 2)', function () {
  const validator = createBodyValidator();

  it('posting back an untouched form of any program the API could store sends nothing', function () {
    fc.assert(
      fc.property(storedProgram, (program) => {
        const form = formFromBody(posted(formFromProgram(program)), false);
        const { patch, structureChanged } = editPatch(form, program);
        expect(patch).to.deep.equal({});
        expect(structureChanged).to.equal(false);
      }),
      { numRuns: 300 },
    );
  });

  it('the form reads back exactly the values the API stores: the same schema accepts them, and they normalise the same', function () {
    fc.assert(
      fc.property(storedProgram, (program) => {
        const sets = setsFromForm(formFromBody(posted(formFromProgram(program)), false));
        validator.validate(programPatchSchema, { courseSets: sets });
        expect(checkCourseSetInput(sets)).to.deep.equal([]);
        const plain = (list: ReturnType<typeof normaliseCourseSets>) => list.map((d) => ({ ...d, operator: d.operator ?? null }));
        expect(plain(normaliseCourseSets(sets))).to.deep.equal(plain(normaliseCourseSets(program.courseSets)));
      }),
      { numRuns: 300 },
    );
  });

  it('a rename sends the name only; a changed set sends the whole structure', function () {
    fc.assert(
      fc.property(storedProgram, (program) => {
        const state = formFromProgram(program);
        const renamed = editPatch(formFromBody(posted(state, { fullname: `${program.fullname} (new)` }), false), program);
        expect(renamed.patch).to.deep.equal({ fullname: `${program.fullname} (new)` });
        const last = state.sets.length - 1;
        const changed = editPatch(formFromBody(posted(state, { [`set${last}_minTime`]: 'P3D' }), false), program);
        expect(changed.structureChanged).to.equal(program.courseSets[last]!.minTime !== 'P3D');
      }),
      { numRuns: 100 },
    );
  });

  it('keeps labels as typed: spaces are part of a label, so trimming one is a change', function () {
    const program = fc.sample(storedProgram, 1)[0]!;
    program.courseSets[0]!.label = '  spaced  ';
    const state = formFromProgram(program);
    expect(editPatch(formFromBody(posted(state), false), program).structureChanged).to.equal(false);
    expect(editPatch(formFromBody(posted(state, { set0_label: 'spaced' }), false), program).structureChanged).to.equal(true);
  });

  it('counts an empty label as the default "Course set N", and a label stored with a line break by what its field can show', function () {
    const base = { courseIds: [1], rule: 'all' as const, minCourses: 0, minScore: 0, minTime: null };
    expect(sameStructure([{ ...base, label: '' }], [{ ...base, label: 'Course set 1' }])).to.equal(true);
    expect(sameStructure([{ ...base, label: '' }], [{ ...base }])).to.equal(true);
    const program = fc.sample(storedProgram, 1)[0]!;
    program.courseSets[0]!.label = 'two\nlines';
    const form = formFromBody(posted(formFromProgram(program), { set0_label: 'twolines' }), false);
    expect(editPatch(form, program).structureChanged).to.equal(false);
  });

  it('never drops sets: a form declaring more than the shared bound is refused, not cut', function () {
    const form = formFromBody({ setCount: String(MAX_COURSE_SETS + 1) }, false);
    expect(form.declaredSets).to.equal(MAX_COURSE_SETS + 1);
    const sets = Array.from({ length: MAX_COURSE_SETS + 1 }, () => ({ courseIds: [1], rule: 'all' as const, operator: 'then' as const }));
    expect(checkCourseSetInput(sets).map((p) => p.code)).to.deep.equal(['PROGRAM_TOO_MANY_COURSE_SETS']);
    expect(checkCourseSetInput(sets.slice(0, MAX_COURSE_SETS))).to.deep.equal([]);
  });

  it('names the set and the field of a schema or engine problem', function () {
    expect(
      readableProblems([
        { path: '/courseSets/2/minScore', code: 'type', message: 'must be integer' },
        { path: 'courseSets[0].minCourses', code: 'PROGRAM_MIN_COURSES_TOO_LARGE', message: 'minCourses is 3 but the course set has only 2 courses' },
        { path: '/fullname', code: 'minLength', message: 'must NOT have fewer than 1 characters' },
      ]),
    ).to.deep.equal([
      'Course set 3: minimum score must be integer',
      'Course set 1: minCourses is 3 but the course set has only 2 courses',
      'Full name must NOT have fewer than 1 characters',
    ]);
  });
});
