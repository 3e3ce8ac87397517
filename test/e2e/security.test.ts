import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { assign, createCourse, createLaunchSite, createProgram, createUser, csrfFrom, enrolments, login, type LaunchSite } from './launch-fixtures';

const html = { Accept: 'text/html' };
const EVIL_COURSE = '<script>alert("course")</script>Course';
const EVIL_PROGRAM = '<img src=x onerror=alert(1)>Program';

describe('security: what a learner cannot do', function () {
  this.timeout(60_000);
  let t: LaunchSite;
  let site: Site;
  let app: express.Express;
  let alice: number;
  let bob: number;
  let aliceToken: string;
  let first: number;
  let locked: number;
  let programId: number;
  let agent: ReturnType<typeof request.agent>;

  before(async () => {
    t = await createLaunchSite();
    site = t.site;
    app = createApp(site);
    alice = await createUser(site, 'alice', { fullname: 'Alice' });
    bob = await createUser(site, 'bob', { fullname: 'Bob' });
    await createUser(site, 'root', { isAdmin: true });
    aliceToken = await createApiToken(site.db, alice);
    first = await createCourse(site, 'FIRST', 'First Course');
    locked = await createCourse(site, 'EVIL', EVIL_COURSE);
    programId = await createProgram(
      site,
      'evil',
      [
        { label: 'Start', courseIds: [first], rule: 'all', operator: 'then' },
        { label: 'Next', courseIds: [locked], rule: 'all' },
      ],
      { fullname: EVIL_PROGRAM },
    );
    await assign(site, programId, alice);
    await assign(site, programId, bob);
    // Bob has done the first set; Alice has not.
    await site.services.completion.recordCourseCompletion(first, bob);
    agent = request.agent(app);
    await login(agent, 'alice');
  });
  after(async () => {
    await t?.close();
  });

  it('cannot read another learner’s progress or launch diagnostics through the API', async () => {
    const other = await request(app).get(`/api/v1/programs/${programId}/learners/${bob}`).set('Authorization', `Bearer ${aliceToken}`).expect(403);
    expect(other.body.error.code).to.equal('FORBIDDEN');
    await request(app).get(`/api/v1/programs/${programId}/learners/${alice}`).set('Authorization', `Bearer ${aliceToken}`).expect(200);
    const check = await request(app).get(`/api/v1/courses/${locked}/launch-check/${bob}`).set('Authorization', `Bearer ${aliceToken}`).expect(403);
    expect(check.body.error.code).to.equal('FORBIDDEN');
    expect(await enrolments(site, bob, locked), 'nothing was written for Bob').to.deep.equal([]);
  });

  it('cannot use operator API endpoints', async () => {
    for (const [method, path] of [
      ['get', '/api/v1/plugins'],
      ['post', '/api/v1/courses'],
      ['post', `/api/v1/programs/${programId}/assignments`],
      ['post', '/api/v1/plugins/enrol_program/disable'],
    ] as const) {
      const res = await request(app)[method](path).set('Authorization', `Bearer ${aliceToken}`).send({});
      expect(res.status, `${method} ${path}`).to.equal(403);
    }
    expect((await site.plugins.list()).find((p) => p.id === 'enrol_program')?.enabled).to.equal(true);
  });

  it('does not authenticate API calls with the session cookie (so forged cross-site API calls have no credentials)', async () => {
    await agent.get(`/api/v1/programs/${programId}/learners/${alice}`).expect(401);
  });

  it('cannot reach operator pages', async () => {
    for (const path of ['/admin', '/admin/plugins', `/admin/launch-check?userId=${bob}&courseId=${locked}`, `/admin/programs/${programId}/learners/${bob}`]) {
      const res = await agent.get(path).set(html);
      expect(res.status, path).to.equal(403);
      expect(res.text, path).to.not.contain('Bob');
    }
  });

  it('cannot get into a locked course however the URL is typed, even though another learner may', async () => {
    await agent.get(`/courses/${locked}/launch`).set(html).expect(403);
    await agent.get(`/courses/${locked}`).set(html).expect(403);
    const activity = (await site.services.courses.addActivity(locked, { type: 'page', name: 'Secret page' })).id;
    const res = await agent.get(`/activities/${activity}`).set(html).expect(403);
    expect(res.text).to.not.contain('Secret page');
    expect(await enrolments(site, alice, locked)).to.deep.equal([]);
    const bobAgent = request.agent(app);
    await login(bobAgent, 'bob');
    await bobAgent.get(`/courses/${locked}/launch`).set(html).expect(302);
  });

  it('cannot submit a form without the session’s CSRF token', async () => {
    const rootAgent = request.agent(app);
    await login(rootAgent, 'root');
    const noToken = await rootAgent.post('/admin/plugins/enrol_program/disable').type('form').send({});
    expect(noToken.status).to.equal(403);
    expect(noToken.text).to.contain('This form has expired or did not come from this site');
    // A token from someone else's session is no good either.
    const aliceForm = await agent.get('/login').set(html).expect(200);
    await rootAgent
      .post('/admin/plugins/enrol_program/disable')
      .type('form')
      .send({ _csrf: csrfFrom(aliceForm.text) })
      .expect(403);
    expect((await site.plugins.list()).find((p) => p.id === 'enrol_program')?.enabled).to.equal(true);
    await agent.post('/logout').type('form').send({}).expect(403);
    await agent.get(`/courses/${first}/launch`).set(html).expect(302).expect('location', `/courses/${first}`);
  });

  it('escapes HTML in program and course names on the launch and diagnostics pages', async () => {
    const denied = await agent.get(`/courses/${locked}/launch`).set(html).expect(403);
    expect(denied.text).to.not.contain('<script>alert');
    expect(denied.text).to.contain('&lt;script&gt;alert(&quot;course&quot;)&lt;/script&gt;Course');
    const rootAgent = request.agent(app);
    await login(rootAgent, 'root');
    const check = await rootAgent.get(`/admin/launch-check?userId=${alice}&courseId=${locked}`).set(html).expect(200);
    expect(check.text).to.not.contain('<script>alert').and.not.contain('<img src=x');
    expect(check.text).to.contain('&lt;script&gt;');
    const carol = await createUser(site, 'carol');
    const other = await createProgram(
      site,
      'evil2',
      [
        { label: 'Gate', courseIds: [first], rule: 'all', operator: 'then' },
        { label: 'After', courseIds: [locked], rule: 'all' },
      ],
      { fullname: '<b>Second</b>' },
    );
    await assign(site, programId, carol);
    await assign(site, other, carol);
    const carolAgent = request.agent(app);
    await login(carolAgent, 'carol');
    const two = await carolAgent.get(`/courses/${locked}/launch`).set(html).expect(403);
    expect(two.text).to.contain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;Program:').and.contain('&lt;b&gt;Second&lt;/b&gt;:');
    expect(two.text).to.not.contain('<img src=x').and.not.contain('<b>Second');
  });
});
