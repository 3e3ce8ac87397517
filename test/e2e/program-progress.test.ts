/**
 * Issue 11, "Program progress and completion": each of the five items through the REST API and the
 * learner (and operator) pages, on the database under test (WAYMARK_TEST_DB=sqlite|mysql).
 */
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';
import { PASSWORD, signIn } from '../browser/scenario';

const DAY = 86_400_000;
const html = { Accept: 'text/html' };

interface LearnerState {
  assigned: boolean;
  status: 'incomplete' | 'complete';
  progress: number;
  dueAt: string | null;
  completedAt: string | null;
  courseSets: Array<{ id: number; complete: boolean; progress: number }>;
}

interface AssignmentView {
  assigned: boolean;
  status: string;
  dueAt: string | null;
  assignedAt: string | null;
  exception: { id: number; type: string; status: string } | null;
  acceptedDueAt: string | null;
  history: Array<{
    exceptionId: number;
    type: string;
    status: string;
    resolution: string | null;
    resolvedAt: string | null;
    resolvedBy: { id: number; fullname: string } | null;
  }>;
}

interface Record {
  status: string;
  programs: Array<{ id: number; status: string; progress: number; dueAt: string | null; completedAt: string | null; overdue: boolean }>;
  courses: Array<{ id: number; status: string; progress: number; completedAt: string | null }>;
  history: Array<{ kind: string; id: number }>;
  totals: { programs: number; courses: number; history: number };
  nextOffset: number | null;
}

