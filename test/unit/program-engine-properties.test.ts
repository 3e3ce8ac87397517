import { expect } from 'chai';
import fc from 'fast-check';
import {
  canLaunch,
  compileProgram,
  evaluateProgram,
  progressPercent,
  type CompiledProgram,
  type CourseRef,
  type CourseSetDef,
  type ProgramEvaluation,
  type SetOperator,
  type SetRule,
} from '../../core/modules/programs/engine';

// Programs use courses 1..8; completions may also name 9..10, which are in no program.
const PROGRAM_COURSES = 8;
const ALL_COURSES = 10;

interface Case {
  defs: CourseSetDef[];
  scores: number[];
  completions: Array<[number, number]>;
}

const arbSets = fc.array(
  fc.record({
    courseIds: fc.uniqueArray(fc.integer({ min: 1, max: PROGRAM_COURSES }), { maxLength: 4 }),
    rule: fc.constantFrom<SetRule>('all', 'any', 'some', 'optional'),
    minCourses: fc.nat(3),
    minScore: fc.nat(6),
    minTime: fc.constantFrom<string | null>(null, 'P1W', 'P1M', 'P10D'),
    operator: fc.constantFrom<SetOperator>('then', 'and', 'or'),
  }),
  { minLength: 1, maxLength: 6 },
);

// A small time range so ties between completion times are common.
const arbCompletions = fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: ALL_COURSES }), fc.integer({ min: 0, max: 12 })), {
  selector: ([course]) => course,
  maxLength: ALL_COURSES,
});

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    sets: arbSets,
    scores: fc.array(fc.nat(4), { minLength: ALL_COURSES + 1, maxLength: ALL_COURSES + 1 }),
    completions: arbCompletions,
  })
  .map(({ sets, scores, completions }) => ({
    defs: sets.map((s, i) => ({
      id: 500 + i,
      label: i % 2 ? `Set ${i + 1}` : '',
      ...s,
      // Validation keeps minCourses within the set; the engine only ever sees such structures.
      minCourses: Math.min(s.minCourses, s.courseIds.length),
      operator: i === sets.length - 1 ? null : s.operator,
    })),
    scores,
    completions,
  }));

function compile(c: Case, defs = c.defs): CompiledProgram {
  const courses = new Map<number, CourseRef>();
  for (let id = 1; id <= ALL_COURSES; id++) courses.set(id, { id, fullname: `Course ${id}`, score: c.scores[id] });
  return compileProgram({ programId: 7, sets: defs, courses });
}

// ---- An independent reference: booleans only, evaluated left to right as a stream. ----

function refSetComplete(def: CourseSetDef, scores: number[], done: ReadonlySet<number>): boolean {
  const completed = def.courseIds.filter((id) => done.has(id));
  switch (def.rule) {
    case 'optional':
      return true;
    case 'all':
      return def.courseIds.length > 0 && completed.length === def.courseIds.length;
    case 'any':
      return completed.length > 0;
    case 'some':
      return completed.length >= def.minCourses && completed.reduce((sum, id) => sum + scores[id], 0) >= def.minScore;
  }
}

/** Per group: complete? `and` folds into the current product, `or` closes it, `then` closes the group. */
function refGroups(defs: CourseSetDef[], scores: number[], done: ReadonlySet<number>): boolean[] {
  const groups: boolean[] = [];
  let anyTerm = false;
  let product = true;
  defs.forEach((def, i) => {
    product = product && refSetComplete(def, scores, done);
    const op = i === defs.length - 1 ? 'then' : def.operator;
    if (op === 'or' || op === 'then') {
      anyTerm = anyTerm || product;
      product = true;
    }
    if (op === 'then') {
      groups.push(anyTerm);
      anyTerm = false;
    }
  });
  return groups;
}

/**
 * "The moment the rule first became true": undefined if never, null if already true with no
 * completions at all, else the smallest completion time t at which it holds using completions <= t.
 */
function firstMoment(completions: Array<[number, number]>, holds: (done: ReadonlySet<number>) => boolean): number | null | undefined {
  const upTo = (t: number) => new Set(completions.filter(([, at]) => at <= t).map(([id]) => id));
  if (holds(new Set())) return null;
  const times = [...new Set(completions.map(([, at]) => at))].sort((a, b) => a - b);
  return times.find((t) => holds(upTo(t)));
}

