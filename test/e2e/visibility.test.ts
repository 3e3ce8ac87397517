import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { assign, createCourse, createLaunchSite, createProgram, createUser, enrolments, login, type LaunchSite } from './launch-fixtures';

/**
 * Issue 10 item 6: a learner sees a course or a program only when it is visible / available, or
 * when it is linked to them (assigned, enrolled, completed); otherwise it does not exist for them.
 */
describe('what a learner may see', function () {
  let t: LaunchSite;
  let site: Site;
  let app: express.Express;
  let lena: number;
  let vic: number;
  let lenaToken: string;
  let vicToken: string;
  let adminToken: string;
  let visibleCourse: number;
  let hiddenCourse: number;
  let hiddenActivity: number;
  let openProgram: number;
  let closedProgram: number;
  let agent: ReturnType<typeof request.agent>;
  const html = { Accept: 'text/html' };
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

  before(async function () {
    t = await createLaunchSite();
    site = t.site;
    app = createApp(site);
    lena = await createUser(site, 'lena', { fullname: 'Lena Learner' });
    vic = await createUser(site, 'vic', { fullname: 'Vic Enrolled' });
    lenaToken = await createApiToken(site.db, lena);
    vicToken = await createApiToken(site.db, vic);
    adminToken = await createApiToken(site.db, await createUser(site, 'ops', { isAdmin: true }));
    visibleCourse = await createCourse(site, 'VIS', 'Visible basics');
    hiddenCourse = (await site.services.courses.create({ shortname: 'HID', fullname: 'Secret draft course', visible: false })).id;
    hiddenActivity = (await site.services.courses.addActivity(hiddenCourse, { type: 'page', name: 'Draft page' })).id;
    openProgram = await createProgram(site, 'open', [{ label: 'Everything', courseIds: [visibleCourse, hiddenCourse], rule: 'any' }], {
      fullname: 'Open program',
    });
    closedProgram = await createProgram(site, 'closed', [{ label: 'Later', courseIds: [visibleCourse], rule: 'all' }], {
      fullname: 'Closed program',
      available: false,
    });
    await assign(site, openProgram, lena);
    await site.services.enrolments.enrol(vic, hiddenCourse, 'manual');
    agent = request.agent(app);
    await login(agent, 'lena');
  });

  after(async function () {
    await t?.close();
  });

  it('answers 404 for a hidden course to a learner with no link to it, and shows it to its enrolled learner and to admins', async function () {
    const refused = await request(app).get(`/api/v1/courses/${hiddenCourse}`).set(auth(lenaToken)).expect(404);
    expect(refused.body.error.code).to.equal('NOT_FOUND');
    expect(JSON.stringify(refused.body)).to.not.contain('Secret draft course');
    // The same answer as a course that does not exist: nothing tells them apart.
    const missing = await request(app).get('/api/v1/courses/999999').set(auth(lenaToken)).expect(404);
    expect(Object.keys(refused.body.error)).to.deep.equal(Object.keys(missing.body.error));

    const enrolled = await request(app).get(`/api/v1/courses/${hiddenCourse}`).set(auth(vicToken)).expect(200);
    expect(enrolled.body).to.include({ fullname: 'Secret draft course', visible: false });
    const admin = await request(app).get(`/api/v1/courses/${hiddenCourse}`).set(auth(adminToken)).expect(200);
    expect(admin.body.activities).to.have.length(1);
    await request(app).get(`/api/v1/courses/${visibleCourse}`).set(auth(lenaToken)).expect(200);
  });

  it('refuses a hidden course at launch with COURSE_HIDDEN, even where an enrolment plugin would let the learner in', async function () {
    // Lena is assigned to a program holding the hidden course: enrol_program would enrol her.
    const check = await request(app).get(`/api/v1/courses/${hiddenCourse}/launch-check/${lena}`).set(auth(adminToken)).expect(200);
    expect(check.body.outcome).to.include({ allowed: false, decidedBy: 'launch', code: 'COURSE_HIDDEN' });

    // The launch (through the fast path), the course page and its activity are all "not found".
    const launch = await agent.get(`/courses/${hiddenCourse}/launch`).set(html).expect(404);
    expect(launch.text).to.not.contain('Secret draft course');
    await agent.get(`/courses/${hiddenCourse}`).set(html).expect(404);
    await agent.get(`/activities/${hiddenActivity}`).set(html).expect(404);
    expect(await enrolments(site, lena, hiddenCourse)).to.deep.equal([]);

    // A visible course of the same program opens as before.
    await agent.get(`/courses/${visibleCourse}/launch`).set(html).expect(302).expect('location', `/courses/${visibleCourse}`);
    expect(await enrolments(site, lena, visibleCourse)).to.deep.equal([{ method: 'program', status: 'active' }]);
  });

  it('lets a learner enrolled in a course go on using it after it is hidden', async function () {
    const vicAgent = request.agent(app);
    await login(vicAgent, 'vic');
    await vicAgent.get(`/courses/${hiddenCourse}/launch`).set(html).expect(302).expect('location', `/courses/${hiddenCourse}`);
    await vicAgent.get(`/courses/${hiddenCourse}`).set(html).expect(200);
  });

  it("lists a visible program's hidden courses to a learner only as a count", async function () {
    const page = await agent.get(`/programs/${openProgram}`).set(html).expect(200);
    expect(page.text).to.contain('Visible basics');
    expect(page.text).to.not.contain('Secret draft course');
    expect(page.text).to.contain('1 more course is not open to you yet');
    // The operator's view of the same learner names every course.
    const operator = await request(app).get(`/admin/programs/${openProgram}/learners/${lena}`).set(html).set(auth(adminToken)).expect(200);
    expect(operator.text).to.contain('Secret draft course');
  });

  it('answers 404 for an unavailable program to a learner who is not assigned, on the API and the page', async function () {
    await request(app).get(`/api/v1/programs/${closedProgram}`).set(auth(lenaToken)).expect(404);
    await agent.get(`/programs/${closedProgram}`).set(html).expect(404);
    await request(app).get(`/api/v1/programs/${closedProgram}/learners/me`).set(auth(lenaToken)).expect(404);
    const admin = await request(app).get(`/api/v1/programs/${closedProgram}`).set(auth(adminToken)).expect(200);
    expect(admin.body).to.include({ fullname: 'Closed program', available: false });
    await request(app).get(`/api/v1/programs/${openProgram}`).set(auth(vicToken)).expect(200);

    // Once assigned (even while the program is switched off) she sees it.
    await assign(site, closedProgram, lena);
    try {
      await request(app).get(`/api/v1/programs/${closedProgram}`).set(auth(lenaToken)).expect(200);
      const page = await agent.get(`/programs/${closedProgram}`).set(html).expect(200);
      expect(page.text).to.contain('not available at the moment');
    } finally {
      await site.db.knex('program_user_assignments').where({ program_id: closedProgram, user_id: lena }).delete();
    }
  });
});