describe(`program progress and completion, issue 11 (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let adminId: number;
  let seq = 0;

  const api = {
    get: (p: string, token = admin) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
    post: (p: string, body: object, token = admin) => request(app).post(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send(body),
    patch: (p: string, body: object) => request(app).patch(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`).send(body),
    put: (p: string) => request(app).put(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`).send({}),
    delete: (p: string) => request(app).delete(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`),
  };

  async function ok<T>(res: request.Test | Promise<request.Response>, status?: number): Promise<T> {
    const r = await res;
    if (status !== undefined) expect(r.status, JSON.stringify(r.body)).to.equal(status);
    else expect(r.status, JSON.stringify(r.body)).to.be.within(200, 299);
    return r.body as T;
  }

  /** A learner who can sign in, with a signed-in agent for the pages and a token for the API. */
  async function learner(): Promise<{ id: number; agent: ReturnType<typeof request.agent>; token: string }> {
    const n = ++seq;
    const username = `learner${n}`;
    const { id } = await site.services.users.create({ username, email: `${username}@example.com`, fullname: `Learner ${n}`, password: PASSWORD });
    const agent = request.agent(app);
    await signIn(agent, username);
    return { id, agent, token: await createApiToken(site.db, id) };
  }

  async function course(activities = 0): Promise<{ id: number; activities: number[] }> {
    const n = ++seq;
    const { id } = await ok<{ id: number }>(api.post('/courses', { shortname: `c${n}`, fullname: `Course ${n}` }), 201);
    const ids: number[] = [];
    for (let i = 0; i < activities; i++) {
      ids.push((await ok<{ id: number }>(api.post(`/courses/${id}/activities`, { type: 'page', name: `Step ${i + 1}`, completionTracked: true }), 201)).id);
    }
    return { id, activities: ids };
  }

  async function program(courseSets: object[], extra: object = {}): Promise<number> {
    const n = ++seq;
    return (await ok<{ id: number }>(api.post('/programs', { shortname: `p${n}`, fullname: `Program <i>${n}</i>`, courseSets, ...extra }), 201)).id;
  }

  async function addRule(programId: number, body: object): Promise<number> {
    const { rule } = await ok<{ rule: { id: number } }>(api.post(`/programs/${programId}/assignments`, body), 201);
    await site.jobs.drain();
    return rule.id;
  }

  const state = (programId: number, userId: number, token = admin) => ok<LearnerState>(api.get(`/programs/${programId}/learners/${userId}`, token));
  const assignment = (programId: number, userId: number, token = admin) =>
    ok<AssignmentView>(api.get(`/programs/${programId}/assignments/learners/${userId}`, token));
  const record = (userId: number, query = '', token = admin) => ok<Record>(api.get(`/users/${userId}/record-of-learning${query}`, token));
  const required = (userId: number) => ok<{ programs: Array<{ id: number; progress: number }> }>(api.get(`/users/${userId}/required-learning`));
  const page = async (agent: ReturnType<typeof request.agent>, url: string) => (await agent.get(url).set(html).expect(200)).text;

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'issue-11-secret-0123456789abcdef' });
    site = t.site;
    app = createApp(site);
    adminId = (await site.services.users.create({ username: 'ops', email: 'ops@example.com', fullname: 'Olive Operator', password: PASSWORD, isAdmin: true }))
      .id;
    admin = await createApiToken(site.db, adminId);
  });
  after(async () => t?.close());

  describe('1. evaluating completion whenever an assignment starts', () => {
    it('a program of only optional sets completes at the assignment time, by rule sync and by exception resolution', async () => {
      const [a, b] = [await course(), await course()];
      const p = await program([
        { courseIds: [a.id], rule: 'optional', operator: 'then' },
        { courseIds: [b.id], rule: 'optional' },
      ]);
      const l = await learner();
      await addRule(p, { source: 'individual', instanceId: l.id });
      const assigned = await assignment(p, l.id, l.token);
      const view = await state(p, l.id, l.token);
      expect(view).to.include({ assigned: true, status: 'complete', progress: 100 });
      expect(view.completedAt).to.equal(assigned.assignedAt);

      // Held by an exception first (a due date already past), then assigned by the operator.
      const late = await learner();
      await addRule(p, { source: 'individual', instanceId: late.id, due: { date: '2020-01-01' } });
      const held = await assignment(p, late.id);
      expect(held.exception?.type).to.equal('time_allowance');
      expect((await state(p, late.id)).status).to.equal('incomplete');
      await ok(api.post('/exceptions/resolve', { exceptionIds: [held.exception!.id], action: 'assign' }), 200);
      const resolved = await state(p, late.id);
      expect(resolved).to.include({ assigned: true, status: 'complete', progress: 100 });
      expect(resolved.completedAt).to.equal((await assignment(p, late.id)).assignedAt);

      // The learner pages agree: not owed on Required Learning, complete on the program page and the record.
      expect(await page(l.agent, '/my/required-learning')).to.not.contain(`href="/programs/${p}"`);
      const programPage = await page(l.agent, `/programs/${p}`);
      expect(programPage).to.contain('aria-label="100% complete"').and.to.contain('badge-complete');
      const rol = await page(l.agent, '/my/record-of-learning?status=complete');
      expect(rol).to.contain(`href="/programs/${p}"`).and.to.contain(`Program &lt;i&gt;`);
    });

    it('a learner who joins an audience is evaluated in the same transaction (incremental sync), with no job run', async () => {
      const a = await course();
      const p = await program([{ courseIds: [a.id], rule: 'optional' }]);
      const { id: audienceId } = await ok<{ id: number }>(api.post('/audiences', { name: `Audience ${++seq}` }), 201);
      await addRule(p, { source: 'audience', instanceId: audienceId });
      const l = await learner();
      await ok(api.put(`/audiences/${audienceId}/members/${l.id}`));
      // No drain: the membership change itself assigned and completed.
      expect(await state(p, l.id)).to.include({ assigned: true, status: 'complete' });
      expect(await page(l.agent, `/programs/${p}`)).to.contain('aria-label="100% complete"');
    });

    it('re-assignment after unassignment completes a learner who finished the courses meanwhile, at the time the engine computes', async () => {
      const a = await course();
      const p = await program([{ courseIds: [a.id], rule: 'all', minTime: 'P2W' }]);
      const l = await learner();
      // Held by a time-allowance exception: completions are recorded but not evaluated.
      const rule = await addRule(p, { source: 'individual', instanceId: l.id, due: { date: new Date(site.db.now() + DAY).toISOString() } });
      expect((await assignment(p, l.id)).exception?.type).to.equal('time_allowance');
      const completedAt = new Date(site.db.now() - 10 * DAY).toISOString();
      await ok(api.post(`/courses/${a.id}/completions`, { userId: l.id, completedAt }));
      expect((await state(p, l.id)).status).to.equal('incomplete');
      // The rule goes (unassigned), another comes with no due date (assigned again): evaluated at once.
      await ok(api.delete(`/programs/${p}/assignments/${rule}`), 202);
      await site.jobs.drain();
      expect((await assignment(p, l.id)).status).to.equal('unassigned');
      await addRule(p, { source: 'individual', instanceId: l.id });
      const view = await state(p, l.id, l.token);
      expect(view).to.include({ assigned: true, status: 'complete', progress: 100, completedAt });
      expect(await page(l.agent, '/my/record-of-learning')).to.contain(`<time datetime="${completedAt}">`);
    });

    it('a rule sync of more than 300 learners evaluates the batch with range reads: prior learning and optional-only programs', async () => {
      const [a, b] = [await course(), await course()];
      const optional = await program([{ courseIds: [a.id], rule: 'optional' }]);
      const required = await program([{ courseIds: [b.id], rule: 'all' }]);
      const { id: audienceId } = await ok<{ id: number }>(api.post('/audiences', { name: `Crowd ${++seq}` }), 201);
      const now = site.db.now();
      const names = Array.from({ length: 320 }, (_, i) => `crowd${seq}_${i}`);
      for (let i = 0; i < names.length; i += 100) {
        await site.db
          .knex('users')
          .insert(names.slice(i, i + 100).map((u) => ({ username: u, email: `${u}@example.com`, fullname: u, created_at: now, updated_at: now })));
      }
      const ids = (await site.db.knex('users').whereIn('username', names).orderBy('id').select('id')).map((r) => Number(r.id));
      for (let i = 0; i < ids.length; i += 100) {
        await site.db
          .knex('audience_members')
          .insert(ids.slice(i, i + 100).map((id) => ({ audience_id: audienceId, user_id: id, source: 'manual', added_at: now })));
      }
      // Two of them completed B before being assigned; the others have done nothing.
      const earlier = new Date(now - 3 * DAY).toISOString();
      for (const id of [ids[7]!, ids[300]!]) await ok(api.post(`/courses/${b.id}/completions`, { userId: id, completedAt: earlier }));
      await site.db.knex('program_completions').where({ program_id: required }).delete();
      await addRule(optional, { source: 'audience', instanceId: audienceId });
      await addRule(required, { source: 'audience', instanceId: audienceId });
      const optionalDone = await site.db.knex('program_completions').where({ program_id: optional, status: 'complete' }).count({ n: '*' });
      expect(Number(optionalDone[0]!.n)).to.equal(320);
      const requiredDone = await site.db
        .knex('program_completions')
        .where({ program_id: required, status: 'complete' })
        .orderBy('user_id')
        .select('user_id', 'completed_at');
      expect(requiredDone.map((r) => [Number(r.user_id), Number(r.completed_at)])).to.deep.equal([
        [ids[7], Date.parse(earlier)],
        [ids[300], Date.parse(earlier)],
      ]);
    });

    it('a structure edit that leaves only optional sets completes the assigned learners who have done nothing', async () => {
      const a = await course();
      const p = await program([{ courseIds: [a.id], rule: 'all' }]);
      const l = await learner();
      await addRule(p, { source: 'individual', instanceId: l.id });
      expect((await state(p, l.id)).status).to.equal('incomplete');
      const { jobId } = await ok<{ jobId: number }>(api.patch(`/programs/${p}`, { courseSets: [{ courseIds: [a.id], rule: 'optional' }] }));
      expect(jobId).to.be.a('number');
      await site.jobs.drain();
      expect(await state(p, l.id, l.token)).to.include({ status: 'complete', progress: 100 });
    });

    it('the reconcile completes assigned learners of a program complete from the start whose completion was never evaluated', async () => {
      const a = await course();
      const p = await program([{ courseIds: [a.id], rule: 'optional' }]);
      const l = await learner();
      await addRule(p, { source: 'individual', instanceId: l.id });
      // As on a site upgraded from before assignments were evaluated at once.
      await site.db.knex('program_completions').where({ program_id: p, user_id: l.id }).delete();
      expect((await state(p, l.id)).status).to.equal('incomplete');
      const result = await site.services.assignment.reconcile();
      expect(result.completionsEvaluated).to.be.at.least(1);
      expect(await state(p, l.id)).to.include({ status: 'complete', progress: 100 });
      // Nothing left to do: the next run evaluates nobody.
      expect((await site.services.assignment.reconcile()).completionsEvaluated).to.equal(0);
    });
  });

  describe('2. progress: the share of the required work done, one number everywhere', () => {
    it('S1 all THEN S2 optional THEN S3 all: 0% at the start, optional courses count nothing, a half-done course counts half', async () => {
      const [a, b, c, d, e, f] = [await course(2), await course(), await course(), await course(), await course(), await course()];
      const p = await program([
        { label: 'First', courseIds: [a.id, b.id], rule: 'all', operator: 'then' },
        { label: 'Extra', courseIds: [c.id, d.id], rule: 'optional', operator: 'then' },
        { label: 'Last', courseIds: [e.id, f.id], rule: 'all' },
      ]);
      const l = await learner();
      await addRule(p, { source: 'individual', instanceId: l.id });

      const everywhere = async (expected: number) => {
        expect((await state(p, l.id, l.token)).progress, 'API learner state').to.equal(expected);
        expect((await required(l.id)).programs.find((x) => x.id === p)?.progress, 'API Required Learning').to.equal(expected);
        expect((await record(l.id, '?status=in_progress', l.token)).programs.find((x) => x.id === p)?.progress, 'API Record of Learning').to.equal(expected);
        expect(await page(l.agent, '/my/required-learning'), 'Required Learning page').to.contain(`aria-label="${expected}% complete"`);
        expect(await page(l.agent, `/programs/${p}`), 'program page').to.contain(`aria-label="${expected}% complete"`);
        expect(await page(l.agent, '/my/record-of-learning'), 'Record of Learning page').to.contain(`<td data-label="Progress">${expected}%</td>`);
      };
      await everywhere(0);
      // Optional courses count for nothing.
      await ok(api.post(`/courses/${c.id}/completions`, { userId: l.id }));
      await everywhere(0);
      // One of course A's two tracked activities: half a course of four required.
      await ok(api.post(`/activities/${a.activities[0]}/completions`, { userId: l.id }));
      await everywhere(12);
      await ok(api.post(`/activities/${a.activities[1]}/completions`, { userId: l.id }));
      await ok(api.post(`/courses/${b.id}/completions`, { userId: l.id }));
      await everywhere(50);
      const sets = (await state(p, l.id)).courseSets;
      expect(sets.map((s) => s.progress)).to.deep.equal([100, 100, 0]);
      await ok(api.post(`/courses/${e.id}/completions`, { userId: l.id }));
      await ok(api.post(`/courses/${f.id}/completions`, { userId: l.id }));
      expect(await state(p, l.id)).to.include({ status: 'complete', progress: 100 });
    });

    it('shows the same number on the operator’s list of learners', async () => {
      const a = await course(4);
      const b = await course();
      const p = await program([{ courseIds: [a.id, b.id], rule: 'all' }]);
      const l = await learner();
      await addRule(p, { source: 'individual', instanceId: l.id });
      await ok(api.post(`/activities/${a.activities[0]}/completions`, { userId: l.id }));
      // A quarter of one course of two required: 12.5%, shown as 12.
      expect((await state(p, l.id)).progress).to.equal(12);
      const ops = request.agent(app);
      await signIn(ops, 'ops');
      const list = await page(ops, `/admin/programs/${p}/learners`);
      const row = list.split(`/admin/programs/${p}/learners/${l.id}"`)[1]!.split('</tr>')[0]!;
      expect(row).to.contain('class="progress-cell">12%</td>');
      expect(await page(ops, `/admin/programs/${p}/learners/${l.id}`)).to.contain('aria-label="12% complete"');
    });
  });

  describe('3. the operator’s decision stands', () => {
    it('after assign on a time allowance, a later but still too short due date raises nothing; the decision is in the history', async () => {
      const a = await course();
      const p = await program([{ courseIds: [a.id], rule: 'all', minTime: 'P2W' }]);
      const l = await learner();
      const due = new Date(site.db.now() + 3 * DAY).toISOString();
      const rule = await addRule(p, { source: 'individual', instanceId: l.id, due: { date: due } });
      const held = await assignment(p, l.id);
      expect(held.exception?.type).to.equal('time_allowance');
      await ok(api.post('/exceptions/resolve', { exceptionIds: [held.exception!.id], action: 'assign' }), 200);
      const accepted = await assignment(p, l.id, l.token);
      expect(accepted).to.include({ assigned: true, acceptedDueAt: due });
      expect(accepted.history).to.have.length(1);
      expect(accepted.history[0]).to.deep.include({ exceptionId: held.exception!.id, type: 'time_allowance', status: 'resolved', resolution: 'assign' });
      expect(accepted.history[0]!.resolvedBy).to.deep.equal({ id: adminId, fullname: 'Olive Operator' });

      // The rule's due date moves two days later: still shorter than two weeks, but the decision stands.
      const later = new Date(site.db.now() + 5 * DAY).toISOString();
      await ok(api.patch(`/programs/${p}/assignments/${rule}`, { due: { date: later } }));
      await site.jobs.drain();
      const after = await assignment(p, l.id);
      expect(after).to.include({ assigned: true, dueAt: later, exception: null, acceptedDueAt: due });
      expect(after.history).to.have.length(1);
      expect((await ok<{ items: unknown[] }>(api.get(`/programs/${p}/exceptions`))).items).to.have.length(0);

      // The learner sees the decision on the program page; the operator sees who made it.
      const mine = await page(l.agent, `/programs/${p}`);
      expect(mine).to.contain('Assignment history').and.to.contain('the due date was accepted as it is').and.to.not.contain('Olive Operator');
      const ops = request.agent(app);
      await signIn(ops, 'ops');
      expect(await page(ops, `/admin/programs/${p}/learners/${l.id}`))
        .to.contain('the due date was accepted as it is')
        .and.to.contain('by Olive Operator');

      // The assignment ends and starts again: checked afresh.
      await ok(api.delete(`/programs/${p}/assignments/${rule}`), 202);
      await site.jobs.drain();
      expect((await assignment(p, l.id)).acceptedDueAt).to.equal(null);
      await addRule(p, { source: 'individual', instanceId: l.id, due: { date: later } });
      const again = await assignment(p, l.id);
      expect(again.assigned).to.equal(false);
      expect(again.exception).to.deep.include({ type: 'time_allowance', status: 'open' });
      expect(again.history.map((h) => h.resolution)).to.deep.equal([null, 'assign']);
      expect(await page(l.agent, `/programs/${p}`)).to.contain('Waiting for an administrator');
    });
  });

  describe('4. completed learners keep their due date', () => {
    it('a rule’s due date moving later moves the incomplete learners only', async () => {
      const a = await course();
      const p = await program([{ courseIds: [a.id], rule: 'all' }]);
      const [done, busy] = [await learner(), await learner()];
      const { id: audienceId } = await ok<{ id: number }>(api.post('/audiences', { name: `Cohort ${++seq}` }), 201);
      for (const l of [done, busy]) await ok(api.put(`/audiences/${audienceId}/members/${l.id}`));
      const first = '2031-06-01T00:00:00.000Z';
      const rule = await addRule(p, { source: 'audience', instanceId: audienceId, due: { date: first } });
      await ok(api.post(`/courses/${a.id}/completions`, { userId: done.id }));
      expect((await state(p, done.id)).status).to.equal('complete');

      const moved = '2032-01-01T00:00:00.000Z';
      await ok(api.patch(`/programs/${p}/assignments/${rule}`, { due: { date: moved } }));
      await site.jobs.drain();
      expect((await assignment(p, done.id)).dueAt).to.equal(first);
      expect((await state(p, done.id, done.token)).dueAt).to.equal(first);
      expect((await assignment(p, busy.id)).dueAt).to.equal(moved);
      const rol = await record(done.id, '?status=complete', done.token);
      expect(rol.programs.find((x) => x.id === p)).to.include({ dueAt: first, status: 'complete' });
      expect(await page(done.agent, '/my/record-of-learning')).to.contain(`<time datetime="${first}">`);
      expect(await page(busy.agent, '/my/required-learning')).to.contain(`<time datetime="${moved}">`);
    });
  });

  describe('5. the Record of Learning is the learner’s whole record', () => {
    it('lists programs and courses in progress, complete and from the past, filtered by status, paged, with earlier completions', async () => {
      const [a, b, c, d] = [await course(2), await course(), await course(), await course()];
      const current = await program([{ courseIds: [a.id, b.id], rule: 'all' }]);
      const finished = await program([{ courseIds: [c.id], rule: 'all' }]);
      const former = await program([{ courseIds: [d.id], rule: 'all' }]);
      const l = await learner();
      const due = new Date(site.db.now() + 40 * DAY).toISOString();
      await addRule(current, { source: 'individual', instanceId: l.id, due: { date: due } });
      await addRule(finished, { source: 'individual', instanceId: l.id });
      const formerRule = await addRule(former, { source: 'individual', instanceId: l.id });
      // Launch A and D (program enrolments), complete one step of A, and course C twice (an earlier time replaces the first).
      await l.agent.get(`/courses/${a.id}/launch`).set(html).expect(302);
      await l.agent.get(`/courses/${d.id}/launch`).set(html).expect(302);
      await ok(api.post(`/activities/${a.activities[0]}/completions`, { userId: l.id }));
      await ok(api.post(`/courses/${c.id}/completions`, { userId: l.id }));
      await ok(api.post(`/courses/${c.id}/completions`, { userId: l.id, completedAt: new Date(site.db.now() - 5 * DAY).toISOString() }));
      // Unassigned from `former`: its program enrolment in D is suspended.
      await ok(api.delete(`/programs/${former}/assignments/${formerRule}`), 202);
      await site.jobs.drain();

      const all = await record(l.id, '', l.token);
      expect(all.status).to.equal('all');
      const byProgram = new Map(all.programs.map((x) => [x.id, x]));
      expect(byProgram.get(current)).to.include({ status: 'in_progress', progress: 25, dueAt: due, completedAt: null, overdue: false });
      expect(byProgram.get(finished)).to.include({ status: 'complete', progress: 100 });
      expect(byProgram.get(finished)!.completedAt).to.be.a('string');
      expect(byProgram.get(former)).to.include({ status: 'past', progress: 0 });
      const byCourse = new Map(all.courses.map((x) => [x.id, x]));
      expect(byCourse.get(a.id)).to.include({ status: 'in_progress', progress: 50 });
      expect(byCourse.get(c.id)).to.include({ status: 'complete', progress: 100 });
      expect(byCourse.get(d.id)).to.include({ status: 'past', progress: 0 });
      expect(byCourse.has(b.id), 'never launched, never completed').to.equal(false);
      expect(all.history.map((h) => [h.kind, h.id])).to.deep.include(['course', c.id]);
      expect(all.totals).to.deep.equal({ programs: 3, courses: 3, history: 1 });
      expect(all.nextOffset).to.equal(null);

      for (const [status, programs, courses] of [
        ['in_progress', [current], [a.id]],
        ['complete', [finished], [c.id]],
        ['past', [former], [d.id]],
      ] as const) {
        const filtered = await record(l.id, `?status=${status}`, l.token);
        expect(
          filtered.programs.map((x) => x.id),
          status,
        ).to.deep.equal(programs);
        expect(
          filtered.courses.map((x) => x.id),
          status,
        ).to.deep.equal(courses);
        expect(filtered.history.length > 0, status).to.equal(status === 'complete');
      }
      // In progress first, then complete, then past; one row per list per page.
      const first = await record(l.id, '?limit=1', l.token);
      expect(first.programs.map((x) => x.id)).to.deep.equal([current]);
      expect(first.nextOffset).to.equal(1);
      const last = await record(l.id, '?limit=1&offset=2', l.token);
      expect(last.programs.map((x) => x.id)).to.deep.equal([former]);
      expect(last.nextOffset).to.equal(null);
      for (const bad of ['status=done', 'limit=0', 'limit=501', 'offset=-1', 'page=2']) {
        expect((await api.get(`/users/${l.id}/record-of-learning?${bad}`, l.token)).status, bad).to.equal(400);
      }

      // The page: a plain GET form (works without JavaScript) with the chosen filter selected.
      const everything = await page(l.agent, '/my/record-of-learning');
      expect(everything).to.contain('<form class="filters" method="get" action="/my/record-of-learning">');
      expect(everything).to.contain('Assigned in the past').and.to.contain('No longer enrolled').and.to.contain('Earlier completions');
      const past = await page(l.agent, '/my/record-of-learning?status=past');
      expect(past).to.contain('<option value="past" selected>');
      expect(past).to.contain(`href="/programs/${former}"`).and.to.not.contain(`href="/programs/${current}"`);
      expect(past).to.not.contain('Earlier completions');
      const inProgress = await page(l.agent, '/my/record-of-learning?status=in_progress');
      expect(inProgress).to.contain(`href="/programs/${current}"`).and.to.contain('25%').and.to.not.contain(`href="/programs/${finished}"`);
      // Anything unknown shows everything rather than failing.
      expect(await page(l.agent, '/my/record-of-learning?status=nonsense&page=abc')).to.contain('<option value="all" selected>');
      // Required Learning stays "what do I owe": only the program in progress.
      const owed = await page(l.agent, '/my/required-learning');
      expect(owed)
        .to.contain(`href="/programs/${current}"`)
        .and.to.not.contain(`href="/programs/${finished}"`)
        .and.to.not.contain(`href="/programs/${former}"`);
    });
  });
});