const publicShape = (e: ProgramEvaluation) => ({ ...e, launchableCourseIds: [...e.launchableCourseIds].sort((a, b) => a - b) });

/** null = complete from the start (earliest possible); undefined = not complete. */
const timeOf = (x: { complete: boolean; completedAt: number | null }): number | undefined => (x.complete ? (x.completedAt ?? -Infinity) : undefined);

describe('program engine properties', () => {
  it('agrees with an independent reference on completion and access', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const e = evaluateProgram(compile(c), new Map(c.completions));
        const done = new Set(c.completions.map(([id]) => id));
        const groups = refGroups(c.defs, c.scores, done);
        expect(e.groups.map((g) => g.complete)).to.deep.equal(groups);
        expect(e.sets.map((s) => s.complete)).to.deep.equal(c.defs.map((d) => refSetComplete(d, c.scores, done)));
        expect(e.complete).to.equal(groups.every(Boolean));
        const open = groups.map((_, k) => groups.slice(0, k).every(Boolean));
        expect(e.groups.map((g) => g.open)).to.deep.equal(open);
        const launchable = new Set(e.sets.filter((s) => open[s.groupIndex]).flatMap((s) => c.defs[s.position - 1].courseIds));
        expect([...e.launchableCourseIds].sort()).to.deep.equal([...launchable].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('stamps every set, group and the program with the moment its rule first became true', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const e = evaluateProgram(compile(c), new Map(c.completions));
        c.defs.forEach((def, i) => {
          const expected = firstMoment(c.completions, (done) => refSetComplete(def, c.scores, done));
          expect(e.sets[i].completedAt, `set ${i}`).to.equal(expected ?? null);
          expect(e.sets[i].complete).to.equal(expected !== undefined);
        });
        e.groups.forEach((g, k) => {
          const expected = firstMoment(c.completions, (done) => refGroups(c.defs, c.scores, done)[k]);
          expect(g.completedAt, `group ${k}`).to.equal(expected ?? null);
        });
        const program = firstMoment(c.completions, (done) => refGroups(c.defs, c.scores, done).every(Boolean));
        expect(e.completedAt).to.equal(program ?? null);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on the order completions arrive in, batch or one at a time', () => {
    const arb = arbCase.chain((c) => fc.tuple(fc.constant(c), fc.shuffledSubarray(c.completions, { minLength: c.completions.length })));
    fc.assert(
      fc.property(arb, ([c, shuffled]) => {
        const program = compile(c);
        const batch = publicShape(evaluateProgram(program, new Map(c.completions)));
        expect(publicShape(evaluateProgram(program, new Map(shuffled)))).to.deep.equal(batch);
        const incremental = new Map<number, number>();
        let last = evaluateProgram(program, incremental);
        for (const [id, at] of shuffled) {
          incremental.set(id, at);
          last = evaluateProgram(program, incremental);
        }
        expect(publicShape(last)).to.deep.equal(batch);
      }),
    );
  });

  it('adding a completion never un-completes anything, never makes a time later, never closes access', () => {
    const arb = fc.tuple(arbCase, fc.integer({ min: 1, max: ALL_COURSES }), fc.integer({ min: 0, max: 12 }));
    fc.assert(
      fc.property(arb, ([c, course, at]) => {
        fc.pre(!c.completions.some(([id]) => id === course));
        const program = compile(c);
        const before = evaluateProgram(program, new Map(c.completions));
        const after = evaluateProgram(program, new Map([...c.completions, [course, at]]));
        const noLater = (b: { complete: boolean; completedAt: number | null }, a: { complete: boolean; completedAt: number | null }) => {
          if (!b.complete) return;
          expect(a.complete).to.equal(true);
          expect(timeOf(a)).to.be.at.most(timeOf(b) as number);
        };
        before.sets.forEach((s, i) => noLater(s, after.sets[i]));
        before.groups.forEach((g, i) => {
          noLater(g, after.groups[i]);
          if (g.open) expect(after.groups[i].open).to.equal(true);
        });
        noLater(before, after);
        for (const id of before.launchableCourseIds) expect(after.launchableCourseIds.has(id)).to.equal(true);
        expect(after.progress).to.be.at.least(before.progress);
      }),
      { numRuns: 500 },
    );
  });

  it('an optional set never blocks access or completion', () => {
    const arb = arbCase.chain((c) => fc.tuple(fc.constant(c), fc.nat(c.defs.length - 1)));
    fc.assert(
      fc.property(arb, ([c, which]) => {
        const relaxedDefs = c.defs.map((d, i) => (i === which ? { ...d, rule: 'optional' as const } : d));
        const strict = evaluateProgram(compile(c), new Map(c.completions));
        const relaxed = evaluateProgram(compile(c, relaxedDefs), new Map(c.completions));
        strict.groups.forEach((g, k) => {
          if (g.complete) expect(relaxed.groups[k].complete).to.equal(true);
          if (g.open) expect(relaxed.groups[k].open).to.equal(true);
        });
        if (strict.complete) expect(relaxed.complete).to.equal(true);
        expect(relaxed.sets[which]).to.include({ complete: true, completedAt: null });
        // A group made only of optional sets is complete and the next group is open.
        const allOptional = c.defs.map((d) => ({ ...d, rule: 'optional' as const }));
        const free = evaluateProgram(compile(c, allOptional), new Map());
        expect(free.complete).to.equal(true);
        expect(free.groups.every((g) => g.open && g.complete && g.completedAt === null)).to.equal(true);
      }),
    );
  });

  it('progress, next course and launch decisions are consistent with the evaluation', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const program = compile(c);
        const completions = new Map(c.completions);
        const e = evaluateProgram(program, completions);
        expect(e.progress).to.be.within(0, 1);
        expect(e.progress === 1).to.equal(e.complete);
        for (const s of e.sets) expect(s.progress === 1).to.equal(s.complete);
        if (e.nextCourseId !== null) {
          expect(e.complete).to.equal(false);
          expect(e.launchableCourseIds.has(e.nextCourseId)).to.equal(true);
          expect(completions.has(e.nextCourseId)).to.equal(false);
        }
        for (let id = 1; id <= ALL_COURSES; id++) {
          const decision = canLaunch(program, e, id);
          expect(decision.allowed).to.equal(e.launchableCourseIds.has(id));
          if (!decision.allowed) expect(decision.reasons).to.not.be.empty;
        }
        for (const s of e.sets) expect(s.lockedReasons.length === 0).to.equal(s.open);
      }),
    );
  });
});

