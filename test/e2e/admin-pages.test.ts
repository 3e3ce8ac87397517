import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { applyStoredTheme } from '../../core/kernel/themes/theme-setting';

import type { TestSite } from '../utils/site';
import { testDialect } from '../utils/db';
import { csrfFrom, type Scenario, startScenarioSite } from '../browser/scenario';
import { formEntries, formObject } from '../utils/forms';
import { wholeMinScores } from '../../db/migrations/0012_whole_min_scores';
import type { CourseSetInput } from '../../core/modules/programs/service';

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
    ({ t, site, s, app, admin, learner } = await startScenarioSite('admin-test-secret-0123456789'));
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

  describe('the program form round-trips what the API accepts (issue 10 item 2)', () => {
    const FORM = 'class="form program-form"';
    let bearer: string;
    const api = () => ({
      get: (url: string) => request(app).get(`/api/v1${url}`).set('Authorization', `Bearer ${bearer}`),
      post: (url: string, body: object) => request(app).post(`/api/v1${url}`).set('Authorization', `Bearer ${bearer}`).send(body),
    });
    /** The edit page's own form as a browser would post it back, with `changes` typed in. */
    const editForm = async (id: number, changes: Record<string, string | string[]> = {}) => {
      const page = await admin.get(`/admin/programs/${id}/edit`).set(html).expect(200);
      return { page: page.text, body: { ...formObject(formEntries(page.text, FORM)), ...changes } };
    };
    const recomputeJobs = async (): Promise<number> => Number((await site.db.knex('jobs').where({ name: 'program_recompute' }).count({ n: '*' }))[0]!.n);
    let scored: number[];

    before(async () => {
      bearer = await createApiToken(site.db, s.adminId);
      scored = [];
      for (const n of [1, 2, 3]) scored.push((await site.services.courses.create({ shortname: `scored-${n}`, fullname: `Scored ${n}`, score: 5 })).id);
    });

    it('saves only the new name of a 60-set program with odd labels: same sets, labels, scores and version, and no recompute', async () => {
      const odd = ['  leading and trailing  ', 'Ünïcödé ✓ 日本語 🎓', '<script>alert("x")</script> & <b>bold</b>', `it's "quoted" \`tick\` = {{x}}`, '', ' '];
      const all = [...scored, s.courses.a, s.courses.b, s.courses.c];
      const courseSets: CourseSetInput[] = Array.from({ length: 60 }, (_, i) => ({
        ...(i < odd.length ? { label: odd[i] } : { label: `Set ${i}` }),
        courseIds: i % 4 === 2 ? [scored[0]!, scored[1]!, scored[2]!] : [all[i % all.length]!, all[(i + 1) % all.length]!],
        rule: (['all', 'any', 'some', 'optional'] as const)[i % 4]!,
        ...(i % 4 === 2 ? { minCourses: 1, minScore: 7 } : {}),
        minTime: i % 5 === 0 ? 'P2W' : null,
        operator: i === 59 ? null : (['then', 'and', 'or'] as const)[i % 3]!,
      }));
      const created = await api()
        .post('/programs', { shortname: 'sixty', fullname: 'Sixty sets', summary: '  Two lines\nand a second  ', courseSets })
        .expect(201);
      const id = created.body.id as number;
      // The API keeps labels exactly; an empty label is "Course set N".
      expect(created.body.courseSets.slice(0, 6).map((c: { label: string }) => c.label)).to.deep.equal([...odd.slice(0, 4), 'Course set 5', ' ']);

      // A minScore of 6.5, as the API used to accept and SQLite kept (MariaDB's integer column rounds it).
      const third = created.body.courseSets[2].id as number;
      await site.db.knex('program_course_sets').where({ id: third }).update({ min_score: 6.5 });
      const jobs = await recomputeJobs();

      // Escaped wherever it is shown: no markup from a label reaches the page.
      const { page, body } = await editForm(id, { fullname: 'Sixty sets, renamed', action: 'save' });
      expect(page).to.contain('value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"').and.to.not.contain('<script>alert');
      expect(page).to.contain('<legend>Course set 60</legend>').and.to.contain('value="  leading and trailing  "');
      await admin.post(`/admin/programs/${id}/edit`).type('form').send(body).expect(303);
      expect(await recomputeJobs()).to.equal(jobs);
      // Even the stored fraction is left as it was: nothing but the name was written.
      expect(Number((await site.db.knex('program_course_sets').where({ id: third }).first()).min_score)).to.equal(testDialectKeepsFractions() ? 6.5 : 7);

      // The upgrade's migration makes it the next whole number (course scores are whole, so no completion changes).
      await wholeMinScores.up(site.db.knex);
      const before = (await api().get(`/programs/${id}`).expect(200)).body;
      expect(before.courseSets[2].minScore).to.equal(7);
      const again = await editForm(id, { fullname: 'Sixty sets, renamed twice', action: 'save' });
      await admin.post(`/admin/programs/${id}/edit`).type('form').send(again.body).expect(303);
      const after = (await api().get(`/programs/${id}`).expect(200)).body;
      expect(after.fullname).to.equal('Sixty sets, renamed twice');
      expect(after.courseSets).to.deep.equal(before.courseSets);
      expect(after).to.include({ structureVersion: created.body.structureVersion, summary: '  Two lines\nand a second  ', shortname: 'sixty' });
      expect(after.courseSets.map((c: { label: string }) => c.label).slice(0, 4)).to.deep.equal(odd.slice(0, 4));
      expect(await recomputeJobs()).to.equal(jobs);

      // Changing one set does change the structure, and keeps every other label exactly.
      const changed = await editForm(id, { set59_minTime: 'P1W', action: 'save' });
      await admin.post(`/admin/programs/${id}/edit`).type('form').send(changed.body).expect(303);
      const edited = (await api().get(`/programs/${id}`).expect(200)).body;
      expect(edited.structureVersion).to.equal(created.body.structureVersion + 1);
      expect(edited.courseSets.map((c: { label: string }) => c.label)).to.deep.equal(before.courseSets.map((c: { label: string }) => c.label));
      expect(edited.courseSets[59].minTime).to.equal('P1W');
      expect(await recomputeJobs()).to.be.greaterThan(jobs);
    });

    it('refuses a fractional minimum score and a label with a line break in the API and the form alike, writing nothing', async () => {
      const set = { courseIds: [scored[0]!, scored[1]!], rule: 'some', minScore: 6.5 };
      const fromApi = await api()
        .post('/programs', { shortname: 'fraction', fullname: 'Fraction', courseSets: [set] })
        .expect(400);
      expect(fromApi.body.error.details).to.deep.include({ path: '/courseSets/0/minScore', code: 'type', message: 'must be integer' });
      const broken = await api()
        .post('/programs', { shortname: 'fraction', fullname: 'Fraction', courseSets: [{ ...set, minScore: 6, label: 'two\nlines' }] })
        .expect(422);
      expect(broken.body.error.details.map((d: { path: string; code: string }) => [d.path, d.code])).to.deep.equal([
        ['courseSets[0].label', 'PROGRAM_LABEL_INVALID'],
      ]);

      const blank = await admin.get('/admin/programs/new').set(html).expect(200);
      const form = {
        _csrf: csrfFrom(blank.text),
        setCount: '1',
        fullname: 'Fraction',
        shortname: 'fraction',
        set0_courses: [String(scored[0]), String(scored[1])],
        set0_rule: 'some',
        set0_minScore: '6.5',
        action: 'save',
      };
      const refused = await admin.post('/admin/programs/new').type('form').send(form).expect(422);
      expect(refused.text).to.contain('Course set 1: minimum score must be integer').and.to.contain('value="6.5"');
      expect(await site.db.knex('programs').where({ shortname: 'fraction' }).first()).to.equal(undefined);
      await admin
        .post('/admin/programs/new')
        .type('form')
        .send({ ...form, set0_minScore: '7' })
        .expect(303);
      expect((await site.db.knex('programs').where({ shortname: 'fraction' }).first()).fullname).to.equal('Fraction');
    });

    it('adds courses by name, explains a name it cannot match, and has no course-set cap below the API’s', async () => {
      const blank = await admin.get('/admin/programs/new').set(html).expect(200);
      // No list of every course on the page: a pick-by-name box per set.
      expect(blank.text).not.to.contain('<datalist');
      expect(blank.text).to.contain('data-pick="/admin/pick/courses"');
      const base = { _csrf: csrfFrom(blank.text), fullname: 'By name', shortname: 'by-name', setCount: '1', set0_rule: 'all' };
      const added = await admin
        .post('/admin/programs/new')
        .type('form')
        .send({ ...base, set0_add_q: 'Customer care (B)', action: 'add-course-0' })
        .expect(200);
      expect(added.text).to.contain(`name="set0_courses" value="${s.courses.b}" checked`).and.to.contain('name="set0_add_q" value=""');
      // The start of a name is enough when one course has it.
      const byStart = await admin
        .post('/admin/programs/new')
        .type('form')
        .send({ ...base, set0_add_q: 'custom', action: 'add-course-0' })
        .expect(200);
      expect(byStart.text).to.contain(`name="set0_courses" value="${s.courses.b}" checked`);
      const unknown = await admin
        .post('/admin/programs/new')
        .type('form')
        .send({ ...base, set0_courses: String(s.courses.b), set0_add_q: 'No such <course>', action: 'add-course-0' })
        .expect(422);
      expect(unknown.text).to.contain('Course set 1: no course matches “No such &lt;course&gt;”').and.to.contain('value="No such &lt;course&gt;"');

      // 120 sets through "Save" (the old form kept 50): a short name typed in "Add a course" counts too.
      const sets: Record<string, string> = {};
      for (let i = 0; i < 120; i++) {
        sets[`set${i}_label`] = ` Set ${i} `;
        sets[`set${i}_add_q`] = i % 2 ? 'C' : 'Leadership primer (D)';
        sets[`set${i}_rule`] = 'all';
        sets[`set${i}_operator`] = 'and';
      }
      await admin
        .post('/admin/programs/new')
        .type('form')
        .send({ ...base, ...sets, setCount: '120', action: 'save' })
        .expect(303);
      const program = await site.services.programs.get(Number((await site.db.knex('programs').where({ shortname: 'by-name' }).first()).id));
      expect(program.courseSets).to.have.length(120);
      expect(program.courseSets[1]).to.deep.include({ label: ' Set 1 ', courseIds: [s.courses.c], operator: 'and' });
      expect(program.courseSets[119]).to.deep.include({ courseIds: [s.courses.c], operator: null });
    });

    it('does not silently undo a structure change someone saved after the form was opened', async () => {
      const created = await api()
        .post('/programs', { shortname: 'race', fullname: 'Race', courseSets: [{ label: 'One', courseIds: [s.courses.a], rule: 'all' }] })
        .expect(201);
      const id = created.body.id as number;
      const mine = await editForm(id, { set0_label: 'Mine', action: 'save' });
      await site.services.programs.update(id, { courseSets: [{ label: 'Theirs', courseIds: [s.courses.b], rule: 'all' }] });
      const conflict = await admin.post(`/admin/programs/${id}/edit`).type('form').send(mine.body).expect(409);
      expect(conflict.text).to.contain('changed by someone else');
      expect((await site.services.programs.get(id)).courseSets[0]!.label).to.equal('Theirs');
      // A rename from the old form is still fine: it sends no sets. Saving the re-shown form replaces theirs on purpose.
      const resubmit = formObject(formEntries(conflict.text, FORM));
      await admin
        .post(`/admin/programs/${id}/edit`)
        .type('form')
        .send({ ...resubmit, action: 'save' })
        .expect(303);
      expect((await site.services.programs.get(id)).courseSets[0]!.label).to.equal('Mine');
    });

    it('saves a rename of a 1,200-set program (more fields than a default form body allows) without touching the sets', async () => {
      const courseSets = Array.from({ length: 1200 }, (_, i) => ({
        label: `Set ${i}`,
        courseIds: [s.courses.a, s.courses.b],
        rule: 'all' as const,
        operator: i === 1199 ? null : ('then' as const),
      }));
      const { program } = await site.services.programs.create({ shortname: 'huge', fullname: 'Huge', courseSets });
      const { body } = await editForm(program.id, { fullname: 'Huge, renamed', action: 'save' });
      await admin.post(`/admin/programs/${program.id}/edit`).type('form').send(body).expect(303);
      const after = await site.services.programs.get(program.id);
      expect(after).to.include({ fullname: 'Huge, renamed', structureVersion: program.structureVersion });
      expect(after.courseSets.map((c) => c.id)).to.deep.equal(program.courseSets.map((c) => c.id));
    });
  });

  it('adds and removes assignment rules, showing their descriptions and due-date rules', async () => {
    const page = await admin.get(`/admin/programs/${s.onboardingId}/assignments`).set(html).expect(200);
    expect(page.text).to.contain('<option value="individual">');
    expect(page.text).to.match(/Lena Learner/);
    // Choosing the source ("Next") brings its form, generated from the source's schema.
    const step = await admin.get(`/admin/programs/${s.onboardingId}/assignments?source=individual`).set(html).expect(200);
    const blank = formObject(formEntries(step.text, 'id="rule-form"'));
    const bad = await admin
      .post(`/admin/programs/${s.onboardingId}/assignments`)
      .type('form')
      .send({ ...blank, dueKind: 'none' })
      .expect(422);
    expect(bad.text).to.contain('There is a problem').and.to.contain('User: choose a user');

    const outsider = (await site.services.users.create({ username: 'newbie', email: 'n@example.com', fullname: 'Nina Newbie' })).id;
    const added = await admin
      .post(`/admin/programs/${s.onboardingId}/assignments`)
      .type('form')
      .send({ ...blank, 'rule.instanceId_q': 'Nina Newbie', dueKind: 'relative', dueWithin: 'P1M', dueEvent: 'assignment_date' })
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

/** SQLite keeps 6.5 in an integer column; MariaDB rounds it to 7 on the way in. */
function testDialectKeepsFractions(): boolean {
  return testDialect === 'sqlite';
}
