import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { applyStoredTheme } from '../../core/kernel/themes/theme-setting';

import { createTestSite, type TestSite } from '../utils/site';
import { csrfFrom, seedScenario, signIn, type Scenario } from '../browser/scenario';

const html = { Accept: 'text/html' };
type Agent = ReturnType<typeof request.agent>;

describe('operator pages', () => {
  let t: TestSite;
  let site: Site;
  let s: Scenario;
  let app: express.Express;
  let admin: Agent;
  let learner: Agent;

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'admin-test-secret-0123456789' });
    site = t.site;
    s = await seedScenario(site);
    app = createApp(site);
    admin = request.agent(app);
    learner = request.agent(app);
    await signIn(admin, 'operator');
    await signIn(learner, 'lena');
  });
  after(async () => t?.close());
  afterEach(() => site.themes.setTheme('default'));

  /** A page's CSRF token for the agent's session. */
  const tokenFor = async (agent: Agent, url = '/my/required-learning'): Promise<string> => csrfFrom((await agent.get(url).set(html).expect(200)).text);

  it('refuses every operator page and form to a learner with 403, changing nothing', async () => {
    for (const url of [
      '/admin',
      '/admin/plugins',
      '/admin/programs',
      `/admin/programs/${s.onboardingId}/edit`,
      `/admin/programs/${s.onboardingId}/assignments`,
      '/admin/exceptions',
      `/admin/programs/${s.onboardingId}/learners/${s.otherId}`,
      '/admin/theme',
    ]) {
      const res = await learner.get(url).set(html);
      expect(res.status, url).to.equal(403);
    }
    const token = await tokenFor(learner);
    await learner.post('/admin/plugins/tool_sitestats/disable').type('form').send({ _csrf: token }).expect(403);
    await learner.post('/admin/theme').type('form').send({ _csrf: token, theme: 'high-contrast' }).expect(403);
    expect((await site.plugins.list()).find((p) => p.id === 'tool_sitestats')?.state).to.equal('enabled');
    expect(site.themes.activeTheme()).to.equal('default');
    // The header offers no way in either.
    expect((await learner.get('/my/required-learning').set(html)).text).to.not.contain('href="/admin"');
  });

  it('lists plugins with version and state, and disables and enables one with CSRF-protected buttons', async () => {
    const page = await admin.get('/admin/plugins').set(html).expect(200);
    const row = page.text.split('id="plugin-tool_sitestats"')[1]!.split('</tr>')[0]!;
    expect(row).to.contain('1.0.0').and.to.contain('badge-enabled').and.to.contain('action="/admin/plugins/tool_sitestats/disable"');
    const bearer = await createApiToken(site.db, s.adminId);
    await request(app).get('/api/v1/tool_sitestats/summary').set('Authorization', `Bearer ${bearer}`).expect(200);

    await admin.post('/admin/plugins/tool_sitestats/disable').type('form').send({}).expect(403);
    expect((await site.plugins.list()).find((p) => p.id === 'tool_sitestats')?.state).to.equal('enabled');

    const done = await admin
      .post('/admin/plugins/tool_sitestats/disable')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    expect(done.headers.location).to.equal('/admin/plugins?notice=plugin-disabled');
    const after = await admin.get(done.headers.location!).set(html).expect(200);
    expect(after.text).to.contain('The plugin was disabled.');
    expect(after.text.split('id="plugin-tool_sitestats"')[1]!.split('</tr>')[0]).to.contain('badge-disabled').and.to.contain('/enable"');
    await request(app).get('/api/v1/tool_sitestats/summary').set('Authorization', `Bearer ${bearer}`).expect(404);
    await admin.get('/admin/sitestats').set(html).expect(404);

    await admin
      .post('/admin/plugins/tool_sitestats/enable')
      .type('form')
      .send({ _csrf: csrfFrom(after.text) })
      .expect(303);
    await admin.get('/admin/sitestats').set(html).expect(200);
  });

  it('edits a plugin setting on a form generated from its settingsSchema: bad values are explained and saved values reach the running plugin', async () => {
    const list = await admin.get('/admin/plugins').set(html).expect(200);
    expect(list.text.split('id="plugin-enrol_program"')[1]!.split('</tr>')[0]).to.contain('href="/admin/plugins/enrol_program/settings"');
    // A plugin without a settingsSchema offers no form.
    expect(list.text.split('id="plugin-tool_sitestats"')[1]!.split('</tr>')[0]).to.not.contain('/settings"');
    await admin.get('/admin/plugins/tool_sitestats/settings').set(html).expect(404);
    await learner.get('/admin/plugins/enrol_program/settings').set(html).expect(403);

    const form = await admin.get('/admin/plugins/enrol_program/settings').set(html).expect(200);
    expect(form.text).to.contain('When a learner is unassigned').and.to.contain('<option value="suspend" selected>');
    const bad = await admin
      .post('/admin/plugins/enrol_program/settings')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), unassignAction: 'shred' })
      .expect(422);
    expect(bad.text).to.contain('When a learner is unassigned:');
    expect(await site.plugins.getSettings('enrol_program')).to.deep.equal({ unassignAction: 'suspend' });

    const saved = await admin
      .post('/admin/plugins/enrol_program/settings')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), unassignAction: 'unenrol' })
      .expect(303);
    expect(saved.headers.location).to.equal('/admin/plugins?notice=plugin-settings-saved');
    try {
      expect(await site.plugins.getSettings('enrol_program')).to.deep.equal({ unassignAction: 'unenrol' });
      expect(site.plugins.currentSettings('enrol_program')).to.deep.equal({ unassignAction: 'unenrol' });
      expect((await admin.get('/admin/plugins/enrol_program/settings').set(html).expect(200)).text).to.contain('<option value="unenrol" selected>');
    } finally {
      await site.plugins.setSettings('enrol_program', { unassignAction: 'suspend' });
    }
  });

  it('creates a program with a plain form: "add a course set" keeps what was typed, bad input is explained and saves nothing', async () => {
    const blank = await admin.get('/admin/programs/new').set(html).expect(200);
    const token = csrfFrom(blank.text);
    expect(blank.text).to.contain('<legend>Course set 1</legend>').and.to.not.contain('Course set 2</legend>');
    const first = {
      _csrf: token,
      setCount: '1',
      fullname: 'Induction <script>',
      shortname: 'induction',
      available: '1',
      set0_label: 'Basics',
      set0_courses: [String(s.courses.a), String(s.courses.b)],
      set0_rule: 'all',
    };

    const twoRows = await admin
      .post('/admin/programs/new')
      .type('form')
      .send({ ...first, action: 'add-set' })
      .expect(200);
    expect(twoRows.text).to.contain('<legend>Course set 2</legend>');
    expect(twoRows.text).to.contain('value="Induction &lt;script&gt;"').and.to.contain('value="Basics"');
    // A set lists its chosen courses by name (ticked), not every course of the site.
    expect(twoRows.text).to.contain(`name="set0_courses" value="${s.courses.a}" checked`);
    expect(twoRows.text).to.contain('name="set0_operator"');

    const second = {
      ...first,
      setCount: '2',
      set0_operator: 'or',
      set1_label: 'Pick two',
      set1_courses: [String(s.courses.c)],
      set1_rule: 'some',
      set1_minCourses: '2',
    };
    const rejected = await admin
      .post('/admin/programs/new')
      .type('form')
      .send({ ...second, action: 'save' })
      .expect(422);
    expect(rejected.text).to.contain('There is a problem').and.to.contain('Course set 2');
    expect(await site.db.knex('programs').where({ shortname: 'induction' }).first()).to.equal(undefined);

    const saved = await admin
      .post('/admin/programs/new')
      .type('form')
      .send({ ...second, set1_courses: [String(s.courses.c), String(s.courses.d)], action: 'save' })
      .expect(303);
    const id = Number(/\/admin\/programs\/(\d+)\/edit/.exec(saved.headers.location!)![1]);
    const program = await site.services.programs.get(id);
    expect(program.fullname).to.equal('Induction <script>');
    expect(program.courseSets.map((c) => [c.label, c.rule, c.operator, c.courseIds, c.minCourses])).to.deep.equal([
      ['Basics', 'all', 'or', [s.courses.a, s.courses.b], 0],
      ['Pick two', 'some', null, [s.courses.c, s.courses.d], 2],
    ]);

    // Renaming keeps the structure (and so every learner's progress) untouched.
    const edit = await admin.get(saved.headers.location!).set(html).expect(200);
    expect(edit.text).to.contain('The program was created.');
    const form = {
      _csrf: csrfFrom(edit.text),
      setCount: '2',
      fullname: 'Induction',
      shortname: 'induction',
      available: '1',
      set0_label: 'Basics',
      set0_courses: [String(s.courses.a), String(s.courses.b)],
      set0_rule: 'all',
      set0_operator: 'or',
      set1_label: 'Pick two',
      set1_courses: [String(s.courses.c), String(s.courses.d)],
      set1_rule: 'some',
      set1_minCourses: '2',
      action: 'save',
    };
    await admin.post(`/admin/programs/${id}/edit`).type('form').send(form).expect(303);
    expect((await site.services.programs.get(id)).structureVersion).to.equal(program.structureVersion);
    // Removing a set changes it.
    await admin
      .post(`/admin/programs/${id}/edit`)
      .type('form')
      .send({ ...form, set1_remove: '1' })
      .expect(303);
    const changed = await site.services.programs.get(id);
    expect(changed.courseSets).to.have.length(1);
    expect(changed.structureVersion).to.equal(program.structureVersion + 1);

    const list = await admin.get('/admin/programs').set(html).expect(200);
    expect(list.text).to.contain('Induction').and.to.contain(`/admin/programs/${id}/assignments`);
  });

  it('adds and removes assignment rules, showing their descriptions and due-date rules', async () => {
    const page = await admin.get(`/admin/programs/${s.onboardingId}/assignments`).set(html).expect(200);
    expect(page.text).to.contain('<option value="individual">');
    expect(page.text).to.match(/Lena Learner/);
    const token = csrfFrom(page.text);
    const bad = await admin
      .post(`/admin/programs/${s.onboardingId}/assignments`)
      .type('form')
      .send({ _csrf: token, source: 'individual', instanceId: '', dueKind: 'none' })
      .expect(422);
    expect(bad.text).to.contain('There is a problem');

    const outsider = (await site.services.users.create({ username: 'newbie', email: 'n@example.com', fullname: 'Nina Newbie' })).id;
    const added = await admin
      .post(`/admin/programs/${s.onboardingId}/assignments`)
      .type('form')
      .send({ _csrf: token, source: 'individual', instanceId: String(outsider), dueKind: 'relative', dueWithin: 'P1M', dueEvent: 'assignment_date' })
      .expect(303);
    expect(added.headers.location).to.contain('notice=rule-added');
    await site.jobs.drain();
    const rules = await site.services.assignment.listRules(s.onboardingId);
    const rule = rules.find((r) => r.instance.instanceId === outsider)!;
    expect(rule.due).to.deep.equal({ within: 'P1M', event: 'assignment_date' });
    const listed = await admin.get(`/admin/programs/${s.onboardingId}/assignments`).set(html).expect(200);
    expect(listed.text).to.contain(rule.description.replace(/&/g, '&amp;'));
    expect((await site.db.knex('program_user_assignments').where({ program_id: s.onboardingId, user_id: outsider }).first())?.status).to.equal('active');

    await admin
      .post(`/admin/programs/${s.onboardingId}/assignments/${rule.id}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(listed.text) })
      .expect(303);
    await site.jobs.drain();
    expect((await site.services.assignment.listRules(s.onboardingId)).some((r) => r.id === rule.id)).to.equal(false);
    expect((await site.db.knex('program_user_assignments').where({ program_id: s.onboardingId, user_id: outsider }).first())?.status).to.not.equal('active');
  });

  it('filters exceptions by type and resolves the selected ones in bulk', async () => {
    const late = (await site.services.users.create({ username: 'late', email: 'l@example.com', fullname: 'Larry Late' })).id;
    await site.services.assignment.addRule(s.complianceId, { source: 'individual', instanceId: late, due: { date: '2026-02-01T00:00:00.000Z' } });
    await site.jobs.drain();

    const all = await admin.get('/admin/exceptions').set(html).expect(200);
    expect(all.text).to.contain('Larry Late').and.to.contain('Time allowance');
    const none = await admin.get('/admin/exceptions?type=completion_time_unknown').set(html).expect(200);
    expect(none.text).to.not.contain('Larry Late');
    const filtered = await admin.get('/admin/exceptions?type=time_allowance').set(html).expect(200);
    const id = Number(/name="exceptionIds" value="(\d+)"/.exec(filtered.text)![1]);

    const noAction = await admin
      .post('/admin/exceptions/resolve')
      .type('form')
      .send({ _csrf: csrfFrom(filtered.text), exceptionIds: [String(id)], action: '', filter: 'type=time_allowance' })
      .expect(422);
    expect(noAction.text).to.contain('Choose what to do');
    const done = await admin
      .post('/admin/exceptions/resolve')
      .type('form')
      .send({ _csrf: csrfFrom(filtered.text), exceptionIds: [String(id)], action: 'set_realistic_due_date', filter: 'type=time_allowance' })
      .expect(303);
    expect(done.headers.location).to.equal('/admin/exceptions?type=time_allowance&notice=exceptions-resolved');
    const row = await site.db.knex('program_user_assignments').where({ program_id: s.complianceId, user_id: late }).first();
    expect(row.status).to.equal('active');
    expect(Number(row.due_at)).to.be.greaterThan(site.db.now());
    expect((await admin.get('/admin/exceptions').set(html)).text).to.not.contain('Larry Late');
  });

  it('shows one learner’s progress in a program to the operator', async () => {
    const res = await admin.get(`/admin/programs/${s.onboardingId}/learners/${s.learnerId}`).set(html).expect(200);
    expect(res.text).to.contain('Lena Learner').and.to.contain('Foundations').and.to.contain('Assigned');
    const check = `/admin/launch-check?userId=${s.learnerId}&amp;courseId=${s.courses.c}`;
    expect(res.text).to.contain(check);
    const explained = await admin.get(check.replace('&amp;', '&')).set(html).expect(200);
    expect(explained.text).to.contain('Foundations');
    const list = await admin.get(`/admin/programs/${s.onboardingId}/learners`).set(html).expect(200);
    expect(list.text).to.contain(`/admin/programs/${s.onboardingId}/learners/${s.learnerId}`).and.to.contain('Otto Other');
  });

  it('switches the theme at once, keeps the choice in the database for the next boot, and refuses unknown themes', async () => {
    const page = await admin.get('/admin/theme').set(html).expect(200);
    expect(page.text).to.contain('value="high-contrast"');
    await admin
      .post('/admin/theme')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), theme: 'nope' })
      .expect(422);
    expect(site.themes.activeTheme()).to.equal('default');

    await admin
      .post('/admin/theme')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), theme: 'high-contrast' })
      .expect(303);
    expect((await site.db.knex('site_config').where({ name: 'theme' }).first()).value).to.equal('high-contrast');
    const themed = await learner.get('/my/required-learning').set(html).expect(200);
    // Overridden partials (due date, footer) and the theme stylesheet; the rest is still default.
    expect(themed.text).to.contain('/theme/high-contrast/waymark.css');
    expect(themed.text).to.contain('⚠ Overdue').and.to.contain('High-contrast theme');
    expect(themed.text).to.contain('<h1>Required learning</h1>');
    const css = await request(app).get('/theme/high-contrast/waymark.css').expect(200);
    expect(css.text).to.contain('@import url("/theme/default/waymark.css")');

    site.themes.setTheme('default');
    await applyStoredTheme(site);
    expect(site.themes.activeTheme()).to.equal('high-contrast');
    await site.db.knex('site_config').where({ name: 'theme' }).del();
  });
});