// ---- Progress: a plain reference of the formula in docs/programs.md ("Progress"). ----

const CAP = 0.999;

/** Required work of a set in courses, by brute force for the score part (the sets hold at most 4 courses). */
function refWeight(def: CourseSetDef, scores: number[]): number {
  const n = def.courseIds.length;
  if (def.rule === 'optional' || (def.rule === 'some' && def.minCourses <= 0 && def.minScore <= 0)) return 0;
  if (def.rule === 'any') return 1;
  if (def.rule === 'all') return Math.max(1, n);
  let fewest = 0;
  if (def.minScore > 0) {
    fewest = n;
    for (let mask = 1; mask < 1 << n; mask++) {
      const picked = def.courseIds.filter((_, k) => mask & (1 << k));
      if (picked.reduce((sum, id) => sum + scores[id], 0) >= def.minScore) fewest = Math.min(fewest, picked.length);
    }
  }
  return Math.max(1, def.minCourses, fewest);
}

function refProgress(defs: CourseSetDef[], scores: number[], done: ReadonlySet<number>, partial: ReadonlyMap<number, number>): number {
  const share = (id: number) => (done.has(id) ? 1 : Math.min(1, partial.get(id) ?? 0));
  const setShare = (def: CourseSetDef): number => {
    if (refSetComplete(def, scores, done)) return 1;
    const shares = def.courseIds.map(share);
    let raw: number;
    if (def.rule === 'all') raw = shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : 0;
    else if (def.rule === 'any') raw = Math.max(0, ...shares);
    else {
      const parts: number[] = [];
      if (def.minCourses > 0)
        parts.push(
          [...shares]
            .sort((a, b) => b - a)
            .slice(0, def.minCourses)
            .reduce((a, b) => a + b, 0) / def.minCourses,
        );
      if (def.minScore > 0) parts.push(Math.min(1, def.courseIds.reduce((sum, id) => sum + share(id) * scores[id], 0) / def.minScore));
      raw = Math.min(...parts);
    }
    return Math.min(raw, CAP);
  };
  // Groups as lists of alternatives (lists of set indexes), split the same way as refGroups.
  const groups: number[][][] = [];
  let alternatives: number[][] = [];
  let product: number[] = [];
  defs.forEach((def, i) => {
    product.push(i);
    const op = i === defs.length - 1 ? 'then' : def.operator;
    if (op === 'or' || op === 'then') {
      alternatives.push(product);
      product = [];
    }
    if (op === 'then') {
      groups.push(alternatives);
      alternatives = [];
    }
  });
  const complete = refGroups(defs, scores, done);
  if (complete.every(Boolean)) return 1;
  let total = 0;
  let sum = 0;
  groups.forEach((alts, g) => {
    const weights = alts.map((alt) => alt.reduce((w, i) => w + refWeight(defs[i], scores), 0));
    const shares = alts.map((alt, k) => (weights[k] === 0 ? 1 : alt.reduce((x, i) => x + refWeight(defs[i], scores) * setShare(defs[i]), 0) / weights[k]));
    const weight = Math.min(...weights);
    total += weight;
    sum += weight * (complete[g] ? 1 : Math.min(Math.max(...shares), CAP));
  });
  return total === 0 ? 0 : Math.min(sum / total, CAP);
}

