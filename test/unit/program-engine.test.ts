import { expect } from 'chai';
import {
  canLaunch,
  compileProgram,
  evaluateProgram,
  groupOpenTimes,
  newlyCompleted,
  progressPercent,
  setDueDates,
  validateStructure,
  type CompiledProgram,
  type CourseRef,
  type CourseSetDef,
  type ProgramEvaluation,
  type SetOperator,
  type SetRule,
} from '../../core/modules/programs/engine';

// Courses are letters: A is id 1, B id 2, ... named "Course A", score 1 unless overridden.
const LETTERS = 'ABCDEFGHIJKLMNOP';
const id = (letter: string): number => LETTERS.indexOf(letter) + 1;
const ids = (letters: string): number[] => [...letters].map(id);

interface SetSpec {
  courses: string;
  rule?: SetRule;
  minCourses?: number;
  minScore?: number;
  minTime?: string | null;
  op?: SetOperator | null;
  label?: string;
}

function build(specs: SetSpec[], scores: Record<string, number> = {}): CompiledProgram {
  const courses = new Map<number, CourseRef>([...LETTERS].map((l) => [id(l), { id: id(l), fullname: `Course ${l}`, score: scores[l] ?? 1 }]));
  const sets: CourseSetDef[] = specs.map((s, i) => ({
    id: 100 + i,
    label: s.label ?? '',
    courseIds: ids(s.courses),
    rule: s.rule ?? 'all',
    minCourses: s.minCourses ?? 0,
    minScore: s.minScore ?? 0,
    minTime: s.minTime ?? null,
    operator: i === specs.length - 1 ? null : (s.op ?? 'then'),
  }));
  return compileProgram({ programId: 1, sets, courses });
}

/** done('A', 10, 'B', 20) -> completions map. */
function done(...pairs: Array<string | number>): Map<number, number> {
  const map = new Map<number, number>();
  for (let i = 0; i < pairs.length; i += 2) map.set(id(pairs[i] as string), pairs[i + 1] as number);
  return map;
}

const launch = (program: CompiledProgram, evaluation: ProgramEvaluation, letter: string) => canLaunch(program, evaluation, id(letter));

