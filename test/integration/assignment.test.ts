import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { RECONCILE_JOB } from '../../core/modules/assignment/index';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';
import { addDuration } from '../../core/modules/programs/durations';

const DAY = 86_400_000;

interface Assignment {
  assigned: boolean;
  status: string;
  dueAt: string | null;
  exception: { id: number; type: string; status: string } | null;
}

describe(`assignment over REST (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let seq = 0;
  let courseId: number;
  const events: Array<{ hook: string; programId: number; userIds: number[] }> = [];
  const raised: Array<{ programId: number; userId: number; exceptionId: number; type: string }> = [];

  const api = {
    post: (p: string, body: unknown) =>
      request(app)
        .post(`/api/v1${p}`)
        .set('Authorization', `Bearer ${admin}`)
        .send(body as object),
    put: (p: string, body: unknown = {}) =>
      request(app)
        .put(`/api/v1${p}`)
        .set('Authorization', `Bearer ${admin}`)
        .send(body as object),
    patch: (p: string, body: unknown) =>
      request(app)
        .patch(`/api/v1${p}`)
        .set('Authorization', `Bearer ${admin}`)
        .send(body as object),
    delete: (p: string) => request(app).delete(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`),
    get: (p: string) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`),
  };

  async function ok<T = Record<string, unknown>>(res: request.Response | Promise<request.Response>, status?: number): Promise<T> {
    const r = await res;
    if (status !== undefined) expect(r.status, JSON.stringify(r.body)).to.equal(status);
    else expect(r.status, JSON.stringify(r.body)).to.be.within(200, 299);
    return r.body as T;
  }

  async function user(extra: Record<string, unknown> = {}): Promise<number> {
    const n = ++seq;
    const body = await ok<{ id: number }>(api.post('/users', { username: `learner${n}`, email: `l${n}@example.com`, fullname: `Learner ${n}`, ...extra }), 201);
    return body.id;
  }

  async function program(minTime?: string): Promise<number> {
    const n = ++seq;
    const body = await ok<{ id: number }>(
      api.post('/programs', {
        shortname: `p${n}`,
        fullname: `Program ${n}`,
        courseSets: [{ courseIds: [courseId], rule: 'all', ...(minTime ? { minTime } : {}) }],
      }),
      201,
    );
    return body.id;
  }

  async function addRule(
    programId: number,
    body: Record<string, unknown>,
  ): Promise<{ rule: { id: number; description: string; memberCount: number; status: string }; jobId: number }> {
    const res = await ok<{ rule: { id: number; description: string; memberCount: number; status: string }; jobId: number }>(
      api.post(`/programs/${programId}/assignments`, body),
      201,
    );
    expect(res.jobId).to.be.a('number');
    await site.jobs.drain();
    const job = await ok<{ state: string; progress: { done: number; total: number } | null }>(api.get(`/jobs/${res.jobId}`), 200);
    expect(job.state).to.equal('done');
    return res;
  }

  const assignment = (programId: number, userId: number) => ok<Assignment>(api.get(`/programs/${programId}/assignments/learners/${userId}`), 200);

  async function audience(name: string): Promise<number> {
    return (await ok<{ id: number }>(api.post('/audiences', { name }), 201)).id;
  }

  before(async () => {
    t = await createTestSite({ pluginsDir: path.resolve(import.meta.dirname, '../../plugins') });
    site = t.site;
    app = createApp(site);
    const now = site.db.now();
    const [adminId] = (await site.db
      .knex('users')
      .insert({ username: 'admin', email: 'a@example.com', fullname: 'Admin', is_admin: true, created_at: now, updated_at: now })) as [number];
    admin = await createApiToken(site.db, Number(adminId));
    courseId = (await ok<{ id: number }>(api.post('/courses', { shortname: 'c1', fullname: 'Course 1' }), 201)).id;
    site.hooks.add('test', 'onExceptionRaised', ({ programId, userId, exceptionId, type }) => {
      raised.push({ programId, userId, exceptionId, type });
    });
    for (const hook of ['onProgramAssigned', 'onProgramUnassigned'] as const) {
      site.hooks.add('test', hook, ({ programId, userIds }) => {
        events.push({ hook, programId, userIds: [...userIds] });
      });
    }
  });

  after(async () => {
    await t?.close();
  });

  it('assigns an audience in the background and follows joins and leaves at once, with no job run', async () => {
    const aud = await audience('Support Analysts');
    const [u1, u2, u3] = [await user(), await user(), await user()];
    await ok(api.put(`/audiences/${aud}/members/${u1}`));
    await ok(api.put(`/audiences/${aud}/members/${u2}`));
    const p = await program();
    const { rule } = await addRule(p, { source: 'audience', instanceId: aud, due: { within: 'P1M', event: 'first_login' } });
    expect(rule.description).to.equal('Members of audience Support Analysts, due within 1 month of first login');
    const list = await ok<{ rules: Array<{ memberCount: number; description: string; status: string }> }>(api.get(`/programs/${p}/assignments`));
    expect(list.rules).to.have.length(1);
    expect(list.rules[0]!.memberCount).to.equal(2);
    expect(list.rules[0]!.status).to.equal('active');
    // Never logged in: a future assignment.
    expect((await assignment(p, u1)).status).to.equal('future');

    // A learner who joins is in, one who leaves is out: no job is drained in between.
    await ok(api.put(`/audiences/${aud}/members/${u3}`));
    expect((await assignment(p, u3)).status).to.equal('future');
    await site.services.users.recordLogin(u3);
    const joined = await assignment(p, u3);
    expect(joined.assigned).to.equal(true);
    expect(joined.dueAt).to.be.a('string');
    expect(events.some((e) => e.hook === 'onProgramAssigned' && e.programId === p && e.userIds.includes(u3))).to.equal(true);

    await ok(api.delete(`/audiences/${aud}/members/${u3}`));
    const left = await assignment(p, u3);
    expect(left.assigned).to.equal(false);
    expect(left.status).to.equal('unassigned');
    expect(events.some((e) => e.hook === 'onProgramUnassigned' && e.programId === p && e.userIds.includes(u3))).to.equal(true);
    // Re-joining re-assigns (and fires onProgramAssigned again).
    const before = events.filter((e) => e.hook === 'onProgramAssigned' && e.userIds.includes(u3)).length;
    await ok(api.put(`/audiences/${aud}/members/${u3}`));
    expect((await assignment(p, u3)).assigned).to.equal(true);
    expect(events.filter((e) => e.hook === 'onProgramAssigned' && e.userIds.includes(u3)).length).to.equal(before + 1);
  });

  it('unassigns a suspended learner and assigns them again when the suspension is lifted', async () => {
    const aud = await audience('Suspensions');
    const u = await user();
    await ok(api.put(`/audiences/${aud}/members/${u}`));
    const p = await program();
    await addRule(p, { source: 'audience', instanceId: aud });
    expect((await assignment(p, u)).assigned).to.equal(true);
    await ok(api.patch(`/users/${u}`, { suspended: true }));
    expect((await assignment(p, u)).status).to.equal('unassigned');
    await ok(api.patch(`/users/${u}`, { suspended: false }));
    expect((await assignment(p, u)).assigned).to.equal(true);
  });

  it('activates a first-login rule on first login with the due date relative to it', async () => {
    const u = await user();
    const p = await program();
    await addRule(p, { source: 'individual', instanceId: u, due: { within: 'P1M', event: 'first_login' } });
    const pending = await assignment(p, u);
    expect(pending.status).to.equal('future');
    expect(pending.assigned).to.equal(false);
    const logged = await site.services.users.recordLogin(u);
    const active = await assignment(p, u);
    expect(active.assigned).to.equal(true);
    const first = new Date(logged.firstLoginAt!);
    const expected = new Date(
      Date.UTC(
        first.getUTCFullYear(),
        first.getUTCMonth() + 1,
        first.getUTCDate(),
        first.getUTCHours(),
        first.getUTCMinutes(),
        first.getUTCSeconds(),
        first.getUTCMilliseconds(),
      ),
    );
    // Calendar month (clamped at month end by luxon when the next month is shorter).
    expect(Date.parse(active.dueAt!)).to.be.at.most(expected.getTime());
    expect(Date.parse(active.dueAt!) - first.getTime()).to.be.at.least(28 * DAY);
  });

  it('moves a learner between position-assigned programs when their position changes', async () => {
    const root = (await ok<{ id: number }>(api.post('/positions', { name: 'Engineering' }), 201)).id;
    const analyst = (await ok<{ id: number }>(api.post('/positions', { name: 'Analyst', parentId: root }), 201)).id;
    const manager = (await ok<{ id: number }>(api.post('/positions', { name: 'Manager' }), 201)).id;
    const pA = await program();
    const pB = await program();
    await addRule(pA, { source: 'position', instanceId: root, includeChildren: true });
    await addRule(pB, { source: 'position', instanceId: manager });
    const u = await user();
    const job = (await ok<{ id: number }>(api.post(`/users/${u}/job-assignments`, { positionId: analyst }), 201)).id;
    expect((await assignment(pA, u)).assigned).to.equal(true);
    expect((await assignment(pB, u)).assigned).to.equal(false);
    await ok(api.patch(`/job-assignments/${job}`, { positionId: manager }));
    expect((await assignment(pA, u)).assigned).to.equal(false);
    expect((await assignment(pB, u)).assigned).to.equal(true);
  });

  it('counts a learner with two job assignments under an "and all below" rule once, and keeps them while either is there', async () => {
    const root = (await ok<{ id: number }>(api.post('/positions', { name: 'Operations' }), 201)).id;
    const left = (await ok<{ id: number }>(api.post('/positions', { name: 'Dispatcher', parentId: root }), 201)).id;
    const right = (await ok<{ id: number }>(api.post('/positions', { name: 'Planner', parentId: root }), 201)).id;
    const elsewhere = (await ok<{ id: number }>(api.post('/positions', { name: 'Elsewhere' }), 201)).id;
    const p = await program();
    const u = await user();
    const first = (await ok<{ id: number }>(api.post(`/users/${u}/job-assignments`, { positionId: left }), 201)).id;
    const second = (await ok<{ id: number }>(api.post(`/users/${u}/job-assignments`, { positionId: right }), 201)).id;
    await addRule(p, { source: 'position', instanceId: root, includeChildren: true });
    const list = await ok<{ rules: Array<{ memberCount: number }> }>(api.get(`/programs/${p}/assignments`));
    expect(list.rules[0]!.memberCount).to.equal(1);
    expect((await assignment(p, u)).assigned).to.equal(true);
    await ok(api.patch(`/job-assignments/${first}`, { positionId: elsewhere }));
    expect((await assignment(p, u)).assigned, 'still holds Planner').to.equal(true);
    await ok(api.patch(`/job-assignments/${second}`, { positionId: elsewhere }));
    expect((await assignment(p, u)).assigned).to.equal(false);
  });

  it('follows a change of manager for a manager-team rule', async () => {
    const boss1 = await user();
    const boss2 = await user();
    const ja1 = (await ok<{ id: number }>(api.post(`/users/${boss1}/job-assignments`, {}), 201)).id;
    const ja2 = (await ok<{ id: number }>(api.post(`/users/${boss2}/job-assignments`, {}), 201)).id;
    const p = await program();
    const { rule } = await addRule(p, { source: 'manager', instanceId: ja1 });
    expect(rule.description).to.be.a('string').and.not.equal('');
    const u = await user();
    const job = (await ok<{ id: number }>(api.post(`/users/${u}/job-assignments`, { managerJobAssignmentId: ja1 }), 201)).id;
    expect((await assignment(p, u)).assigned).to.equal(true);
    await ok(api.patch(`/job-assignments/${job}`, { managerJobAssignmentId: ja2 }));
    expect((await assignment(p, u)).assigned).to.equal(false);
  });

  it('raises completion_time_unknown for a missing profile date; the learner is not assigned until it is resolved', async () => {
    const shortname = `hired${++seq}`;
    const field = (await ok<{ id: number }>(api.post('/profile-fields', { shortname, name: 'Hire date', type: 'date' }), 201)).id;
    const aud = await audience('New starters');
    const withDate = await user({ profile: { [shortname]: '2030-01-15T00:00:00.000Z' } });
    const noDate = await user();
    await ok(api.put(`/audiences/${aud}/members/${withDate}`));
    await ok(api.put(`/audiences/${aud}/members/${noDate}`));
    const p = await program();
    await addRule(p, { source: 'audience', instanceId: aud, due: { within: 'P1M', event: 'profile_field_date', instanceId: field } });

    const good = await assignment(p, withDate);
    expect(good.assigned).to.equal(true);
    expect(good.dueAt).to.equal('2030-02-15T00:00:00.000Z');

    const bad = await assignment(p, noDate);
    expect(bad.assigned).to.equal(false);
    expect(bad.exception?.type).to.equal('completion_time_unknown');
    const learnerView = await ok<{ assigned: boolean; exception: { type: string } | null }>(api.get(`/programs/${p}/learners/${noDate}`), 200);
    expect(learnerView.assigned).to.equal(false);
    expect(learnerView.exception?.type).to.equal('completion_time_unknown');

    const { items: exceptions } = await ok<{
      items: Array<{ id: number; userId: number; type: string; raisedAt: string; explanation: string; learner: { username: string } }>;
    }>(api.get(`/programs/${p}/exceptions`));
    expect(exceptions.map((e) => [e.userId, e.type])).to.deep.equal([[noDate, 'completion_time_unknown']]);
    expect(exceptions[0]!.learner.username).to.match(/^learner/);
    expect(exceptions[0]!.explanation).to.match(/no date/);
    expect(Date.parse(exceptions[0]!.raisedAt)).to.be.a('number');

    const firedBefore = events.filter((e) => e.hook === 'onProgramAssigned' && e.userIds.includes(noDate)).length;
    const result = await ok<{ resolved: number }>(api.post('/exceptions/resolve', { exceptionIds: [exceptions[0]!.id], action: 'assign' }), 200);
    expect(result.resolved).to.equal(1);
    const resolved = await assignment(p, noDate);
    expect(resolved.assigned).to.equal(true);
    const learnerAfter = await ok<{ assigned: boolean; exception: unknown }>(api.get(`/programs/${p}/learners/${noDate}`), 200);
    expect(learnerAfter).to.include({ assigned: true, exception: null });
    expect(resolved.exception).to.equal(null);
    expect(events.filter((e) => e.hook === 'onProgramAssigned' && e.userIds.includes(noDate)).length).to.equal(firedBefore + 1);
    expect((await ok<{ items: unknown[] }>(api.get(`/programs/${p}/exceptions`))).items).to.have.length(0);
  });

  it('re-checks a completion_time_unknown exception when the missing date arrives', async () => {
    const shortname = `start${++seq}`;
    const field = (await ok<{ id: number }>(api.post('/profile-fields', { shortname, name: 'Start date', type: 'date' }), 201)).id;
    const p = await program();
    const u = await user();
    await addRule(p, { source: 'individual', instanceId: u, due: { within: 'P2W', event: 'profile_field_date', instanceId: field } });
    expect((await assignment(p, u)).exception?.type).to.equal('completion_time_unknown');
    await ok(api.patch(`/users/${u}`, { profile: { [shortname]: '2031-03-01T00:00:00.000Z' } }));
    const now = await assignment(p, u);
    expect(now.assigned).to.equal(true);
    expect(now.dueAt).to.equal('2031-03-15T00:00:00.000Z');
    expect((await ok<{ items: unknown[] }>(api.get(`/programs/${p}/exceptions?status=resolved`))).items).to.have.length(1);
  });

  it('computes due dates from the job events: position assigned date (month end clamped), job start date, assignment date', async () => {
    const position = (await ok<{ id: number }>(api.post('/positions', { name: 'Auditor' }), 201)).id;
    const [u1, u2, u3, none] = [await user(), await user(), await user(), await user()];
    await ok(api.post(`/users/${u1}/job-assignments`, { positionId: position, positionAssignedDate: '2030-01-31T09:00:00.000Z' }), 201);
    const job2 = (await ok<{ id: number }>(api.post(`/users/${u2}/job-assignments`, { startDate: '2030-03-01T00:00:00.000Z' }), 201)).id;
    const [pPos, pStart, pAssigned] = [await program(), await program(), await program()];
    const { rule } = await addRule(pPos, { source: 'individual', instanceId: u1, due: { within: 'P1M', event: 'position_assigned_date' } });
    expect(rule.description).to.match(/due within 1 month of position assigned date$/);
    expect((await assignment(pPos, u1)).dueAt).to.equal('2030-02-28T09:00:00.000Z');

    await addRule(pStart, { source: 'individual', instanceId: u2, due: { within: 'P2W', event: 'job_start_date' } });
    await addRule(pStart, { source: 'individual', instanceId: none, due: { within: 'P2W', event: 'job_start_date' } });
    expect((await assignment(pStart, u2)).dueAt).to.equal('2030-03-15T00:00:00.000Z');
    expect((await assignment(pStart, none)).exception?.type, 'no job assignment, no start date').to.equal('completion_time_unknown');
    // A later start date moves the due date later, inside the job-assignment change.
    await ok(api.patch(`/job-assignments/${job2}`, { startDate: '2030-04-01T00:00:00.000Z' }));
    expect((await assignment(pStart, u2)).dueAt).to.equal('2030-04-15T00:00:00.000Z');

    const before = Date.now();
    await addRule(pAssigned, { source: 'individual', instanceId: u3, due: { within: 'P6M', event: 'assignment_date' } });
    const row = await site.db.knex('program_rule_members').where({ program_id: pAssigned, user_id: u3 }).first('created_at', 'event_at', 'due_at');
    expect(Number(row.created_at)).to.be.at.least(before);
    expect(Number(row.event_at)).to.equal(Number(row.created_at));
    expect(Number(row.due_at)).to.equal(addDuration(Number(row.created_at), 'P6M'));
    expect(Date.parse((await assignment(pAssigned, u3)).dueAt!)).to.equal(Number(row.due_at));
  });

  it('waits for the completion of course X or program Y: completion_time_unknown until it happens, then assigned relative to it', async () => {
    const courseX = (await ok<{ id: number }>(api.post('/courses', { shortname: `x${++seq}`, fullname: 'Induction' }), 201)).id;
    const courseY = (await ok<{ id: number }>(api.post('/courses', { shortname: `y${++seq}`, fullname: 'Foundations' }), 201)).id;
    const programY = (
      await ok<{ id: number }>(
        api.post('/programs', { shortname: `py${++seq}`, fullname: 'Foundations program', courseSets: [{ courseIds: [courseY], rule: 'all' }] }),
        201,
      )
    ).id;
    const [pAfterCourse, pAfterProgram] = [await program(), await program()];
    const u = await user();
    const { rule } = await addRule(pAfterCourse, {
      source: 'individual',
      instanceId: u,
      due: { within: 'P1M', event: 'course_completion', instanceId: courseX },
    });
    expect(rule.description).to.match(/due within 1 month of completion of course Induction$/);
    await addRule(pAfterProgram, { source: 'individual', instanceId: u, due: { within: 'P3M', event: 'program_completion', instanceId: programY } });
    for (const p of [pAfterCourse, pAfterProgram]) {
      const waiting = await assignment(p, u);
      expect(waiting.assigned).to.equal(false);
      expect(waiting.exception?.type).to.equal('completion_time_unknown');
    }

    const completedX = new Date(Date.now() - 2 * DAY);
    completedX.setUTCMilliseconds(0);
    await ok(api.post(`/courses/${courseX}/completions`, { userId: u, completedAt: completedX.toISOString() }), 201);
    const afterCourse = await assignment(pAfterCourse, u);
    expect(afterCourse.assigned, 'assigned in the completion transaction').to.equal(true);
    expect(Date.parse(afterCourse.dueAt!)).to.equal(addDuration(completedX.getTime(), 'P1M'));
    expect((await assignment(pAfterProgram, u)).assigned, 'program Y is not complete yet').to.equal(false);

    const completedY = new Date(Date.now() - DAY);
    completedY.setUTCMilliseconds(0);
    await ok(api.post(`/courses/${courseY}/completions`, { userId: u, completedAt: completedY.toISOString() }), 201);
    const afterProgram = await assignment(pAfterProgram, u);
    expect(afterProgram.assigned).to.equal(true);
    expect(Date.parse(afterProgram.dueAt!)).to.equal(addDuration(completedY.getTime(), 'P3M'));
  });

  it('raises time_allowance for a due date shorter than the minimum time; set_realistic_due_date gives now + minimum + 1 week', async () => {
    const p = await program('P2W');
    const u = await user();
    const soon = new Date(site.db.now() + 3 * DAY).toISOString();
    await addRule(p, { source: 'individual', instanceId: u, due: { date: soon } });
    const pending = await assignment(p, u);
    expect(pending.assigned).to.equal(false);
    expect(pending.exception?.type).to.equal('time_allowance');
    // Notifications hear about it through onExceptionRaised.
    expect(raised).to.deep.include({ programId: p, userId: u, exceptionId: pending.exception!.id, type: 'time_allowance' });
    const before = site.db.now();
    await ok(api.post('/exceptions/resolve', { exceptionIds: [pending.exception!.id], action: 'set_realistic_due_date' }), 200);
    const after = site.db.now();
    const fixed = await assignment(p, u);
    expect(fixed.assigned).to.equal(true);
    const due = Date.parse(fixed.dueAt!);
    expect(due).to.be.within(before + 21 * DAY, after + 21 * DAY);
    // A past due date is a time_allowance exception too.
    const u2 = await user();
    await addRule(p, { source: 'individual', instanceId: u2, due: { date: '2020-01-01' } });
    expect((await assignment(p, u2)).exception?.type).to.equal('time_allowance');
  });

  it('does not recalculate completion while an exception is open, and does at once on resolve', async () => {
    const p = await program('P2W');
    const u = await user();
    await addRule(p, { source: 'individual', instanceId: u, due: { date: new Date(site.db.now() + DAY).toISOString() } });
    const open = await assignment(p, u);
    expect(open.exception?.type).to.equal('time_allowance');
    await ok(api.post(`/courses/${courseId}/completions`, { userId: u }));
    expect((await ok<{ status: string }>(api.get(`/programs/${p}/learners/${u}`))).status).to.equal('incomplete');
    await ok(api.post('/exceptions/resolve', { exceptionIds: [open.exception!.id], action: 'assign' }), 200);
    const view = await ok<{ status: string; assigned: boolean; dueAt: string }>(api.get(`/programs/${p}/learners/${u}`));
    expect(view.status).to.equal('complete');
    expect(view.assigned).to.equal(true);
    expect(view.dueAt).to.equal(open.dueAt);
  });

  it('pages the exceptions list: every exception once, in id order, with a bounded page size', async () => {
    const p = await program('P1M');
    const users = [await user(), await user(), await user()];
    const aud = await audience('Paged');
    for (const u of users) await ok(api.put(`/audiences/${aud}/members/${u}`));
    await addRule(p, { source: 'audience', instanceId: aud, due: { date: new Date(site.db.now() + DAY).toISOString() } });
    type Page = { items: Array<{ id: number; userId: number }>; nextCursor: string | null };
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await ok<Page>(api.get(`/programs/${p}/exceptions?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.items.length).to.be.at.most(2);
      seen.push(...page.items.map((e) => e.userId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).to.equal(2);
    expect([...seen].sort((a, b) => a - b)).to.deep.equal([...users].sort((a, b) => a - b));
    // The whole list fits the default page, so there is no next page.
    expect((await ok<Page>(api.get(`/programs/${p}/exceptions`))).nextCursor).to.equal(null);
    for (const bad of ['limit=0', 'limit=1001', 'cursor=abc', 'offset=5']) {
      const res = await api.get(`/programs/${p}/exceptions?${bad}`);
      expect(res.status, bad).to.equal(400);
    }
  });

  it('resolves exceptions in bulk; dismiss keeps the learner unassigned; a bad id changes nothing', async () => {
    const p = await program('P1M');
    const users = [await user(), await user(), await user()];
    const aud = await audience('Bulk');
    for (const u of users) await ok(api.put(`/audiences/${aud}/members/${u}`));
    await addRule(p, { source: 'audience', instanceId: aud, due: { date: new Date(site.db.now() + DAY).toISOString() } });
    const { items: exceptions } = await ok<{ items: Array<{ id: number; userId: number }> }>(api.get(`/programs/${p}/exceptions`));
    expect(exceptions).to.have.length(3);
    const bad = await api.post('/exceptions/resolve', { exceptionIds: [exceptions[0]!.id, 99999999], action: 'assign' });
    expect(bad.status).to.equal(404);
    expect(bad.body.error.code).to.equal('EXCEPTION_NOT_FOUND');
    expect((await assignment(p, exceptions[0]!.userId)).assigned).to.equal(false);

    await ok(api.post('/exceptions/resolve', { exceptionIds: [exceptions[0]!.id, exceptions[1]!.id], action: 'assign' }), 200);
    await ok(api.post('/exceptions/resolve', { exceptionIds: [exceptions[2]!.id], action: 'dismiss' }), 200);
    expect((await assignment(p, exceptions[0]!.userId)).assigned).to.equal(true);
    expect((await assignment(p, exceptions[1]!.userId)).assigned).to.equal(true);
    const dismissed = await assignment(p, exceptions[2]!.userId);
    expect(dismissed.assigned).to.equal(false);
    expect(dismissed.exception?.status).to.equal('dismissed');
    expect((await ok<{ items: unknown[] }>(api.get(`/programs/${p}/exceptions`))).items).to.have.length(0);
    const again = await api.post('/exceptions/resolve', { exceptionIds: [exceptions[0]!.id], action: 'assign' });
    expect(again.status).to.equal(409);
  });

  it('never moves a due date earlier automatically, but a later rule moves it later', async () => {
    const p = await program();
    const u = await user();
    const late = Date.UTC(2031, 5, 1);
    const { rule } = await addRule(p, { source: 'individual', instanceId: u, due: { date: new Date(late).toISOString() } });
    expect(Date.parse((await assignment(p, u)).dueAt!)).to.equal(late);
    const patched = await ok<{ jobId: number }>(api.patch(`/programs/${p}/assignments/${rule.id}`, { due: { date: '2030-01-01T00:00:00.000Z' } }), 200);
    expect(patched.jobId).to.be.a('number');
    await site.jobs.drain();
    expect(Date.parse((await assignment(p, u)).dueAt!)).to.equal(late);
    const later = Date.UTC(2032, 0, 1);
    await addRule(p, { source: 'individual', instanceId: u, due: { date: new Date(later).toISOString() } });
    expect(Date.parse((await assignment(p, u)).dueAt!)).to.equal(later);
  });

  it('removing a rule unassigns in the background and keeps completion records', async () => {
    const p = await program();
    const u = await user();
    const { rule } = await addRule(p, { source: 'individual', instanceId: u });
    expect((await assignment(p, u)).assigned).to.equal(true);
    await ok(api.post(`/courses/${courseId}/completions`, { userId: u }), 201).catch(async () =>
      ok(api.post(`/courses/${courseId}/completions`, { userId: u })),
    );
    const removed = await ok<{ jobId: number }>(api.delete(`/programs/${p}/assignments/${rule.id}`), 202);
    await site.jobs.drain();
    expect((await ok<{ state: string }>(api.get(`/jobs/${removed.jobId}`))).state).to.equal('done');
    expect((await assignment(p, u)).assigned).to.equal(false);
    expect((await ok<{ rules: unknown[] }>(api.get(`/programs/${p}/assignments`))).rules).to.have.length(0);
    const completion = await site.db.knex('program_completions').where({ program_id: p, user_id: u }).first('status');
    expect(completion?.status).to.equal('complete');
  });

  it('the nightly reconcile writes nothing when nothing changed', async () => {
    const p = await program();
    const aud = await audience('Reconciled');
    for (let i = 0; i < 3; i++) await ok(api.put(`/audiences/${aud}/members/${await user()}`));
    await addRule(p, { source: 'audience', instanceId: aud, due: { within: 'P6M', event: 'assignment_date' } });
    const jobId = await site.jobs.enqueue(RECONCILE_JOB, {});
    await site.jobs.drain();
    const job = await ok<{ state: string; result: Record<string, number> }>(api.get(`/jobs/${jobId}`));
    expect(job.state).to.equal('done');
    expect(job.result, JSON.stringify(job)).to.be.an('object');
    expect(job.result.programs).to.be.greaterThan(0);
    for (const k of ['membersInserted', 'membersDeleted', 'membersUpdated', 'assignmentsWritten', 'exceptionsRaised']) expect(job.result[k], k).to.equal(0);
  });

  it('the nightly reconcile repairs a membership due date that does not match its rule', async () => {
    const p = await program();
    const u = await user();
    const due = Date.UTC(2033, 2, 1);
    const { rule } = await addRule(p, { source: 'individual', instanceId: u, due: { date: new Date(due).toISOString() } });
    // As if a due-rule change had been interrupted half way.
    await site.db
      .knex('program_rule_members')
      .where({ rule_id: rule.id, user_id: u })
      .update({ due_at: due - 30 * DAY });
    const jobId = await site.jobs.enqueue(RECONCILE_JOB, {});
    await site.jobs.drain();
    const job = await ok<{ result: Record<string, number> }>(api.get(`/jobs/${jobId}`));
    expect(job.result.membersUpdated).to.equal(1);
    const row = await site.db.knex('program_rule_members').where({ rule_id: rule.id, user_id: u }).first('due_at');
    expect(Number(row?.due_at)).to.equal(due);
    expect(Date.parse((await assignment(p, u)).dueAt!)).to.equal(due);
  });

  it('the reconcile rebuilds lost memberships of many programs at once without reassigning anyone', async () => {
    const aud = await audience('Rebuilt');
    const learners: number[] = [];
    for (let i = 0; i < 4; i++) learners.push(await user());
    for (const u of learners) await ok(api.put(`/audiences/${aud}/members/${u}`));
    const programs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await program();
      programs.push(p);
      await addRule(p, { source: 'audience', instanceId: aud, due: { within: 'P2M', event: 'assignment_date' } });
    }
    const before = await site.db
      .knex('program_user_assignments')
      .whereIn('program_id', programs)
      .orderBy(['program_id', 'user_id'])
      .select('program_id', 'user_id', 'status', 'due_at');
    expect(before).to.have.length(24);
    // As if the membership table had been restored from an older backup.
    await site.db.knex('program_rule_members').whereIn('program_id', programs).delete();
    const seen = events.length;
    const result = await site.services.assignment.reconcile({ concurrency: 3 });
    expect(result.membersInserted).to.equal(24);
    const after = await site.db
      .knex('program_user_assignments')
      .whereIn('program_id', programs)
      .orderBy(['program_id', 'user_id'])
      .select('program_id', 'user_id', 'status', 'due_at');
    // New membership rows carry a later assignment date, so due dates may only move later.
    expect(after.map((a) => [a.program_id, a.user_id, a.status])).to.deep.equal(before.map((b) => [b.program_id, b.user_id, b.status]));
    after.forEach((a, i) => expect(Number(a.due_at)).to.be.at.least(Number(before[i]!.due_at)));
    expect(
      events.slice(seen).filter((e) => programs.includes(e.programId)),
      'no assignment events',
    ).to.deep.equal([]);
  });

  it('rejects an unknown source (422) and a bad instance (400), changing nothing', async () => {
    const p = await program();
    const before = await site.db.knex('program_assignment_rules').count({ n: '*' });
    const unknown = await api.post(`/programs/${p}/assignments`, { source: 'nope', instanceId: 1 });
    expect(unknown.status).to.equal(422);
    expect(unknown.body.error.code).to.equal('ASSIGNMENT_SOURCE_UNKNOWN');
    const extra = await api.post(`/programs/${p}/assignments`, { source: 'audience', instanceId: 1, colour: 'red' });
    expect(extra.status).to.equal(400);
    const missingAudience = await api.post(`/programs/${p}/assignments`, { source: 'audience', instanceId: 999999 });
    expect(missingAudience.status).to.equal(422);
    const badEvent = await api.post(`/programs/${p}/assignments`, { source: 'individual', instanceId: 1, due: { within: 'P1M', event: 'full_moon' } });
    expect(badEvent.status).to.equal(422);
    expect(badEvent.body.error.code).to.equal('DUE_EVENT_UNKNOWN');
    const badDuration = await api.post(`/programs/${p}/assignments`, {
      source: 'individual',
      instanceId: 1,
      due: { within: 'one month', event: 'first_login' },
    });
    expect(badDuration.status).to.equal(422);
    expect(await site.db.knex('program_assignment_rules').count({ n: '*' })).to.deep.equal(before);
  });

  it('a disabled source stops assigning new learners and is reported, not a crash', async () => {
    const aud = await audience('Disabled later');
    const u1 = await user();
    await ok(api.put(`/audiences/${aud}/members/${u1}`));
    const p = await program();
    await addRule(p, { source: 'audience', instanceId: aud });
    expect((await assignment(p, u1)).assigned).to.equal(true);
    await ok(api.post('/plugins/assign_audience/disable', {}), 200);
    try {
      const u2 = await user();
      await ok(api.put(`/audiences/${aud}/members/${u2}`));
      expect((await assignment(p, u2)).assigned).to.equal(false);
      expect((await assignment(p, u1)).assigned).to.equal(true);
      const { rules } = await ok<{ rules: Array<{ status: string; description: string }> }>(api.get(`/programs/${p}/assignments`));
      expect(rules[0]!.status).to.equal('source_disabled');
      const add = await api.post(`/programs/${p}/assignments`, { source: 'audience', instanceId: aud });
      expect(add.status).to.equal(422);
      expect(add.body.error.code).to.equal('ASSIGNMENT_SOURCE_UNKNOWN');
      const jobId = await site.jobs.enqueue(RECONCILE_JOB, {});
      await site.jobs.drain();
      expect((await site.jobs.status(jobId))?.state).to.equal('done');
    } finally {
      await ok(api.post('/plugins/assign_audience/enable', {}), 200);
    }
    expect(site.services.assignment).to.be.an('object');
  });
});