/** Per course of the program, the share of its tracked activities done (often 0, sometimes all). */
const arbPartial = fc
  .array(fc.tuple(fc.integer({ min: 1, max: ALL_COURSES }), fc.oneof(fc.constantFrom(0, 0.25, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true }))), {
    maxLength: ALL_COURSES,
  })
  .map((pairs) => new Map(pairs));

describe('program progress properties (issue 11)', () => {
  it('agrees with a plain reference of the documented formula', () => {
    fc.assert(
      fc.property(arbCase, arbPartial, (c, partial) => {
        const e = evaluateProgram(compile(c), new Map(c.completions), partial);
        const done = new Set(c.completions.map(([id]) => id));
        expect(e.progress).to.be.closeTo(refProgress(c.defs, c.scores, done, partial), 1e-9);
      }),
      { numRuns: 1000 },
    );
  });

  it('is 100% exactly when the program is complete, whatever the activity shares say', () => {
    fc.assert(
      fc.property(arbCase, arbPartial, (c, partial) => {
        const e = evaluateProgram(compile(c), new Map(c.completions), partial);
        expect(e.progress === 1).to.equal(e.complete);
        expect(progressPercent(e.progress, e.complete) === 100).to.equal(e.complete);
        expect(progressPercent(e.progress, e.complete)).to.be.within(0, 100);
        for (const s of e.sets) expect(s.progress === 1).to.equal(s.complete);
        for (const g of e.groups) expect(g.progress === 1).to.equal(g.complete);
      }),
      { numRuns: 1000 },
    );
  });

  it('is monotone: completing a course or more of its activities never lowers progress', () => {
    const arb = fc.tuple(
      arbCase,
      arbPartial,
      fc.integer({ min: 1, max: ALL_COURSES }),
      fc.integer({ min: 0, max: 12 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.boolean(),
    );
    fc.assert(
      fc.property(arb, ([c, partial, course, at, more, completes]) => {
        const program = compile(c);
        const completions = new Map(c.completions);
        const before = evaluateProgram(program, completions, partial);
        const nextCompletions = new Map(completions);
        const nextPartial = new Map(partial);
        if (completes && !completions.has(course)) nextCompletions.set(course, at);
        else nextPartial.set(course, Math.max(partial.get(course) ?? 0, more));
        const after = evaluateProgram(program, nextCompletions, nextPartial);
        expect(after.progress).to.be.at.least(before.progress);
        expect(progressPercent(after.progress, after.complete)).to.be.at.least(progressPercent(before.progress, before.complete));
        before.sets.forEach((s, i) => expect(after.sets[i].progress).to.be.at.least(s.progress));
      }),
      { numRuns: 1000 },
    );
  });

  it('counts nothing for optional sets: work done only in optional sets leaves progress where it was', () => {
    fc.assert(
      fc.property(arbCase, arbPartial, fc.integer({ min: 1, max: ALL_COURSES }), (c, partial, course) => {
        const program = compile(c);
        const required = new Set(program.sets.filter((s) => s.rule !== 'optional').flatMap((s) => s.courseIds));
        fc.pre(!required.has(course));
        const before = evaluateProgram(program, new Map(c.completions), partial);
        const after = evaluateProgram(program, new Map([...c.completions.filter(([id]) => id !== course), [course, 3]]), new Map([...partial, [course, 1]]));
        expect(after.progress).to.equal(before.progress);
      }),
      { numRuns: 500 },
    );
  });
});
