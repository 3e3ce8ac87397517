import { expect } from 'chai';
import type { Site } from '../../core/site';

import { testDialect } from '../utils/db';
import { assign, createCourse, createLaunchSite, createProgram, createUser, enrolments, type LaunchSite } from '../e2e/launch-fixtures';

describe(`enrol_program: the program enrolment guard (${testDialect})`, function () {
  this.timeout(60_000);
  let t: LaunchSite;
  let site: Site;
  let a: number, b: number, c: number, d: number;
  let seq = 0;

  const learner = async (timezone?: string): Promise<number> => {
    const id = await createUser(site, `learner${++seq}`);
    if (timezone) await site.db.knex('users').where({ id }).update({ timezone });
    return id;
  };
  /** {A, B} all then {C} any. */
  const twoStep = async (extra: Parameters<typeof createProgram>[3] = {}): Promise<number> =>
    createProgram(
      site,
      `p${++seq}`,
      [
        { label: 'Basics', courseIds: [a, b], rule: 'all', operator: 'then' },
        { label: 'Practice', courseIds: [c], rule: 'any' },
      ],
      extra,
    );
  const emit = async (hook: 'onProgramAssigned' | 'onProgramUnassigned', programId: number, userIds: number[]): Promise<void> =>
    site.db.transaction((trx) => site.hooks.within(hook, trx, { programId, userIds }));

  before(async () => {
    t = await createLaunchSite();
    site = t.site;
    a = await createCourse(site, 'A', 'Course A');
    b = await createCourse(site, 'B', 'Course B');
    c = await createCourse(site, 'C', 'Course C');
    d = await createCourse(site, 'D', 'Course D');
  });
  after(async () => {
    await t?.close();
  });

  it('enrols an assigned learner in a course of an open group, once, with method program', async () => {
    const p = await twoStep();
    const u = await learner();
    await assign(site, p, u);
    const outcome = await site.services.launch.check(u, a);
    expect(outcome).to.include({ allowed: true, decidedBy: 'enrol_program', code: 'ENROL_PROGRAM_ENROLLED' });
    expect(await enrolments(site, u, a)).to.deep.equal([{ method: 'program', status: 'active' }]);
    expect(await site.services.launch.check(u, a)).to.include({ allowed: true, decidedBy: 'launch' });
    expect(await enrolments(site, u, a)).to.have.length(1);
  });

  it('does not let a learner in while the assignment is not effective or an exception is open or dismissed', async () => {
    const p = await twoStep();
    for (const status of ['exception', 'future', 'unassigned'] as const) {
      const u = await learner();
      await assign(site, p, u, status);
      const outcome = await site.services.launch.check(u, a);
      expect(outcome.allowed, status).to.equal(false);
      expect(outcome.reasons).to.deep.equal(['You are not assigned to a program containing this course']);
      expect(await enrolments(site, u, a)).to.deep.equal([]);
    }
    for (const status of ['open', 'dismissed']) {
      const u = await learner();
      await assign(site, p, u);
      await site.db
        .knex('program_exceptions')
        .insert({ program_id: p, user_id: u, type: 'time_allowance', status, raised_at: site.db.now(), explanation: 'too little time' });
      expect((await site.services.launch.check(u, a)).allowed, status).to.equal(false);
      expect(await enrolments(site, u, a)).to.deep.equal([]);
    }
    const resolved = await learner();
    await assign(site, p, resolved);
    await site.db
      .knex('program_exceptions')
      .insert({ program_id: p, user_id: resolved, type: 'time_allowance', status: 'resolved', raised_at: site.db.now(), explanation: 'x' });
    expect((await site.services.launch.check(resolved, a)).allowed, 'a resolved exception does not block').to.equal(true);
  });

  it('explains an unavailable program with its dates in the learner’s time zone', async () => {
    const later = await twoStep({ availableFrom: '2027-03-02T23:30:00Z' });
    const closed = await twoStep({ availableUntil: '2020-01-15T12:00:00Z' });
    const off = await twoStep({ available: false });
    const u = await learner('Europe/Paris');
    await assign(site, later, u);
    expect((await site.services.launch.check(u, a)).reasons).to.deep.equal(['This program is not available until 3 March 2027']);
    await assign(site, later, u, 'unassigned');
    await assign(site, closed, u);
    expect((await site.services.launch.check(u, a)).reasons).to.deep.equal(['This program closed on 15 January 2020']);
    await assign(site, closed, u, 'unassigned');
    await assign(site, off, u);
    expect((await site.services.launch.check(u, a)).reasons).to.deep.equal(['This program is not available at the moment']);
    expect(await enrolments(site, u, a)).to.deep.equal([]);
  });

  it('reaches a course through any of the learner’s programs, and names each program when all refuse', async () => {
    const locked = await twoStep({ fullname: 'Locked Path' });
    const direct = await createProgram(site, `direct${++seq}`, [{ label: 'Only', courseIds: [c], rule: 'all' }], { fullname: 'Direct Path' });
    const u = await learner();
    await assign(site, locked, u);
    expect((await site.services.launch.check(u, c)).reasons).to.deep.equal(['Complete "Basics" (Course A, Course B) first']);
    await assign(site, direct, u);
    const outcome = await site.services.launch.check(u, c);
    expect(outcome.allowed).to.equal(true);
    expect(outcome.reasons).to.deep.equal(['Enrolled through Direct Path']);

    const v = await learner();
    const otherLocked = await createProgram(
      site,
      `ol${++seq}`,
      [
        { label: 'First', courseIds: [d], rule: 'all', operator: 'then' },
        { label: 'Second', courseIds: [c], rule: 'all' },
      ],
      { fullname: 'Other Path' },
    );
    await assign(site, locked, v);
    await assign(site, otherLocked, v);
    expect((await site.services.launch.check(v, c)).reasons).to.deep.equal([
      'Locked Path: Complete "Basics" (Course A, Course B) first',
      'Other Path: Complete "First" (Course D) first',
    ]);
  });

  it('reactivates a suspended program enrolment on launch, but dry runs write nothing', async () => {
    const p = await twoStep();
    const u = await learner();
    await assign(site, p, u);
    await site.services.enrolments.enrol(u, a, 'program', { status: 'suspended' });
    const { outcome, decisions } = await site.services.launch.explain(u, a);
    expect(outcome).to.include({ allowed: true, code: 'ENROL_PROGRAM_WOULD_ENROL' });
    expect(decisions.map((x) => x.plugin)).to.deep.equal(['launch', 'enrol_program']);
    expect(await enrolments(site, u, a)).to.deep.equal([{ method: 'program', status: 'suspended' }]);
    await site.services.launch.check(u, a);
    expect(await enrolments(site, u, a)).to.deep.equal([{ method: 'program', status: 'active' }]);
  });

  it('suspends enrolments on unassignment except where another program still reaches the course, and reactivates them on re-assignment', async () => {
    const main = await twoStep();
    const alsoC = await createProgram(site, `alsoC${++seq}`, [{ label: 'C only', courseIds: [c], rule: 'all' }]);
    const u = await learner();
    const bystander = await learner();
    for (const id of [u, bystander]) await assign(site, main, id);
    await assign(site, alsoC, u);
    for (const course of [a, b]) for (const id of [u, bystander]) expect((await site.services.launch.check(id, course)).allowed).to.equal(true);
    expect((await site.services.launch.check(u, c)).allowed).to.equal(true);
    await site.services.enrolments.enrol(u, b, 'manual');
    await site.services.completion.recordCourseCompletion(a, u);

    await assign(site, main, u, 'unassigned');
    await emit('onProgramUnassigned', main, [u]);
    expect(await enrolments(site, u, a)).to.deep.equal([{ method: 'program', status: 'suspended' }]);
    expect(await enrolments(site, u, c), 'still reachable through the other program').to.deep.equal([{ method: 'program', status: 'active' }]);
    const methodsB = (await enrolments(site, u, b)).sort((x, y) => x.method.localeCompare(y.method));
    expect(methodsB, 'other methods are not touched').to.deep.equal([
      { method: 'manual', status: 'active' },
      { method: 'program', status: 'suspended' },
    ]);
    expect(await enrolments(site, bystander, a)).to.deep.equal([{ method: 'program', status: 'active' }]);
    expect(await site.services.completion.courseCompletion(a, u), 'completions are kept').to.not.equal(null);
    expect((await site.services.launch.check(u, a)).allowed).to.equal(false);

    await assign(site, main, u);
    await emit('onProgramAssigned', main, [u]);
    expect(await enrolments(site, u, a)).to.deep.equal([{ method: 'program', status: 'active' }]);
  });

  it('deletes the enrolments instead when the plugin is set to unenrol on unassignment', async () => {
    const p = await twoStep();
    const u = await learner();
    await assign(site, p, u);
    await site.services.launch.check(u, a);
    await site.plugins.setSettings('enrol_program', { unassignAction: 'unenrol' });
    try {
      await assign(site, p, u, 'unassigned');
      await emit('onProgramUnassigned', p, [u]);
    } finally {
      await site.plugins.setSettings('enrol_program', { unassignAction: 'suspend' });
    }
    expect(await enrolments(site, u, a)).to.deep.equal([]);
  });
});
