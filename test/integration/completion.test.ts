import { expect } from 'chai';
import type { CompletionArgs, AssignmentChangeArgs } from '../../core/index';
import { createSite, type Site } from '../../core/site';
import { createTestSite, silentLogger, type TestSite } from '../utils/site';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);

describe('completion: activities, grades, courses and programs', () => {
  let t: TestSite;
  let site: Site;
  let seq = 0;
  const completions: CompletionArgs[] = [];
  const changes: AssignmentChangeArgs[] = [];

  async function user(): Promise<number> {
    const now = site.db.now();
    const username = `c${++seq}`;
    const [id] = (await site.db.knex('users').insert({ username, email: `${username}@example.com`, fullname: username, created_at: now, updated_at: now })) as [
      number,
    ];
    return Number(id);
  }

  async function course(extra: Record<string, unknown> = {}): Promise<number> {
    const c = await site.services.courses.create({ shortname: `course${++seq}`, fullname: 'Course', ...extra });
    return c.id;
  }

  const subjects = () => completions.map((c) => c.subject.type);
  const count = async (table: string, where: Record<string, unknown>): Promise<number> => {
    const [{ n }] = (await site.db.knex(table).where(where).count({ n: '*' })) as [{ n: number | string }];
    return Number(n);
  };

  before(async () => {
    t = await createTestSite();
    site = t.site;
    site.hooks.add('test', 'onCompletion', async (args) => {
      completions.push(args);
    });
    site.hooks.add('test', 'onAssignmentChange', async (args) => {
      changes.push(args);
    });
  });

  beforeEach(() => {
    completions.length = 0;
    changes.length = 0;
  });

  after(async () => {
    await t?.close();
  });

  it('an activity completion completes the course and the program at once, then fires each hook once', async () => {
    const courseId = await course();
    const a1 = await site.services.courses.addActivity(courseId, { type: 'page', name: 'Read me', completionTracked: true });
    const a2 = await site.services.courses.addActivity(courseId, { type: 'quiz', name: 'Quiz', completionTracked: true, maxGrade: 10 });
    await site.services.courses.addActivity(courseId, { type: 'url', name: 'Untracked link' });
    const { program } = await site.services.programs.create({
      shortname: `p${++seq}`,
      fullname: 'P',
      courseSets: [{ label: 'Only', courseIds: [courseId], rule: 'all' }],
    });
    const userId = await user();

    const first = await site.services.completion.recordActivityCompletion(a1.id, userId, { completedAt: T0 + DAY });
    expect(first.course).to.equal(null);
    expect(subjects()).to.deep.equal([]);

    // Seen from inside the hook's transaction, the program row is already written.
    const seenInTrx: string[] = [];
    const off = site.hooks.add('test', 'onCompletion', async (args, trx) => {
      if (args.subject.type === 'program') {
        const row = await trx('program_completions').where({ program_id: program.id, user_id: userId }).first();
        seenInTrx.push(row.status);
      }
    });
    const second = await site.services.completion.recordActivityCompletion(a2.id, userId, { completedAt: T0 + 3 * DAY });
    off();
    expect(second.course).to.include({ created: true, completedAt: T0 + 3 * DAY, source: 'activity' });
    expect(subjects()).to.deep.equal(['course', 'course_set', 'program']);
    expect(completions.every((c) => c.userId === userId && c.completedAt === T0 + 3 * DAY)).to.equal(true);
    expect(changes.map((c) => c.change.type)).to.deep.equal(['course_completion', 'program_completion']);
    expect(seenInTrx).to.deep.equal(['complete']);
    expect((await site.services.programs.completionOf(program.id, userId)).status).to.equal('complete');

    // Idempotent: the same records again change nothing and fire nothing.
    completions.length = 0;
    changes.length = 0;
    const repeat = await site.services.completion.recordActivityCompletion(a2.id, userId, { completedAt: T0 + 9 * DAY });
    expect(repeat).to.include({ created: false, completedAt: T0 + 3 * DAY });
    const course2 = await site.services.completion.recordCourseCompletion(courseId, userId, { completedAt: T0 + 8 * DAY });
    expect(course2).to.include({ created: false, completedAt: T0 + 3 * DAY });
    expect(subjects()).to.deep.equal([]);
    expect(changes).to.deep.equal([]);
    expect(await count('course_completions', { user_id: userId, course_id: courseId })).to.equal(1);
  });

  it('rolls back the activity, course and program completion together when the transaction fails', async () => {
    const courseId = await course();
    const a = await site.services.courses.addActivity(courseId, { type: 'resource', name: 'File', completionTracked: true });
    const { program } = await site.services.programs.create({ shortname: `p${++seq}`, fullname: 'P', courseSets: [{ courseIds: [courseId], rule: 'any' }] });
    const userId = await user();
    let error: unknown;
    try {
      await site.db.transaction(async (trx) => {
        const result = await site.services.completion.recordActivityCompletion(a.id, userId, { trx });
        expect(result.course?.events.map((e) => e.kind)).to.deep.equal(['course_set', 'program']);
        throw new Error('forced failure after the completion chain');
      });
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal('forced failure after the completion chain');
    expect(await count('activity_completions', { user_id: userId })).to.equal(0);
    expect(await count('course_completions', { user_id: userId })).to.equal(0);
    expect(await count('program_completions', { user_id: userId })).to.equal(0);
    expect(await count('course_set_completions', { user_id: userId })).to.equal(0);
    expect((await site.services.programs.completionOf(program.id, userId)).status).to.equal('incomplete');

    // The same call outside the failed transaction works, so nothing half-written was left behind.
    await site.services.completion.recordActivityCompletion(a.id, userId);
    expect((await site.services.programs.completionOf(program.id, userId)).status).to.equal('complete');
  });

  it('one course completion completes every program containing the course', async () => {
    const shared = await course();
    const other = await course();
    const programIds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { program } = await site.services.programs.create({
        shortname: `multi${++seq}`,
        fullname: 'M',
        courseSets: [{ courseIds: [shared], rule: 'all' }],
      });
      programIds.push(program.id);
    }
    const { program: needsBoth } = await site.services.programs.create({
      shortname: `both${++seq}`,
      fullname: 'B',
      courseSets: [{ courseIds: [shared, other], rule: 'all' }],
    });
    const userId = await user();
    const result = await site.services.completion.recordCourseCompletion(shared, userId, { completedAt: T0 });
    expect(
      result.events
        .filter((e) => e.kind === 'program')
        .map((e) => e.programId)
        .sort(),
    ).to.deep.equal([...programIds].sort());
    expect(completions.filter((c) => c.subject.type === 'program')).to.have.length(3);
    expect((await site.services.programs.completionOf(needsBoth.id, userId)).status).to.equal('incomplete');
  });

  it('grades: a tracked graded activity completes on grade; min_grade courses complete at the pass mark', async () => {
    const courseId = await course({ completionCriteria: { mode: 'min_grade', minGrade: 60 } });
    const q1 = await site.services.courses.addActivity(courseId, { type: 'quiz', name: 'Q1', maxGrade: 10 });
    const q2 = await site.services.courses.addActivity(courseId, { type: 'quiz', name: 'Q2', maxGrade: 10 });
    const userId = await user();
    const low = await site.services.completion.recordGrade(q1.id, userId, 5);
    expect(low.course).to.equal(null);
    const pass = await site.services.completion.recordGrade(q2.id, userId, 8);
    expect(pass.course).to.include({ created: true, source: 'activity' });
    expect(subjects()).to.deep.equal(['course']);
    let error: { status?: number; code?: string } = {};
    await site.services.completion.recordGrade(q1.id, userId, 11).catch((e) => (error = e));
    expect(error).to.include({ status: 422, code: 'GRADE_INVALID' });
    expect((await site.db.knex('grades').where({ activity_id: q1.id, user_id: userId }).first()).grade).to.equal(5);

    const tracked = await course();
    const quiz = await site.services.courses.addActivity(tracked, { type: 'quiz', name: 'Graded', completionTracked: true, maxGrade: 20 });
    await site.services.completion.recordGrade(quiz.id, userId, 12);
    expect(await site.services.completion.courseCompletion(tracked, userId)).to.include({ source: 'activity' });
  });

  it('subset criteria complete the course from the chosen activities only', async () => {
    const courseId = await course();
    const a1 = await site.services.courses.addActivity(courseId, { type: 'page', name: 'A1', completionTracked: true });
    const a2 = await site.services.courses.addActivity(courseId, { type: 'page', name: 'A2', completionTracked: true });
    const view = await site.services.courses.setCompletionCriteria(courseId, { mode: 'subset', activityIds: [a2.id] });
    expect(view.completionCriteria).to.deep.equal({ mode: 'subset', activityIds: [a2.id] });
    const userId = await user();
    await site.services.completion.recordActivityCompletion(a2.id, userId, { completedAt: T0 + 2 * DAY });
    expect(await site.services.completion.courseCompletion(courseId, userId)).to.deep.equal({ completedAt: T0 + 2 * DAY, source: 'activity' });
    expect((await site.services.completion.recordActivityCompletion(a1.id, userId)).course).to.include({ created: false, completedAt: T0 + 2 * DAY });
    let error: { code?: string } = {};
    await site.services.courses.setCompletionCriteria(courseId, { mode: 'subset', activityIds: [999999] }).catch((e) => (error = e));
    expect(error.code).to.equal('COMPLETIONCRITERIA_INVALID');
  });

  it('concurrent completions of different courses for one learner still complete the program', async () => {
    const a = await course();
    const b = await course();
    const c = await course();
    const { program } = await site.services.programs.create({ shortname: `conc${++seq}`, fullname: 'C', courseSets: [{ courseIds: [a, b, c], rule: 'all' }] });
    const learners = await Promise.all([user(), user(), user(), user(), user()]);
    await Promise.all(
      learners.flatMap((userId) =>
        [a, b, c].map((courseId, i) => site.services.completion.recordCourseCompletion(courseId, userId, { completedAt: T0 + i * DAY })),
      ),
    );
    for (const userId of learners) {
      expect(await site.services.programs.completionOf(program.id, userId)).to.deep.include({
        status: 'complete',
        completedAt: new Date(T0 + 2 * DAY).toISOString(),
      });
    }
    expect(completions.filter((e) => e.subject.type === 'program')).to.have.length(learners.length);
  });

  it('activities added at the same time each get their own position', async () => {
    const courseId = await course();
    await Promise.all(Array.from({ length: 6 }, (_, i) => site.services.courses.addActivity(courseId, { type: 'page', name: `P${i}` })));
    const view = await site.services.courses.get(courseId);
    expect(view.activities.map((a) => a.position)).to.deep.equal([0, 1, 2, 3, 4, 5]);
  });

  it('enrolments are unique per (user, course, method) and can be suspended', async () => {
    const courseId = await course();
    const userId = await user();
    await site.services.enrolments.enrol(userId, courseId, 'manual');
    await site.services.enrolments.enrol(userId, courseId, 'manual');
    await site.services.enrolments.enrol(userId, courseId, 'program');
    expect(await site.services.enrolments.list({ userId })).to.have.length(2);
    await site.services.enrolments.setStatus(userId, courseId, 'manual', 'suspended');
    expect(await site.services.enrolments.isEnrolled(userId, courseId)).to.equal(true);
    await site.services.enrolments.setStatus(userId, courseId, 'program', 'suspended');
    expect(await site.services.enrolments.isEnrolled(userId, courseId)).to.equal(false);
  });

  it('another process notices a structure edit on its next completion (structure_version is checked every time)', async () => {
    const a = await course();
    const b = await course();
    const { program } = await site.services.programs.create({ shortname: `x${++seq}`, fullname: 'X', courseSets: [{ courseIds: [a, b], rule: 'all' }] });
    const second = createSite({ config: { databaseUrl: site.db.url, pluginsDir: site.config.pluginsDir }, logger: silentLogger() });
    try {
      const u1 = await user();
      await second.services.completion.recordCourseCompletion(a, u1, { completedAt: T0 });
      expect((await site.services.programs.completionOf(program.id, u1)).status).to.equal('incomplete');
      // Edited in this process; the second one has the old structure cached.
      await site.services.programs.update(program.id, { courseSets: [{ courseIds: [a], rule: 'all' }] });
      const u2 = await user();
      const result = await second.services.completion.recordCourseCompletion(a, u2, { completedAt: T0 });
      expect(result.events.map((e) => e.kind)).to.deep.equal(['course_set', 'program']);
    } finally {
      await second.db.close();
    }
  });
});

