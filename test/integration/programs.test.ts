import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';

const T0 = Date.UTC(2026, 0, 1);
const at = (day: number): string => new Date(T0 + day * 86_400_000).toISOString();

interface LearnerView {
  assigned: boolean;
  status: string;
  completedAt: string | null;
  dueAt: string | null;
  courseSets: Array<{ id: number; label: string; open: boolean; complete: boolean; completedAt: string | null; dueAt: string | null }>;
}

describe('programs over REST', () => {
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let learnerToken: string;
  let learnerId: number;
  let userSeq = 0;
  const courses = new Map<string, number>();

  async function insertUser(extra: Record<string, unknown> = {}): Promise<number> {
    const now = site.db.now();
    const username = `u${++userSeq}`;
    const [id] = (await site.db
      .knex('users')
      .insert({ username, email: `${username}@example.com`, fullname: username, created_at: now, updated_at: now, ...extra })) as [number];
    return Number(id);
  }

  const api = () => ({
    post: (path: string, body: unknown, token = admin) =>
      request(app)
        .post(`/api/v1${path}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    patch: (path: string, body: unknown, token = admin) =>
      request(app)
        .patch(`/api/v1${path}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    get: (path: string, token = admin) => request(app).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`),
  });

  async function course(name: string, score = 0): Promise<number> {
    const res = await api().post('/courses', { shortname: name, fullname: `Course ${name}`, score });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    courses.set(name, res.body.id);
    return res.body.id as number;
  }

  const ids = (names: string): number[] => names.split('').map((n) => courses.get(n)!);

  async function program(shortname: string, courseSets: unknown[]): Promise<{ id: number; courseSets: Array<{ id: number }> }> {
    const res = await api().post('/programs', { shortname, fullname: shortname, courseSets });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  async function complete(userId: number, name: string, day: number): Promise<void> {
    const res = await api().post(`/courses/${courses.get(name)}/completions`, { userId, completedAt: at(day) });
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
  }

  async function learner(programId: number, userId: number): Promise<LearnerView> {
    const res = await api().get(`/programs/${programId}/learners/${userId}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as LearnerView;
  }

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of ['programs', 'program_course_sets', 'program_course_set_courses']) {
      const [{ n }] = (await site.db.knex(table).count({ n: '*' })) as [{ n: number | string }];
      out[table] = Number(n);
    }
    return out;
  }

  /** Records the same completions in several orders, one learner per order; returns the views. */
  async function inOrders(programId: number, completions: Array<[string, number]>): Promise<LearnerView[]> {
    const orders = [
      completions,
      [...completions].reverse(),
      [...completions.slice(1), completions[0]!],
      [completions[completions.length - 1]!, ...completions.slice(0, -1)],
    ];
    const views: LearnerView[] = [];
    for (const order of orders) {
      const userId = await insertUser();
      for (const [name, day] of order) await complete(userId, name, day);
      views.push(await learner(programId, userId));
    }
    for (const view of views.slice(1)) expect(view).to.deep.equal(views[0]);
    return views;
  }

  before(async () => {
    t = await createTestSite();
    site = t.site;
    app = createApp(site);
    admin = await createApiToken(site.db, await insertUser({ is_admin: true }));
    learnerId = await insertUser();
    learnerToken = await createApiToken(site.db, learnerId);
    for (const name of 'ABCDEFGHIJ') await course(name, 1);
  });

  after(async () => {
    await t?.close();
  });

  it('example 1: {A,B,C} all then {D,E,F} any — D is locked until A, B and C are complete, then completes the program', async () => {
    const p = await program('ex1', [
      { label: 'Core', courseIds: ids('ABC'), rule: 'all', operator: 'then' },
      { label: 'Elective', courseIds: ids('DEF'), rule: 'any' },
    ]);
    const partial = await insertUser();
    await complete(partial, 'A', 1);
    await complete(partial, 'B', 3);
    let view = await learner(p.id, partial);
    expect(view.status).to.equal('incomplete');
    expect(view.courseSets.map((s) => s.open)).to.deep.equal([true, false]);
    await complete(partial, 'C', 2);
    view = await learner(p.id, partial);
    expect(view.courseSets[0]).to.include({ complete: true, completedAt: at(3) });
    expect(view.courseSets[1]).to.include({ open: true, complete: false });

    const [full] = await inOrders(p.id, [
      ['A', 1],
      ['B', 3],
      ['C', 2],
      ['D', 5],
    ]);
    expect(full).to.deep.include({ assigned: false, status: 'complete', completedAt: at(5) });
    expect(full!.courseSets.map((s) => [s.complete, s.completedAt])).to.deep.equal([
      [true, at(3)],
      [true, at(5)],
    ]);
  });

  it('example 2: {A..F} some(2) and {G..J} some(3) — one group, complete when 2 of A..F and 3 of G..J are done', async () => {
    const p = await program('ex2', [
      { label: 'Pick two', courseIds: ids('ABCDEF'), rule: 'some', minCourses: 2, operator: 'and' },
      { label: 'Pick three', courseIds: ids('GHIJ'), rule: 'some', minCourses: 3 },
    ]);
    const almost = await insertUser();
    for (const [n, d] of [
      ['A', 1],
      ['G', 2],
      ['H', 3],
      ['I', 6],
    ] as Array<[string, number]>)
      await complete(almost, n, d);
    const partialView = await learner(p.id, almost);
    expect(partialView.status).to.equal('incomplete');
    expect(partialView.courseSets.map((s) => s.open)).to.deep.equal([true, true]);
    expect(partialView.courseSets[1]).to.include({ complete: true, completedAt: at(6) });

    const [full] = await inOrders(p.id, [
      ['A', 1],
      ['C', 5],
      ['G', 2],
      ['H', 3],
      ['I', 6],
      ['J', 4],
      ['B', 7],
    ]);
    // Set 1: the 2nd earliest of A(1), C(5), B(7) = day 5; set 2: the 3rd earliest of 2, 3, 4, 6 = day 4.
    expect(full!.courseSets.map((s) => s.completedAt)).to.deep.equal([at(5), at(4)]);
    expect(full).to.deep.include({ status: 'complete', completedAt: at(5) });
  });

  it('example 3: {A,B,C} any and {D} all — A or B or C, and D', async () => {
    const p = await program('ex3', [
      { label: 'Any', courseIds: ids('ABC'), rule: 'any', operator: 'and' },
      { label: 'D', courseIds: ids('D'), rule: 'all' },
    ]);
    const onlyD = await insertUser();
    await complete(onlyD, 'D', 1);
    expect((await learner(p.id, onlyD)).status).to.equal('incomplete');

    const [full] = await inOrders(p.id, [
      ['B', 3],
      ['C', 2],
      ['D', 4],
    ]);
    expect(full!.courseSets.map((s) => s.completedAt)).to.deep.equal([at(2), at(4)]);
    expect(full).to.deep.include({ status: 'complete', completedAt: at(4) });
    const [early] = await inOrders(p.id, [
      ['D', 1],
      ['A', 6],
    ]);
    expect(early).to.deep.include({ status: 'complete', completedAt: at(6) });
  });

  it('recording the same completion again changes nothing; an earlier time replaces a later one', async () => {
    const p = await program('again', [{ courseIds: ids('A'), rule: 'all' }]);
    const userId = await insertUser();
    const first = await api().post(`/courses/${courses.get('A')}/completions`, { userId, completedAt: at(4) });
    expect(first.status).to.equal(201);
    expect(first.body.completed.programIds).to.deep.equal([p.id]);
    const second = await api().post(`/courses/${courses.get('A')}/completions`, { userId, completedAt: at(9) });
    expect(second.status).to.equal(200);
    expect(second.body).to.include({ created: false, completedAt: at(4) });
    expect(second.body.completed.programIds).to.deep.equal([]);
    const earlier = await api().post(`/courses/${courses.get('A')}/completions`, { userId, completedAt: at(2) });
    expect(earlier.body).to.include({ created: false, completedAt: at(2) });
    expect(await learner(p.id, userId)).to.deep.include({ status: 'complete', completedAt: at(2) });
  });

  describe('invalid program bodies: 422 naming the field, nothing written', () => {
    const cases: Array<[string, () => unknown[], string, string]> = [
      ['an unknown course', () => [{ courseIds: [999999], rule: 'all' }], 'courseSets[0].courseIds[0]', 'PROGRAM_UNKNOWN_COURSE'],
      ['an unknown rule', () => [{ courseIds: ids('A'), rule: 'most' }], 'courseSets[0].rule', 'PROGRAM_RULE_INVALID'],
      ['a bad duration', () => [{ courseIds: ids('A'), rule: 'all', minTime: '2 weeks' }], 'courseSets[0].minTime', 'PROGRAM_DURATION_INVALID'],
      [
        'a missing operator between sets',
        () => [
          { courseIds: ids('A'), rule: 'all' },
          { courseIds: ids('B'), rule: 'all' },
        ],
        'courseSets[0].operator',
        'PROGRAM_OPERATOR_MISSING',
      ],
      ['an operator on the last set', () => [{ courseIds: ids('A'), rule: 'all', operator: 'then' }], 'courseSets[0].operator', 'PROGRAM_OPERATOR_ON_LAST_SET'],
      [
        'minCourses above the course count',
        () => [{ courseIds: ids('AB'), rule: 'some', minCourses: 3 }],
        'courseSets[0].minCourses',
        'PROGRAM_MIN_COURSES_TOO_LARGE',
      ],
      ['no course sets', () => [], 'courseSets', 'PROGRAM_NO_COURSE_SETS'],
    ];
    for (const [what, sets, path, code] of cases) {
      it(`rejects ${what}`, async () => {
        const before = await counts();
        const res = await api().post('/programs', { shortname: `bad-${code}`, fullname: 'Bad', courseSets: sets() });
        expect(res.status).to.equal(422);
        expect(res.body.error.code).to.equal('COURSE_SETS_INVALID');
        expect(res.body.error.details).to.deep.include.members([
          { path, code, message: res.body.error.details.find((d: { path: string }) => d.path === path)?.message },
        ]);
        expect(await counts()).to.deep.equal(before);
      });
    }

    it('rejects a duplicate shortname with 409 and a bad PATCH structure without changing anything', async () => {
      const p = await program('dup', [{ courseIds: ids('A'), rule: 'all' }]);
      const before = await counts();
      const dup = await api().post('/programs', { shortname: 'dup', fullname: 'Again', courseSets: [{ courseIds: ids('A'), rule: 'all' }] });
      expect(dup.status).to.equal(409);
      expect(dup.body.error.code).to.equal('PROGRAM_SHORTNAME_TAKEN');
      const patch = await api().patch(`/programs/${p.id}`, { fullname: 'Renamed', courseSets: [{ courseIds: [424242], rule: 'all' }] });
      expect(patch.status).to.equal(422);
      expect(await counts()).to.deep.equal(before);
      const read = await api().get(`/programs/${p.id}`);
      expect(read.body).to.include({ fullname: 'dup', structureVersion: 1 });
    });
  });

  it('answers 404 for unknown ids and 403 for another learner', async () => {
    const p = await program('access', [{ courseIds: ids('A'), rule: 'all' }]);
    expect((await api().get('/programs/987654')).status).to.equal(404);
    expect((await api().get(`/programs/${p.id}/learners/987654`)).status).to.equal(404);
    expect((await api().post('/courses/987654/completions', { userId: learnerId })).status).to.equal(404);
    expect((await api().post(`/courses/${courses.get('A')}/completions`, { userId: 987654 })).status).to.equal(404);
    expect((await api().post('/activities/987654/completions', { userId: learnerId })).status).to.equal(404);
    const future = await api().post(`/courses/${courses.get('A')}/completions`, { userId: learnerId, completedAt: '2999-01-01T00:00:00Z' });
    expect(future.status).to.equal(422);
    expect(future.body.error.code).to.equal('COMPLETEDAT_IN_FUTURE');
    expect(await site.db.knex('course_completions').where({ user_id: learnerId })).to.have.length(0);
    expect((await api().get(`/programs/${p.id}/learners/${learnerId}`, learnerToken)).status).to.equal(200);
    const other = await insertUser();
    const denied = await api().get(`/programs/${p.id}/learners/${other}`, learnerToken);
    expect(denied.status).to.equal(403);
    expect((await api().post('/programs', { shortname: 'x', fullname: 'x', courseSets: [] }, learnerToken)).status).to.equal(403);
  });

  it('a structure edit queues one recompute job that brings every affected learner up to date', async () => {
    const p = await program('edit', [
      { label: 'First', courseIds: ids('A'), rule: 'all', operator: 'then' },
      { label: 'Second', courseIds: ids('B'), rule: 'all' },
    ]);
    const done = await insertUser();
    await complete(done, 'A', 1);
    await complete(done, 'B', 2);
    const other = await insertUser();
    await complete(other, 'A', 1);
    await complete(other, 'C', 3);
    expect((await learner(p.id, done)).status).to.equal('complete');
    expect((await learner(p.id, other)).status).to.equal('incomplete');

    const patch = await api().patch(`/programs/${p.id}`, {
      courseSets: [
        { label: 'First', courseIds: ids('A'), rule: 'all', operator: 'then' },
        { label: 'Second', courseIds: ids('C'), rule: 'all' },
      ],
    });
    expect(patch.status, JSON.stringify(patch.body)).to.equal(200);
    expect(patch.body.structureVersion).to.equal(2);
    expect(patch.body.jobId).to.be.a('number');
    // A second edit before the job runs folds into the same job.
    const again = await api().patch(`/programs/${p.id}`, {
      courseSets: [
        { label: 'First', courseIds: ids('A'), rule: 'all', operator: 'then' },
        { label: 'Second', courseIds: ids('C'), rule: 'all' },
      ],
    });
    expect(again.body.jobId).to.equal(patch.body.jobId);

    await site.jobs.drain();
    expect((await site.jobs.status(patch.body.jobId))!.state).to.equal('done');
    const doneView = await learner(p.id, done);
    expect(doneView.status).to.equal('incomplete');
    expect(doneView.courseSets.map((s) => s.label)).to.deep.equal(['First', 'Second']);
    expect(doneView.courseSets[1]).to.include({ open: true, complete: false });
    expect(await learner(p.id, other)).to.deep.include({ status: 'complete', completedAt: at(3) });
    const history = await site.db.knex('program_completion_history').where({ program_id: p.id, user_id: done });
    expect(history.map((h) => [Number(h.completed_at), h.reason])).to.deep.equal([[Date.parse(at(2)), 'structure_change']]);
  });

  it('courses and activities: create, read, reject unknown types', async () => {
    const c = await api().post('/courses', { shortname: 'acts', fullname: 'With activities', completionCriteria: { mode: 'all_tracked' } });
    expect(c.status).to.equal(201);
    const a = await api().post(`/courses/${c.body.id}/activities`, { type: 'quiz', name: 'Quiz 1', completionTracked: true, maxGrade: 10 });
    expect(a.status).to.equal(201);
    expect(a.body).to.include({ type: 'quiz', name: 'Quiz 1', completionTracked: true, maxGrade: 10, position: 0 });
    const bad = await api().post(`/courses/${c.body.id}/activities`, { type: 'scorm', name: 'Nope' });
    expect(bad.status).to.equal(422);
    expect(bad.body.error.details[0]).to.include({ path: 'type', code: 'UNKNOWN_ACTIVITY_TYPE' });
    const read = await api().get(`/courses/${c.body.id}`);
    expect(read.body.activities).to.have.length(1);
    expect((await api().post('/courses', { shortname: 'acts', fullname: 'Dup' })).status).to.equal(409);
  });

  it('activity completion and grades over REST complete the course and then the program', async () => {
    const c = await api().post('/courses', { shortname: 'rest-acts', fullname: 'REST activities' });
    const page = await api().post(`/courses/${c.body.id}/activities`, { type: 'page', name: 'Page', completionTracked: true });
    const quiz = await api().post(`/courses/${c.body.id}/activities`, { type: 'quiz', name: 'Quiz', completionTracked: true, maxGrade: 10 });
    const p = await api().post('/programs', { shortname: 'rest-acts', fullname: 'P', courseSets: [{ courseIds: [c.body.id], rule: 'all' }] });
    const userId = await insertUser();
    const first = await api().post(`/activities/${page.body.id}/completions`, { userId });
    expect(first.status).to.equal(201);
    expect(first.body.courseCompletedAt).to.equal(null);
    const tooHigh = await api().post(`/activities/${quiz.body.id}/grades`, { userId, grade: 11 });
    expect(tooHigh.status).to.equal(422);
    const graded = await api().post(`/activities/${quiz.body.id}/grades`, { userId, grade: 7 });
    expect(graded.status).to.equal(200);
    expect(graded.body.activityComplete).to.equal(true);
    expect(graded.body.courseCompletedAt).to.be.a('string');
    const view = await learner(p.body.id, userId);
    expect(view).to.deep.include({ status: 'complete', completedAt: graded.body.courseCompletedAt });
    const again = await api().post(`/activities/${page.body.id}/completions`, { userId });
    expect(again.status).to.equal(200);
    expect(again.body.created).to.equal(false);
  });
});
