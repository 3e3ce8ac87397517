import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { deny } from '../../core/kernel/hooks/hook-map';
import { assign, createCourse, createLaunchSite, createProgram, createUser, enrolments, login, type LaunchSite } from './launch-fixtures';

const html = { Accept: 'text/html' };

describe('course launch (pages)', function () {
  this.timeout(60_000);
  let t: LaunchSite;
  let site: Site;
  let app: express.Express;
  let learner: number;
  let adminToken: string;
  let courseA: number, courseB: number, courseC: number;
  let activityC: number;
  let programId: number;
  let agent: ReturnType<typeof request.agent>;

  before(async () => {
    t = await createLaunchSite();
    site = t.site;
    app = createApp(site);
    learner = await createUser(site, 'lena', { fullname: 'Lena Learner' });
    adminToken = await createApiToken(site.db, await createUser(site, 'ops', { isAdmin: true }));
    courseA = await createCourse(site, 'A', 'Course A');
    courseB = await createCourse(site, 'B', 'Course B');
    courseC = await createCourse(site, 'C', 'Course C');
    activityC = (await site.services.courses.addActivity(courseC, { type: 'page', name: 'Welcome to C' })).id;
    programId = await createProgram(
      site,
      'onboarding',
      [
        { label: 'Basics', courseIds: [courseA, courseB], rule: 'all', operator: 'then' },
        { label: 'Practice', courseIds: [courseC], rule: 'any' },
      ],
      { fullname: 'Onboarding' },
    );
    await assign(site, programId, learner);
    agent = request.agent(app);
    await login(agent, 'lena');
  });
  after(async () => {
    await t?.close();
  });

  it('launches a course of an open set: 302 to the course page and one active program enrolment', async () => {
    const res = await agent.get(`/courses/${courseA}/launch`).set(html).expect(302);
    expect(res.headers.location).to.equal(`/courses/${courseA}`);
    expect(await enrolments(site, learner, courseA)).to.deep.equal([{ method: 'program', status: 'active' }]);
    await agent.get(`/courses/${courseA}`).set(html).expect(200);
    // Launching again changes nothing.
    await agent.get(`/courses/${courseA}/launch`).set(html).expect(302);
    expect(await enrolments(site, learner, courseA)).to.have.length(1);
  });

  it('refuses a course of a locked set with a 403 page saying what to complete first, by launch link, course URL or activity URL', async () => {
    const launch = await agent.get(`/courses/${courseC}/launch`).set(html).expect(403);
    expect(launch.type).to.equal('text/html');
    expect(launch.text).to.contain('Course C');
    expect(launch.text).to.contain('Complete &quot;Basics&quot; (Course A, Course B) first');
    const page = await agent.get(`/courses/${courseC}`).set(html).expect(403);
    expect(page.text).to.contain('Complete &quot;Basics&quot; (Course A, Course B) first');
    const activity = await agent.get(`/activities/${activityC}`).set(html).expect(403);
    expect(activity.text).to.contain('Complete &quot;Basics&quot; (Course A, Course B) first');
    expect(activity.text).to.not.contain('Welcome to C');
    expect(await enrolments(site, learner, courseC)).to.deep.equal([]);
  });

  it('opens the next set once the first is complete', async () => {
    await site.services.completion.recordCourseCompletion(courseA, learner);
    const stillLocked = await agent.get(`/courses/${courseC}/launch`).set(html).expect(403);
    expect(stillLocked.text).to.contain('Complete &quot;Basics&quot; (Course B) first');
    await site.services.completion.recordCourseCompletion(courseB, learner);
    await agent.get(`/courses/${courseC}/launch`).set(html).expect(302).expect('location', `/courses/${courseC}`);
    await agent.get(`/activities/${activityC}`).set(html).expect(200);
  });

  it('tells a learner who is not assigned, and 404s an unknown course', async () => {
    await createUser(site, 'nina');
    const other = request.agent(app);
    await login(other, 'nina');
    const res = await other.get(`/courses/${courseA}/launch`).set(html).expect(403);
    expect(res.text).to.contain('You are not assigned to a program containing this course');
    await other.get('/courses/999999/launch').set(html).expect(404);
  });

  it('shows operators every guard’s decision without enrolling anyone (page and API)', async () => {
    const viewer = await createUser(site, 'vera');
    await assign(site, programId, viewer);
    const report = await request(app).get(`/api/v1/courses/${courseA}/launch-check/${viewer}`).set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect(report.body.outcome).to.include({ allowed: true, decidedBy: 'enrol_program', code: 'ENROL_PROGRAM_WOULD_ENROL' });
    expect(report.body.decisions.map((d: { plugin: string; verdict: string }) => [d.plugin, d.verdict])).to.deep.equal([
      ['launch', 'abstain'],
      ['enrol_program', 'allow'],
    ]);
    const locked = await request(app).get(`/api/v1/courses/${courseC}/launch-check/${viewer}`).set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect(locked.body.outcome.allowed).to.equal(false);
    expect(locked.body.outcome.reasons).to.deep.equal(['Complete "Basics" (Course A, Course B) first']);
    const page = await request(app)
      .get(`/admin/launch-check?userId=${viewer}&courseId=${courseC}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .set(html)
      .expect(200);
    expect(page.text).to.contain('Refused').and.contain('enrol_program').and.contain('ENROL_PROGRAM_SET_LOCKED');
    expect(await enrolments(site, viewer, courseA), 'explain never enrols').to.deep.equal([]);
    await request(app).get(`/api/v1/courses/${courseA}/launch-check/999999`).set('Authorization', `Bearer ${adminToken}`).expect(404);
  });

  it('refuses an enrolled learner when a guard ranked above the enrolment check denies, and lets them in again after', async () => {
    await agent.get(`/courses/${courseA}/launch`).set(html).expect(302);
    expect(await enrolments(site, learner, courseA)).to.deep.equal([{ method: 'program', status: 'active' }]);
    const remove = site.hooks.add('test_maintenance', 'onCourseLaunch', () => deny('Courses are closed for maintenance until 6 pm.', 'MAINTENANCE'), {
      priority: 5000,
    });
    try {
      const res = await agent.get(`/courses/${courseA}/launch`).set(html).expect(403);
      expect(res.text).to.contain('Courses are closed for maintenance until 6 pm.');
    } finally {
      remove();
    }
    await agent.get(`/courses/${courseA}/launch`).set(html).expect(302);
  });

  it('does not count a suspended enrolment as enrolled: the program guard reactivates it on launch', async () => {
    await site.db.knex('enrolments').where({ user_id: learner, course_id: courseA }).update({ status: 'suspended' });
    const seen: string[] = [];
    const stop = site.hooks.intercept((event) => {
      if (event.hook === 'onCourseLaunch') seen.push(`${event.plugin}:${event.outcome}`);
    });
    try {
      await agent.get(`/courses/${courseA}/launch`).set(html).expect(302);
    } finally {
      stop();
    }
    expect(seen).to.deep.equal(['launch:abstain', 'enrol_program:allow']);
    expect(await enrolments(site, learner, courseA)).to.deep.equal([{ method: 'program', status: 'active' }]);
  });

  it('stops enrolling through programs when enrol_program is disabled, but keeps existing enrolments working', async () => {
    const fresh = await createUser(site, 'felix');
    await assign(site, programId, fresh);
    const felix = request.agent(app);
    await login(felix, 'felix');
    await site.plugins.disable('enrol_program');
    try {
      const res = await felix.get(`/courses/${courseA}/launch`).set(html).expect(403);
      expect(res.text).to.contain('You are not enrolled in this course.');
      await agent.get(`/courses/${courseA}/launch`).set(html).expect(302);
    } finally {
      await site.plugins.enable('enrol_program');
    }
    await felix.get(`/courses/${courseA}/launch`).set(html).expect(302);
  });
});