describe('program recompute job', () => {
  let t: TestSite;
  let site: Site;

  before(async () => {
    t = await createTestSite();
    site = t.site;
  });

  after(async () => {
    await t?.close();
  });

  it('recomputes learners who completed the courses before the program existed, and again after an edit, in batches', async () => {
    const a = (await site.services.courses.create({ shortname: 'bulk-a', fullname: 'A' })).id;
    const b = (await site.services.courses.create({ shortname: 'bulk-b', fullname: 'B' })).id;
    const now = site.db.now();
    const learners = 1_100;
    const users = Array.from({ length: learners }, (_, i) => ({
      username: `bulk${i}`,
      email: `bulk${i}@example.com`,
      fullname: `Bulk ${i}`,
      created_at: now,
      updated_at: now,
    }));
    for (let i = 0; i < users.length; i += 250) await site.db.knex('users').insert(users.slice(i, i + 250));
    const ids = (await site.db.knex('users').where('username', 'like', 'bulk%').select('id')).map((r) => Number(r.id));
    const rows = ids.map((userId, i) => ({ user_id: userId, course_id: a, completed_at: T0 + i, source: 'import', created_at: now }));
    for (let i = 0; i < rows.length; i += 250) await site.db.knex('course_completions').insert(rows.slice(i, i + 250));

    const created = await site.services.programs.create({ shortname: 'bulk', fullname: 'Bulk', courseSets: [{ courseIds: [a], rule: 'all' }] });
    expect(created.jobId).to.be.a('number');
    await site.jobs.drain();
    const status = await site.jobs.status(created.jobId!);
    expect(status!.state).to.equal('done');
    expect(status!.progress).to.deep.include({ done: learners, total: learners });
    const complete = await site.db.knex('program_completions').where({ program_id: created.program.id, status: 'complete' }).select('user_id', 'completed_at');
    expect(complete).to.have.length(learners);
    const last = ids[ids.length - 1]!;
    expect(Number(complete.find((r) => Number(r.user_id) === last)!.completed_at)).to.equal(T0 + learners - 1);

    const edited = await site.services.programs.update(created.program.id, { courseSets: [{ courseIds: [a, b], rule: 'all' }] });
    await site.jobs.drain();
    expect((await site.jobs.status(edited.jobId!))!.state).to.equal('done');
    const [{ n }] = (await site.db.knex('program_completions').where({ program_id: created.program.id, status: 'complete' }).count({ n: '*' })) as [
      { n: number | string },
    ];
    expect(Number(n)).to.equal(0);
    const [{ h }] = (await site.db.knex('program_completion_history').where({ program_id: created.program.id }).count({ h: '*' })) as [{ h: number | string }];
    expect(Number(h)).to.equal(learners);
  });
});
