/**
 * Learning plans (tool_learningplan) as DOMAIN 4.1's conflicting route: a program in a learner's plan
 * makes any assignment rule that reaches them raise `already_assigned`, through the REST API and the
 * operator's pages over real HTTP, on the database under test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';
import { PASSWORD, csrfFrom, signIn } from '../browser/scenario';

const html = { Accept: 'text/html' };
const PLUGINS = ['tool_learningplan', 'assign_audience', 'enrol_program'];

describe(`learning plans (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let pluginsDir: string;
  let admin: string;
  let adminAgent: ReturnType<typeof request.agent>;

  interface Person {
    id: number;
    token: string;
    job: number;
  }
  let seq = 0;
  async function person(fullname: string, managerJob?: number): Promise<Person> {
    const username = `plan${++seq}`;
    const { id } = await site.services.users.create({ username, email: `${username}@example.com`, fullname, password: PASSWORD });
    const job = (await site.services.jobAssignments.create(id, managerJob === undefined ? {} : { managerJobAssignmentId: managerJob })).id;
    return { id, token: await createApiToken(site.db, id), job };
  }
  const api = (token: string) => ({
    get: (p: string) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
    post: (p: string, body: object) => request(app).post(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send(body),
    patch: (p: string, body: object) => request(app).patch(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send(body),
    delete: (p: string) => request(app).delete(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
  });
  const state = (programId: number, userId: number) => site.services.assignment.learnerAssignment(programId, userId);

  let manager: Person;
  let ann: Person; // follows the program in her plan before any rule reaches her
  let bob: Person; // assigned by the rule
  let cyd: Person; // in nobody's team
  let dan: Person; // plans the program, then joins the audience
  let programId: number;
  let audienceId: number;
  let ruleId: number;

  before(async () => {
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-plan-plugins-'));
    for (const id of PLUGINS) fs.symlinkSync(path.join(projectRoot, 'plugins', id), path.join(pluginsDir, id), 'dir');
    t = await createTestSite({ pluginsDir, sessionSecret: 'learning-plan-test-secret-0123456789' });
    site = t.site;
    app = createApp(site);
    await site.services.users.create({ username: 'plan_admin', email: 'plan_admin@example.com', fullname: 'Ada Admin', isAdmin: true, password: PASSWORD });
    admin = await createApiToken(site.db, (await site.services.users.findByUsername('plan_admin'))!.id);
    adminAgent = request.agent(app);
    await signIn(adminAgent, 'plan_admin');

    manager = await person('Mia Manager');
    ann = await person('Ann Planner', manager.job);
    bob = await person('Bob Ruled', manager.job);
    cyd = await person('Cyd Outsider');
    dan = await person('Dan Later');
    const course = await site.services.courses.create({ shortname: 'lead_c', fullname: 'Leading conversations' });
    const created = await site.services.programs.create({
      shortname: 'LEAD',
      fullname: 'Team leader pathway',
      courseSets: [{ label: 'Conversations', courseIds: [course.id], rule: 'all' }],
    });
    programId = created.program.id;
    audienceId = (await site.services.audiences.create({ name: 'Future leads' })).id;
    for (const who of [ann, bob]) await site.services.audiences.addMember(audienceId, who.id);
  });

  after(async () => {
    await t?.close();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  });

  it('keeps a plan through the API: the learner and their managers read it, only an administrator changes it', async () => {
    const added = await api(admin).post(`/tool_learningplan/users/${ann.id}/plan`, { programId });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    expect(added.body).to.include({ programId, fullname: 'Team leader pathway', shortname: 'LEAD', programAssignment: 'none' });
    expect(added.body.addedBy.fullname).to.equal('Ada Admin');

    const own = await api(ann.token).get('/tool_learningplan/users/me/plan').expect(200);
    expect(own.body.items.map((i: { programId: number }) => i.programId)).to.deep.equal([programId]);
    expect(own.body.nextCursor).to.equal(null);
    await api(manager.token).get(`/tool_learningplan/users/${ann.id}/plan`).expect(200);
    const other = await api(cyd.token).get(`/tool_learningplan/users/${ann.id}/plan`).expect(403);
    expect(other.body.error.code).to.equal('FORBIDDEN');
    await api(ann.token).post(`/tool_learningplan/users/${ann.id}/plan`, { programId }).expect(403);
    await api(ann.token).delete(`/tool_learningplan/users/${ann.id}/plan/${programId}`).expect(403);

    const twice = await api(admin).post(`/tool_learningplan/users/${ann.id}/plan`, { programId }).expect(409);
    expect(twice.body.error.code).to.equal('PROGRAM_ALREADY_PLANNED');
    const unknown = await api(admin).post(`/tool_learningplan/users/${ann.id}/plan`, { programId: 999_999 }).expect(404);
    expect(unknown.body.error.code).to.equal('NOT_FOUND');
    const bad = await api(admin).post(`/tool_learningplan/users/${ann.id}/plan`, { programId: 'LEAD' }).expect(400);
    expect(JSON.stringify(bad.body.error)).to.contain('programId');
    await api(admin).get('/tool_learningplan/users/999999/plan').expect(404);
    // Refusals changed nothing.
    expect((await api(admin).get(`/tool_learningplan/users/${ann.id}/plan`).expect(200)).body.items).to.have.length(1);
  });

  it('raises already_assigned for a planner when any rule reaches them, and assigns everyone else', async () => {
    const rule = await api(admin).post(`/programs/${programId}/assignments`, {
      source: 'audience',
      instanceId: audienceId,
      due: { within: 'P6M', event: 'assignment_date' },
    });
    expect(rule.status, JSON.stringify(rule.body)).to.equal(201);
    ruleId = rule.body.rule.id;
    await site.jobs.drain();

    expect((await state(programId, bob.id)).assigned).to.equal(true);
    const held = await state(programId, ann.id);
    expect(held.assigned).to.equal(false);
    expect(held.exception?.type).to.equal('already_assigned');
    const listed = await api(admin).get(`/programs/${programId}/exceptions`).expect(200);
    expect(listed.body.items.map((e: { userId: number; type: string }) => [e.userId, e.type])).to.deep.equal([[ann.id, 'already_assigned']]);
    expect(listed.body.items[0].explanation).to.contain('learning plan');
    // Her plan shows where the program's own assignment stands.
    const plan = await api(ann.token).get('/tool_learningplan/users/me/plan').expect(200);
    expect(plan.body.items[0].programAssignment).to.equal('exception');

    // A learner the program already assigns cannot also plan it.
    const refused = await api(admin).post(`/tool_learningplan/users/${bob.id}/plan`, { programId }).expect(409);
    expect(refused.body.error.code).to.equal('PROGRAM_ALREADY_ASSIGNED');
  });

  it('raises it on the incremental path too: a planner who joins the audience later', async () => {
    await api(admin).post(`/tool_learningplan/users/${dan.id}/plan`, { programId }).expect(201);
    await site.services.audiences.addMember(audienceId, dan.id);
    await site.jobs.drain();
    const held = await state(programId, dan.id);
    expect(held.assigned).to.equal(false);
    expect(held.exception?.type).to.equal('already_assigned');
  });

  it("stands by the operator's assign: a later due-date change does not take the learner out again", async () => {
    const open = await api(admin).get(`/programs/${programId}/exceptions`).expect(200);
    const annException = open.body.items.find((e: { userId: number }) => e.userId === ann.id);
    const resolved = await api(admin).post('/exceptions/resolve', { exceptionIds: [annException.id], action: 'assign' });
    expect(resolved.status, JSON.stringify(resolved.body)).to.equal(200);
    expect((await state(programId, ann.id)).assigned).to.equal(true);

    const moved = await api(admin).patch(`/programs/${programId}/assignments/${ruleId}`, { due: { within: 'P9M', event: 'assignment_date' } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    await site.jobs.drain();
    const after = await state(programId, ann.id);
    expect(after.assigned).to.equal(true);
    expect(after.exception).to.equal(null);
    // Dan's exception, left open, is still the one raised when he joined.
    expect((await state(programId, dan.id)).exception?.type).to.equal('already_assigned');
  });

  it('shows the plan on the user page and keeps it on its own page, programs picked by name', async () => {
    const userPage = await adminAgent.get(`/admin/users/${cyd.id}`).set(html).expect(200);
    expect(userPage.text).to.contain('Learning plan');
    expect(userPage.text).to.contain('No programs in their learning plan.');
    expect(userPage.text).to.contain(`href="/admin/users/${cyd.id}/learning-plan"`);

    const page = await adminAgent.get(`/admin/users/${cyd.id}/learning-plan`).set(html).expect(200);
    expect(page.text).to.contain('Cyd Outsider has no programs in their plan.');
    const none = await adminAgent
      .post(`/admin/users/${cyd.id}/learning-plan`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), program_q: 'Nothing like it' })
      .set(html)
      .expect(422);
    expect(none.text).to.contain('Program: no program matches “Nothing like it”');
    await adminAgent
      .post(`/admin/users/${cyd.id}/learning-plan`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), program_q: 'team leader' })
      .expect(303)
      .expect('Location', `/admin/users/${cyd.id}/learning-plan?notice=added`);
    const shown = await adminAgent.get(`/admin/users/${cyd.id}/learning-plan?notice=added`).set(html).expect(200);
    expect(shown.text).to.contain('The program was added to the plan.');
    expect(shown.text).to.contain('Team leader pathway');
    expect(shown.text).to.contain('Not assigned by the program');

    // Bob is assigned by the program: the refusal is said on the page, in words.
    const bobPage = await adminAgent.get(`/admin/users/${bob.id}/learning-plan`).set(html).expect(200);
    const refused = await adminAgent
      .post(`/admin/users/${bob.id}/learning-plan`)
      .type('form')
      .send({ _csrf: csrfFrom(bobPage.text), program_q: 'Team leader pathway' })
      .set(html)
      .expect(409);
    expect(refused.text).to.contain('already assigned this program by its own assignment rules');

    await adminAgent
      .post(`/admin/users/${cyd.id}/learning-plan/${programId}/remove`)
      .type('form')
      .send({ _csrf: csrfFrom(shown.text) })
      .expect(303);
    expect((await api(admin).get(`/tool_learningplan/users/${cyd.id}/plan`).expect(200)).body.items).to.deep.equal([]);
    await api(admin).delete(`/tool_learningplan/users/${cyd.id}/plan/${programId}`).expect(404);

    // A learner gets no operator page, and a form without its token changes nothing.
    const learner = request.agent(app);
    await signIn(learner, 'plan4');
    await learner.get(`/admin/users/${cyd.id}/learning-plan`).set(html).expect(403);
    await adminAgent.post(`/admin/users/${cyd.id}/learning-plan`).type('form').send({ program_q: 'Team leader pathway' }).expect(403);
    expect((await api(admin).get(`/tool_learningplan/users/${cyd.id}/plan`).expect(200)).body.items).to.deep.equal([]);
  });

  it('pages a long plan: the API by cursor, the user page up to twenty with a link to all of them', async () => {
    const course = await site.services.courses.create({ shortname: 'elective_c', fullname: 'Elective course' });
    const names: string[] = [];
    for (let n = 1; n <= 21; n++) {
      const name = `Elective ${String(n).padStart(2, '0')}`;
      const { program } = await site.services.programs.create({ shortname: `EL${n}`, fullname: name, courseSets: [{ courseIds: [course.id], rule: 'all' }] });
      await api(admin).post(`/tool_learningplan/users/${cyd.id}/plan`, { programId: program.id }).expect(201);
      names.push(name);
    }
    const first = await api(cyd.token).get('/tool_learningplan/users/me/plan?limit=20').expect(200);
    expect(first.body.items).to.have.length(20);
    const rest = await api(cyd.token)
      .get(`/tool_learningplan/users/me/plan?limit=20&cursor=${encodeURIComponent(first.body.nextCursor)}`)
      .expect(200);
    expect([...first.body.items, ...rest.body.items].map((i: { fullname: string }) => i.fullname)).to.deep.equal(names);
    expect(rest.body.nextCursor).to.equal(null);
    await api(cyd.token).get('/tool_learningplan/users/me/plan?limit=0').expect(400);

    const userPage = await adminAgent.get(`/admin/users/${cyd.id}`).set(html).expect(200);
    expect(userPage.text).to.contain('Elective 20');
    expect(userPage.text).not.to.contain('Elective 21');
    expect(userPage.text).to.contain('All 21 programs of the learning plan');
  });
});
