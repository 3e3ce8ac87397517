/**
 * Saved reports and the administration dashboard (issue 14 item 8: "a report saved on the
 * dashboard"): saved through the API and from a report's page, checked like the report route
 * checks its filters, listed and paged, shown on /admin with the rows they have now.
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
import { PASSWORD, csrfFrom, signIn } from '../browser/scenario';

const html = { Accept: 'text/html' };

interface Saved {
  id: number;
  name: string;
  report: string;
  query: Record<string, string>;
  onDashboard: boolean;
  href: string;
  createdBy: { id: number; fullname: string } | null;
}

describe(`saved reports on the dashboard (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let learnerToken: string;
  let operator: ReturnType<typeof request.agent>;
  let programId: number;

  const api = (method: 'get' | 'post' | 'patch' | 'delete', p: string, token = admin) =>
    request(app)[method](`/api/v1${p}`).set('Authorization', `Bearer ${token}`);
  const savedCount = async () => Number((await site.db.knex('saved_reports').count({ n: '*' }))[0]!.n);

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'saved-reports-secret-0123456789abcdef' });
    site = t.site;
    app = createApp(site);
    const ops = await site.services.users.create({ username: 'ops', email: 'ops@example.com', fullname: 'Olive Operator', password: PASSWORD, isAdmin: true });
    admin = await createApiToken(site.db, ops.id);
    operator = request.agent(app);
    await signIn(operator, 'ops');

    const course = await site.services.courses.create({ shortname: 'c1', fullname: 'Course one' });
    programId = (await site.services.programs.create({ shortname: 'safety', fullname: 'Safety', courseSets: [{ courseIds: [course.id], rule: 'all' }] }))
      .program.id;
    for (const name of ['Ann Alder', 'Bob Birch', 'Cat Cedar']) {
      const username = name.split(' ')[0]!.toLowerCase();
      const { id } = await site.services.users.create({ username, email: `${username}@example.com`, fullname: name, password: PASSWORD });
      await site.services.assignment.addRule(programId, { source: 'individual', instanceId: id, due: null });
      if (username === 'ann') learnerToken = await createApiToken(site.db, id);
    }
    await site.jobs.drain();
  });
  after(async () => t?.close());

  it('saves a report with its filters through the API, refuses a taken name, a bad filter and learners, and changes nothing then', async () => {
    const res = await api('post', '/saved-reports').send({
      name: 'Safety learners',
      report: 'program_completion',
      query: { programId: String(programId), sort: 'learner' },
      onDashboard: true,
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const saved = res.body as Saved;
    expect(saved).to.include({ name: 'Safety learners', report: 'program_completion', onDashboard: true });
    expect(saved.query).to.deep.equal({ programId: String(programId), sort: 'learner' });
    expect(saved.createdBy?.fullname).to.equal('Olive Operator');
    expect(saved.href).to.equal(`/admin/reports/program_completion?programId=${programId}&sort=learner`);

    const before = await savedCount();
    const taken = await api('post', '/saved-reports').send({ name: 'Safety learners', report: 'overdue' });
    expect(taken.status).to.equal(409);
    expect(taken.body.error.code).to.equal('SAVED_REPORT_NAME_TAKEN');
    const badFilter = await api('post', '/saved-reports').send({
      name: 'Broken',
      report: 'program_completion',
      query: { programId: String(programId), status: 'bogus' },
    });
    expect(badFilter.status).to.equal(400);
    expect(badFilter.body.error.code).to.equal('QUERY_INVALID');
    expect((await api('post', '/saved-reports').send({ name: 'Nothing', report: 'no_such_report' })).status).to.equal(404);
    expect((await api('post', '/saved-reports', learnerToken).send({ name: 'Mine', report: 'overdue' })).status).to.equal(403);
    expect((await api('get', '/saved-reports', learnerToken)).status).to.equal(403);
    expect(await savedCount()).to.equal(before);
  });

  it('lists saved reports by name in pages, renames one and deletes one', async () => {
    for (const name of ['A overdue', 'B exceptions']) expect((await api('post', '/saved-reports').send({ name, report: 'overdue' })).status).to.equal(201);
    const first = await api('get', '/saved-reports?limit=2');
    expect(first.status).to.equal(200);
    expect(first.body.items.map((s: Saved) => s.name)).to.deep.equal(['A overdue', 'B exceptions']);
    const second = await api('get', `/saved-reports?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((s: Saved) => s.name)).to.deep.equal(['Safety learners']);
    expect(second.body.nextCursor).to.equal(null);

    const b = (first.body.items as Saved[])[1]!;
    const renamed = await api('patch', `/saved-reports/${b.id}`).send({ name: 'Open exceptions' });
    expect(renamed.status).to.equal(200);
    expect(renamed.body.name).to.equal('Open exceptions');
    expect((await api('delete', `/saved-reports/${b.id}`)).status).to.equal(204);
    expect((await api('get', `/saved-reports/${b.id}`)).status).to.equal(404);
  });

  it('saves a report from its page and shows it on the dashboard with the rows it has now', async () => {
    const page = await operator.get(`/admin/reports/program_completion?programId=${programId}&status=in_progress`).set(html).expect(200);
    expect(page.text).to.contain('Save these filters as a report');
    const query = /name="query" value="([^"]*)"/
      .exec(page.text)![1]!
      .replace(/&#x3D;/g, '=')
      .replace(/&amp;/g, '&');
    expect(new URLSearchParams(query).get('status')).to.equal('in_progress');
    await operator
      .post('/admin/saved-reports')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), report: 'program_completion', query, name: 'Safety: in progress', onDashboard: 'yes' })
      .expect(303)
      .expect('Location', '/admin/reports?notice=report-saved');

    const dashboard = await operator.get('/admin').set(html).expect(200);
    const panel = dashboard.text.slice(dashboard.text.indexOf('Saved reports'));
    // Three learners are in progress in Safety; "A overdue" is not on the dashboard.
    expect(panel).to.match(/Safety: in progress<\/a> <span class="figure">3<\/span>/);
    expect(panel).to.contain('Safety learners');
    expect(panel).not.to.contain('A overdue');

    // A name already taken comes back on its own form, saying why, with what was typed.
    const again = await operator
      .post('/admin/saved-reports')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), report: 'program_completion', query, name: 'Safety: in progress' })
      .expect(422);
    expect(again.text).to.contain('A saved report is already called');
    expect(again.text).to.contain('value="Safety: in progress"');

    // Hidden from the dashboard from the reports page, then deleted there.
    const list = await operator.get('/admin/reports').set(html).expect(200);
    const id = /action="\/admin\/saved-reports\/(\d+)\/dashboard"/.exec(list.text.slice(list.text.indexOf('Safety: in progress')))![1];
    await operator
      .post(`/admin/saved-reports/${id}/dashboard`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text), show: 'no' })
      .expect(303);
    expect((await operator.get('/admin').set(html)).text).not.to.contain('Safety: in progress');
    await operator
      .post(`/admin/saved-reports/${id}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text) })
      .expect(303);
    expect((await operator.get('/admin/reports').set(html)).text).not.to.contain('Safety: in progress');
  });
});