describe('program engine', () => {
  describe('worked examples (DOMAIN 3.1)', () => {
    const sequence = () =>
      build([
        { courses: 'ABC', rule: 'all', op: 'then' },
        { courses: 'DEF', rule: 'any' },
      ]);

    it('{A,B,C} all then {D,E,F} any: D is locked until A, B and C are complete', () => {
      const p = sequence();
      for (const completions of [done(), done('A', 1), done('A', 1, 'B', 2)]) {
        const e = evaluateProgram(p, completions);
        expect(launch(p, e, 'A').allowed).to.equal(true);
        expect(launch(p, e, 'D').allowed).to.equal(false);
        expect(e.complete).to.equal(false);
      }
      const e = evaluateProgram(p, done('A', 1, 'B', 2, 'C', 3));
      expect(launch(p, e, 'D')).to.deep.equal({ allowed: true, reasons: [] });
      expect(e.groups.map((g) => g.complete)).to.deep.equal([true, false]);
      expect(e.complete).to.equal(false);
    });

    it('{A,B,C} all then {D,E,F} any: completing D then completes the program at D’s time', () => {
      const p = sequence();
      const e = evaluateProgram(p, done('A', 1, 'B', 2, 'C', 3, 'D', 10));
      expect(e.complete).to.equal(true);
      expect(e.completedAt).to.equal(10);
      expect(e.sets.map((s) => s.completedAt)).to.deep.equal([3, 10]);
    });

    it('{A,B,C} all then {D,E,F} any: a D recorded before C (prior learning) completes the program when C does', () => {
      const p = sequence();
      const e = evaluateProgram(p, done('D', 1, 'A', 2, 'B', 3, 'C', 7));
      expect(e.complete).to.equal(true);
      expect(e.completedAt).to.equal(7);
    });

    it('{A..F} some(2) and {G..J} some(3): one group, complete with 2 of A..F and 3 of G..J', () => {
      const p = build([
        { courses: 'ABCDEF', rule: 'some', minCourses: 2, op: 'and' },
        { courses: 'GHIJ', rule: 'some', minCourses: 3 },
      ]);
      expect(p.groups).to.have.length(1);
      const e1 = evaluateProgram(p, done('A', 1, 'B', 2, 'C', 3, 'G', 4, 'H', 5));
      expect(e1.complete).to.equal(false);
      expect(e1.sets.map((s) => s.complete)).to.deep.equal([true, false]);
      expect(e1.sets[0].completedAt).to.equal(2, 'the second course completes a some(2) set');
      expect([...e1.launchableCourseIds].sort((a, b) => a - b)).to.deep.equal(ids('ABCDEFGHIJ'));
      const e2 = evaluateProgram(p, done('A', 1, 'B', 2, 'C', 3, 'G', 4, 'H', 5, 'J', 9));
      expect(e2.complete).to.equal(true);
      expect(e2.completedAt).to.equal(9);
    });

    it('{A,B,C} any and {D} all: A or B or C, and D', () => {
      const p = build([
        { courses: 'ABC', rule: 'any', op: 'and' },
        { courses: 'D', rule: 'all' },
      ]);
      expect(evaluateProgram(p, done('A', 1, 'B', 2, 'C', 3)).complete).to.equal(false);
      expect(evaluateProgram(p, done('D', 1)).complete).to.equal(false);
      const e = evaluateProgram(p, done('C', 5, 'D', 3, 'B', 8));
      expect(e.complete).to.equal(true);
      expect(e.sets[0].completedAt).to.equal(5, 'any: the earliest course');
      expect(e.completedAt).to.equal(5, 'and: the later of the two sets');
    });
  });

  describe('precedence inside a group', () => {
    const three = (op1: SetOperator, op2: SetOperator) => build([{ courses: 'A', op: op1 }, { courses: 'B', op: op2 }, { courses: 'C' }]);

    it('S1 and S2 or S3 is (S1 ∧ S2) ∨ S3', () => {
      const p = three('and', 'or');
      expect(evaluateProgram(p, done('C', 1)).complete).to.equal(true);
      expect(evaluateProgram(p, done('A', 1, 'B', 2)).complete).to.equal(true);
      expect(evaluateProgram(p, done('A', 1)).complete).to.equal(false);
      expect(evaluateProgram(p, done('B', 1)).complete).to.equal(false);
      // Time: min over the terms, max inside a term.
      expect(evaluateProgram(p, done('A', 1, 'B', 6, 'C', 4)).completedAt).to.equal(4);
      expect(evaluateProgram(p, done('A', 1, 'B', 3, 'C', 4)).completedAt).to.equal(3);
    });

    it('S1 or S2 and S3 is S1 ∨ (S2 ∧ S3), not (S1 ∨ S2) ∧ S3', () => {
      const p = three('or', 'and');
      expect(evaluateProgram(p, done('A', 1)).complete).to.equal(true);
      expect(evaluateProgram(p, done('B', 1, 'C', 2)).complete).to.equal(true);
      expect(evaluateProgram(p, done('B', 1)).complete).to.equal(false);
      expect(evaluateProgram(p, done('C', 1)).complete).to.equal(false);
      expect(evaluateProgram(p, done('A', 9, 'B', 1, 'C', 2)).completedAt).to.equal(2);
    });

    it('S1 and S2 or S3 and S4 needs both of one pair', () => {
      const p = build([{ courses: 'A', op: 'and' }, { courses: 'B', op: 'or' }, { courses: 'C', op: 'and' }, { courses: 'D' }]);
      expect(p.groups[0].terms).to.deep.equal([
        [0, 1],
        [2, 3],
      ]);
      expect(evaluateProgram(p, done('A', 1, 'C', 1)).complete).to.equal(false);
      expect(evaluateProgram(p, done('C', 1, 'D', 1)).complete).to.equal(true);
    });
  });

  describe('access', () => {
    it('group k stays locked while any earlier group is incomplete, even if a later one is done (not Totara’s highest+1)', () => {
      const p = build([{ courses: 'A' }, { courses: 'B' }, { courses: 'C' }]);
      const e = evaluateProgram(p, done('B', 1));
      expect(e.groups.map((g) => ({ open: g.open, complete: g.complete }))).to.deep.equal([
        { open: true, complete: false },
        { open: false, complete: true },
        { open: false, complete: false },
      ]);
      expect(launch(p, e, 'C')).to.deep.equal({ allowed: false, reasons: ['Complete course set 1 (Course A) first'] });
      expect(e.currentGroupIndex).to.equal(0);
    });

    it('opens every set of the first group and launches only courses of open groups', () => {
      const p = build([{ courses: 'AB', op: 'or' }, { courses: 'C', op: 'then' }, { courses: 'D' }]);
      const e = evaluateProgram(p, done());
      expect(e.sets.map((s) => s.open)).to.deep.equal([true, true, false]);
      expect([...e.launchableCourseIds].sort()).to.deep.equal(ids('ABC'));
    });

    it('keeps completed groups open', () => {
      const p = build([{ courses: 'A' }, { courses: 'B' }]);
      const e = evaluateProgram(p, done('A', 1, 'B', 2));
      expect(launch(p, e, 'A').allowed).to.equal(true);
      expect(launch(p, e, 'B').allowed).to.equal(true);
    });

    it('refuses courses that are not in the program', () => {
      const p = build([{ courses: 'A' }]);
      expect(launch(p, evaluateProgram(p, done()), 'Z')).to.deep.equal({ allowed: false, reasons: ['This course is not part of this program'] });
    });

    it('allows a course that sits in both a locked and an open set', () => {
      const p = build([{ courses: 'AB' }, { courses: 'B' }]);
      expect(launch(p, evaluateProgram(p, done()), 'B').allowed).to.equal(true);
    });
  });

  describe('locked reasons', () => {
    it('names what is still missing, in words a learner understands', () => {
      const p = build([{ courses: 'ABC', op: 'then' }, { courses: 'D' }]);
      expect(launch(p, evaluateProgram(p, done()), 'D').reasons).to.deep.equal(['Complete course set 1 (Course A, Course B, Course C) first']);
      expect(launch(p, evaluateProgram(p, done('B', 1)), 'D').reasons).to.deep.equal(['Complete course set 1 (Course A, Course C) first']);
    });

    it('uses the set label and describes any, some and alternatives', () => {
      const p = build(
        [
          { courses: 'AB', rule: 'any', label: 'Induction', op: 'and' },
          { courses: 'CDEF', rule: 'some', minCourses: 2, minScore: 5, op: 'or' },
          { courses: 'G', op: 'then' },
          { courses: 'H' },
        ],
        { C: 2, D: 2, E: 2, F: 2 },
      );
      const e = evaluateProgram(p, done('C', 1));
      expect(e.sets[3].lockedReasons).to.deep.equal([
        'Complete "Induction" (one of Course A, Course B) and course set 2 (1 more of Course D, Course E, Course F, worth 3 more points), or course set 3 (Course G) first',
      ]);
      expect(e.sets[0].lockedReasons).to.deep.equal([], 'open sets have no reasons');
    });

    it('lists one reason per incomplete earlier group and shortens long course lists', () => {
      const p = build([{ courses: 'ABCDEFG', rule: 'some', minCourses: 3 }, { courses: 'H' }, { courses: 'I' }]);
      expect(launch(p, evaluateProgram(p, done()), 'I').reasons).to.deep.equal([
        'Complete course set 1 (3 of Course A, Course B, Course C, Course D, Course E and 2 more) first',
        'Complete course set 2 (Course H) first',
      ]);
    });

    it('explains a set with no courses', () => {
      const p = build([{ courses: '' }, { courses: 'A' }]);
      expect(launch(p, evaluateProgram(p, done()), 'A').reasons).to.deep.equal(['Complete course set 1 (which has no courses yet) first']);
    });
  });

  describe('completion rules and times', () => {
    it('all: the latest course; any: the earliest course', () => {
      const all = build([{ courses: 'ABC', rule: 'all' }]);
      expect(evaluateProgram(all, done('A', 5, 'B', 9, 'C', 2)).completedAt).to.equal(9);
      const any = build([{ courses: 'ABC', rule: 'any' }]);
      expect(evaluateProgram(any, done('A', 5, 'B', 9, 'C', 2)).completedAt).to.equal(2);
    });

    it('some: the earliest moment both thresholds hold', () => {
      const p = build([{ courses: 'ABCD', rule: 'some', minCourses: 2, minScore: 10 }], { A: 1, B: 1, C: 8, D: 3 });
      // In time order: A(1) 1pt, B(2) 2pts, D(3) 5pts, C(4) 13pts -> both hold at 4.
      expect(evaluateProgram(p, done('C', 4, 'A', 1, 'D', 3, 'B', 2)).completedAt).to.equal(4);
      expect(evaluateProgram(p, done('A', 1, 'B', 2, 'D', 3)).complete).to.equal(false);
      // Score alone.
      const scoreOnly = build([{ courses: 'ABC', rule: 'some', minScore: 4 }], { A: 2, B: 2, C: 2 });
      expect(evaluateProgram(scoreOnly, done('A', 3, 'B', 7, 'C', 5)).completedAt).to.equal(5);
    });

    it('some with both thresholds 0 is optional', () => {
      const p = build([{ courses: 'AB', rule: 'some', minCourses: 0, minScore: 0, op: 'then' }, { courses: 'C' }]);
      const e = evaluateProgram(p, done());
      expect(e.sets[0].rule).to.equal('optional');
      expect(e.sets[0].complete).to.equal(true);
      expect(e.sets[1].open).to.equal(true);
    });

    it('a non-optional set with no courses never completes', () => {
      for (const rule of ['all', 'any'] as const) {
        const e = evaluateProgram(build([{ courses: '', rule }]), done('A', 1));
        expect(e.complete).to.equal(false);
        expect(e.progress).to.equal(0);
      }
      expect(evaluateProgram(build([{ courses: '', rule: 'some', minCourses: 1 }]), done()).complete).to.equal(false);
      expect(evaluateProgram(build([{ courses: '', rule: 'optional' }]), done()).complete).to.equal(true);
    });

    it('ignores completions of courses outside the program', () => {
      const p = build([{ courses: 'AB' }]);
      const without = evaluateProgram(p, done('A', 1));
      const withOthers = evaluateProgram(p, done('A', 1, 'Z', 0, 'P', 5));
      expect(withOthers).to.deep.equal(without);
    });

    it('an earlier completion recorded later moves completion times earlier', () => {
      const p = build([{ courses: 'AB', rule: 'any' }]);
      expect(evaluateProgram(p, done('A', 10)).completedAt).to.equal(10);
      expect(evaluateProgram(p, done('A', 10, 'B', 4)).completedAt).to.equal(4);
    });
  });

  describe('optional sets', () => {
    it('never block the next group and are complete from the start (completedAt null)', () => {
      const p = build([{ courses: 'AB', rule: 'optional', op: 'then' }, { courses: 'C' }]);
      const e = evaluateProgram(p, done());
      expect(e.sets[0]).to.include({ complete: true, completedAt: null });
      expect(launch(p, e, 'C').allowed).to.equal(true);
      expect(evaluateProgram(p, done('C', 7)).completedAt).to.equal(7);
    });

    it('do not move a group time earlier under and; decide the group from the start under or', () => {
      const and = build([
        { courses: 'A', op: 'and' },
        { courses: 'B', rule: 'optional' },
      ]);
      expect(evaluateProgram(and, done()).complete).to.equal(false);
      expect(evaluateProgram(and, done('A', 5, 'B', 1)).completedAt).to.equal(5);
      const or = build([
        { courses: 'A', op: 'or' },
        { courses: 'B', rule: 'optional' },
      ]);
      expect(evaluateProgram(or, done()).groups[0]).to.include({ complete: true, completedAt: null });
    });

    it('a program of only optional sets is complete from the start with no completion time', () => {
      const e = evaluateProgram(
        build([
          { courses: 'A', rule: 'optional' },
          { courses: 'B', rule: 'optional' },
        ]),
        done(),
      );
      expect(e).to.include({ complete: true, completedAt: null, progress: 1, nextCourseId: null, currentGroupIndex: null });
    });
  });

  describe('progress and next course', () => {
    it('moves towards 1 and reaches it only on completion', () => {
      // Required work: two courses, then one (an `any` set needs one course).
      const p = build([
        { courses: 'AB', op: 'then' },
        { courses: 'CD', rule: 'any' },
      ]);
      expect(evaluateProgram(p, done()).progress).to.equal(0);
      expect(evaluateProgram(p, done('A', 1)).progress).to.be.closeTo(1 / 3, 1e-12);
      expect(evaluateProgram(p, done('A', 1, 'B', 2)).progress).to.be.closeTo(2 / 3, 1e-12);
      expect(evaluateProgram(p, done('A', 1, 'B', 2, 'D', 3)).progress).to.equal(1);
    });

    it('counts required work only: optional sets count for nothing (issue 11: S1 all THEN S2 optional THEN S3 all)', () => {
      const p = build([{ courses: 'AB', op: 'then' }, { courses: 'CD', rule: 'optional', op: 'then' }, { courses: 'EF' }]);
      expect(evaluateProgram(p, done()).progress).to.equal(0);
      expect(evaluateProgram(p, done('C', 1, 'D', 2)).progress, 'optional courses add nothing').to.equal(0);
      expect(evaluateProgram(p, done('A', 1)).progress).to.equal(0.25);
      expect(evaluateProgram(p, done('A', 1, 'B', 2)).progress).to.equal(0.5);
      expect(progressPercent(evaluateProgram(p, done('A', 1, 'B', 2, 'E', 3)).progress, false)).to.equal(75);
    });

    it('counts an unfinished course by the share of its tracked activities done', () => {
      const p = build([{ courses: 'AB' }]);
      const half = new Map([[id('A'), 0.5]]);
      expect(evaluateProgram(p, done(), half).progress).to.equal(0.25);
      expect(evaluateProgram(p, done('B', 1), half).progress).to.equal(0.75);
      // Every tracked activity done but the course not complete (e.g. a grade criterion): still below 1.
      const e = evaluateProgram(p, done('B', 1), new Map([[id('A'), 1]]));
      expect(e.progress).to.be.below(1);
      expect(progressPercent(e.progress, e.complete)).to.equal(99);
      // A completed course counts 1 whatever its activities say.
      expect(evaluateProgram(p, done('A', 1, 'B', 1), new Map([[id('A'), 0.1]])).progress).to.equal(1);
    });

    it('counts an any set by its best course and a some set by its best N courses or its share of the minimum score', () => {
      const any = build([{ courses: 'ABC', rule: 'any' }]);
      expect(
        evaluateProgram(
          any,
          done(),
          new Map([
            [id('A'), 0.2],
            [id('B'), 0.6],
          ]),
        ).progress,
      ).to.equal(0.6);
      const some = build([{ courses: 'ABCD', rule: 'some', minCourses: 2 }]);
      expect(
        evaluateProgram(
          some,
          done('C', 1),
          new Map([
            [id('A'), 0.5],
            [id('B'), 0.25],
          ]),
        ).progress,
      ).to.equal(0.75);
      const score = build([{ courses: 'ABC', rule: 'some', minScore: 6 }], { A: 4, B: 2, C: 2 });
      // Required work: the fewest courses reaching 6 points is two (A and B or A and C).
      expect(score.sets[0].weight).to.equal(2);
      expect(evaluateProgram(score, done('B', 1)).progress).to.be.closeTo(2 / 6, 1e-12);
      expect(evaluateProgram(score, done('B', 1), new Map([[id('A'), 0.5]])).progress).to.be.closeTo(4 / 6, 1e-12);
      // Both thresholds: the one further from being met decides.
      const both = build([{ courses: 'ABC', rule: 'some', minCourses: 1, minScore: 4 }], { A: 2, B: 2, C: 2 });
      expect(evaluateProgram(both, done('A', 1)).progress).to.equal(0.5);
    });

    it('counts the best alternative within or, weighted by the lightest one', () => {
      // {A} all and {B,C} all, or {D} all: required work is one course (the lighter alternative).
      const p = build([{ courses: 'A', op: 'and' }, { courses: 'BC', op: 'or' }, { courses: 'D', op: 'then' }, { courses: 'E' }]);
      expect(p.groups.map((g) => g.weight)).to.deep.equal([1, 1]);
      // Two of the three courses of the first alternative: 2/3 of group 1, which weighs 1 of 2.
      expect(evaluateProgram(p, done('A', 1, 'B', 2)).progress).to.be.closeTo(1 / 3, 1e-12);
      expect(evaluateProgram(p, done('D', 1)).progress).to.equal(0.5);
    });

    it('suggests the first remaining course of the current group', () => {
      const p = build([
        { courses: 'AB', op: 'then' },
        { courses: 'CD', rule: 'any' },
      ]);
      expect(evaluateProgram(p, done()).nextCourseId).to.equal(id('A'));
      expect(evaluateProgram(p, done('A', 1)).nextCourseId).to.equal(id('B'));
      expect(evaluateProgram(p, done('A', 1, 'B', 2)).nextCourseId).to.equal(id('C'));
      expect(evaluateProgram(p, done('A', 1, 'B', 2, 'C', 3)).nextCourseId).to.equal(null);
    });

    it('prefers the alternative the learner is furthest along', () => {
      const p = build([{ courses: 'AB', op: 'or' }, { courses: 'CD' }]);
      expect(evaluateProgram(p, done('D', 1)).nextCourseId).to.equal(id('C'));
    });
  });

  describe('minimum time and due dates', () => {
    it('minimum time required = sum over groups of the largest set value in the group', () => {
      const p = build([
        { courses: 'A', minTime: 'P2W', op: 'and' },
        { courses: 'B', minTime: 'P1M', op: 'then' },
        { courses: 'C', minTime: 'P3D', op: 'then' },
        { courses: 'D' },
      ]);
      expect(p.groups.map((g) => g.minTime)).to.deep.equal(['P1M', 'P3D', null]);
      expect(p.minTimeRequired).to.equal('P1M3D');
      expect(build([{ courses: 'A' }]).minTimeRequired).to.equal(null);
    });

    it('due date = moment the group opened + the set minimum time, calendar months included', () => {
      const p = build([{ courses: 'A', minTime: 'P1M', op: 'then' }, { courses: 'B', minTime: 'P2W', op: 'and' }, { courses: 'C' }]);
      const assignedAt = Date.parse('2026-01-31T10:00:00Z');
      const before = evaluateProgram(p, done());
      const opened = groupOpenTimes(before, assignedAt);
      expect([...opened]).to.deep.equal([[0, assignedAt]]);
      expect([...setDueDates(p, before, opened)]).to.deep.equal([
        [100, Date.parse('2026-02-28T10:00:00Z')],
        [101, null],
        [102, null],
      ]);

      const aDone = Date.parse('2026-02-10T08:00:00Z');
      const after = evaluateProgram(p, done('A', aDone));
      const dues = setDueDates(p, after, groupOpenTimes(after, assignedAt));
      expect(dues.get(101)).to.equal(Date.parse('2026-02-24T08:00:00Z'));
      expect(dues.get(102)).to.equal(null, 'no minimum time, no due date');
    });

    it('prior learning opens a group at assignment, not before', () => {
      const p = build([
        { courses: 'A', op: 'then' },
        { courses: 'B', minTime: 'P1D' },
      ]);
      const e = evaluateProgram(p, done('A', 1_000));
      expect(groupOpenTimes(e, 50_000).get(1)).to.equal(50_000);
    });
  });

  describe('newlyCompleted', () => {
    it('reports each set, group and program once, when it first completes', () => {
      const p = build([{ courses: 'A', op: 'then' }, { courses: 'B', op: 'and' }, { courses: 'C' }]);
      const e0 = evaluateProgram(p, done());
      const e1 = evaluateProgram(p, done('A', 1));
      const e2 = evaluateProgram(p, done('A', 1, 'B', 2, 'C', 3));
      expect(newlyCompleted(e0, e1)).to.deep.equal({ setIds: [100], groupIndexes: [0], program: false });
      expect(newlyCompleted(e1, e2)).to.deep.equal({ setIds: [101, 102], groupIndexes: [1], program: true });
      expect(newlyCompleted(e2, e2)).to.deep.equal({ setIds: [], groupIndexes: [], program: false });
    });
  });

  describe('compileProgram on imperfect stored data', () => {
    it('treats a missing operator as then and ignores an operator on the last set', () => {
      const courses = new Map<number, CourseRef>([
        [1, { id: 1, fullname: 'Course A', score: 1 }],
        [2, { id: 2, fullname: 'Course B', score: 1 }],
      ]);
      const def = (i: number, operator: SetOperator | null): CourseSetDef => ({
        id: i,
        label: '',
        courseIds: [i],
        rule: 'all',
        minCourses: 0,
        minScore: 0,
        minTime: null,
        operator,
      });
      const p = compileProgram({ programId: 1, sets: [def(1, null), def(2, 'and')], courses });
      expect(p.groups.map((g) => g.setIds)).to.deep.equal([[1], [2]]);
    });

    it('never completes a program with no course sets', () => {
      const e = evaluateProgram(compileProgram({ programId: 1, sets: [], courses: new Map() }), done('A', 1));
      expect(e).to.include({ complete: false, completedAt: null, progress: 0, nextCourseId: null, currentGroupIndex: null });
    });

    it('names a course it does not know by id', () => {
      const p = compileProgram({
        programId: 1,
        sets: [
          { id: 1, label: '', courseIds: [77], rule: 'all', minCourses: 0, minScore: 0, minTime: null, operator: 'then' },
          { id: 2, label: '', courseIds: [78], rule: 'all', minCourses: 0, minScore: 0, minTime: null, operator: null },
        ],
        courses: new Map(),
      });
      expect(canLaunch(p, evaluateProgram(p, new Map()), 78).reasons).to.deep.equal(['Complete course set 1 (Course 77) first']);
    });
  });

  describe('validateStructure', () => {
    const known = new Set([1, 2, 3, 4]);
    const valid = (over: Partial<CourseSetDef> = {}): Partial<CourseSetDef> => ({
      label: 'Set',
      courseIds: [1, 2],
      rule: 'all',
      minTime: null,
      operator: null,
      ...over,
    });
    const codes = (sets: Array<Partial<CourseSetDef>>, scores?: Map<number, number>) =>
      validateStructure(sets, known, scores).map((i) => `${i.path} ${i.code}`);

    it('accepts a valid structure', () => {
      expect(validateStructure([valid({ operator: 'then' }), valid({ rule: 'some', minCourses: 2, minTime: 'P2W' })], known)).to.deep.equal([]);
    });

    it('rejects a program with no course sets', () => {
      expect(codes([])).to.deep.equal(['courseSets PROGRAM_NO_COURSE_SETS']);
    });

    it('reports unknown and duplicate course ids with their path', () => {
      expect(codes([valid({ operator: 'and' }), valid({ courseIds: [1, 9, 1] })])).to.deep.equal([
        'courseSets[1].courseIds[1] PROGRAM_UNKNOWN_COURSE',
        'courseSets[1].courseIds[2] PROGRAM_DUPLICATE_COURSE',
      ]);
    });

    it('reports operator problems', () => {
      expect(codes([valid(), valid()])).to.deep.equal(['courseSets[0].operator PROGRAM_OPERATOR_MISSING']);
      expect(codes([valid({ operator: 'or' })])).to.deep.equal(['courseSets[0].operator PROGRAM_OPERATOR_ON_LAST_SET']);
      expect(codes([valid({ operator: 'xor' as SetOperator }), valid()])).to.deep.equal(['courseSets[0].operator PROGRAM_OPERATOR_INVALID']);
    });

    it('reports thresholds, rules and durations', () => {
      expect(codes([valid({ rule: 'some', minCourses: 3 })])).to.deep.equal(['courseSets[0].minCourses PROGRAM_MIN_COURSES_TOO_LARGE']);
      expect(codes([valid({ rule: 'some', minCourses: -1 })])).to.deep.equal(['courseSets[0].minCourses PROGRAM_THRESHOLD_INVALID']);
      expect(
        codes(
          [valid({ rule: 'some', minScore: 5 })],
          new Map([
            [1, 2],
            [2, 2],
          ]),
        ),
      ).to.deep.equal(['courseSets[0].minScore PROGRAM_MIN_SCORE_UNREACHABLE']);
      expect(codes([valid({ rule: 'most' as SetRule })])).to.deep.equal(['courseSets[0].rule PROGRAM_RULE_INVALID']);
      expect(codes([valid({ minTime: 'two weeks' })])).to.deep.equal(['courseSets[0].minTime PROGRAM_DURATION_INVALID']);
      expect(codes([valid({ minTime: 'P0D' })])).to.deep.equal(['courseSets[0].minTime PROGRAM_DURATION_INVALID']);
    });

    it('reports malformed input rather than throwing', () => {
      const junk = [null, { courseIds: 'x', rule: 'all' }, { courseIds: [0, 'a'], rule: 'all', label: 5 }] as unknown as Array<Partial<CourseSetDef>>;
      expect(codes(junk)).to.deep.equal([
        'courseSets[0] PROGRAM_COURSE_SET_INVALID',
        'courseSets[1].courseIds PROGRAM_COURSE_IDS_INVALID',
        'courseSets[1].operator PROGRAM_OPERATOR_MISSING',
        'courseSets[2].label PROGRAM_LABEL_INVALID',
        'courseSets[2].courseIds[0] PROGRAM_COURSE_IDS_INVALID',
        'courseSets[2].courseIds[1] PROGRAM_COURSE_IDS_INVALID',
      ]);
      expect(validateStructure(junk, known).every((i) => i.message.length > 0)).to.equal(true);
    });
  });
});
