import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import type { TestSite } from '../utils/site';
import { csrfFrom, type Scenario, startScenarioSite } from '../browser/scenario';
import { decodeHtml, formEntries, formObject, optionValue } from '../utils/forms';

const html = { Accept: 'text/html' };
type Agent = ReturnType<typeof request.agent>;

describe('course and activity pages (operator)', () => {
  let t: TestSite;
  let site: Site;
  let s: Scenario;
  let app: express.Express;
  let admin: Agent;
  let learner: Agent;
  let bearer: string;

  before(async () => {
    ({ t, site, s, app, admin, learner } = await startScenarioSite('course-pages-secret-0123456789'));
    bearer = await createApiToken(site.db, s.adminId);
  });
  after(async () => t?.close());

  const api = () => ({ Authorization: `Bearer ${bearer}` });

  it('refuses the course pages to a learner', async () => {
    for (const url of ['/admin/courses', '/admin/courses/new', `/admin/courses/${s.courses.a}`, `/admin/activities/${s.activities.welcome}`]) {
      expect((await learner.get(url).set(html)).status, url).to.equal(403);
    }
    const token = csrfFrom((await learner.get('/my/required-learning').set(html).expect(200)).text);
    await learner.post('/admin/courses/new').type('form').send({ _csrf: token, shortname: 'sneaky', fullname: 'Sneaky' }).expect(403);
    await learner.post(`/admin/activities/${s.activities.handbook}/delete`).type('form').send({ _csrf: token }).expect(403);
    expect(await site.db.knex('courses').where({ shortname: 'sneaky' }).first()).to.equal(undefined);
    expect(await site.services.courses.getActivity(s.activities.handbook)).to.include({ name: 'Handbook' });
  });

  it('lists courses with a name search, a visibility filter, an order and keyset pages', async () => {
    for (let i = 0; i < 55; i++)
      await site.services.courses.create({
        shortname: `bulk${String(i).padStart(2, '0')}`,
        fullname: `Bulk course ${String(i).padStart(2, '0')}`,
        visible: i % 5 !== 0,
      });
    const first = await admin.get('/admin/courses?q=bulk').set(html).expect(200);
    expect(first.text).to.contain('Bulk course 00').and.to.contain('Bulk course 49').and.to.not.contain('Bulk course 50');
    expect(first.text).to.not.contain('Customer care');
    const next = decodeHtml(/rel="next" href="([^"]+)"/.exec(first.text)![1]!);
    expect(next).to.contain('q=bulk').and.to.contain('cursor=');
    const second = await admin.get(next).set(html).expect(200);
    expect(second.text).to.contain('Bulk course 54').and.to.not.contain('Bulk course 49<');
    expect(second.text).to.contain('rel="prev"');

    const hidden = await admin.get('/admin/courses?q=bulk&visible=no').set(html).expect(200);
    expect(hidden.text).to.contain('Bulk course 05').and.to.not.contain('Bulk course 06');
    const newest = await admin.get('/admin/courses?q=bulk&sort=-id').set(html).expect(200);
    expect(newest.text.indexOf('Bulk course 54')).to.be.lessThan(newest.text.indexOf('Bulk course 53'));
    // The table collapses into labelled rows on a phone.
    expect(first.text).to.contain('data-label="Activities"');
    // The navigation leads here.
    expect((await admin.get('/admin').set(html).expect(200)).text).to.contain('href="/admin/courses"');
  });

  it('creates a course from its form; a bad form names the field and saves nothing; the API reads what the form wrote', async () => {
    const blank = await admin.get('/admin/courses/new').set(html).expect(200);
    const form = formObject(formEntries(blank.text, 'action="/admin/courses/new"'));
    const bad = await admin
      .post('/admin/courses/new')
      .type('form')
      .send({ ...form, shortname: 'onboard101', fullname: '' })
      .expect(422);
    expect(bad.text).to.contain('Full name: enter a value');
    expect(await site.db.knex('courses').where({ shortname: 'onboard101' }).first()).to.equal(undefined);

    const created = await admin
      .post('/admin/courses/new')
      .type('form')
      .send({ ...form, shortname: 'onboard101', fullname: 'Onboarding <101>', summary: 'Line one\r\nline two', startDate: '2026-09-01', score: '3' })
      .expect(303);
    const id = Number(/\/admin\/courses\/(\d+)/.exec(created.headers.location!)![1]);
    const course = (await request(app).get(`/api/v1/courses/${id}`).set(api()).expect(200)).body;
    expect(course).to.include({ shortname: 'onboard101', fullname: 'Onboarding <101>', summary: 'Line one\r\nline two', visible: true, score: 3 });
    expect(course.startDate).to.be.a('string');

    const page = await admin.get(created.headers.location!).set(html).expect(200);
    expect(page.text).to.contain('The course was created.').and.to.contain('Onboarding &lt;101&gt;');
    // The settings form shows what was saved, and posting it back unchanged changes nothing.
    const settings = formObject(formEntries(page.text, `action="/admin/courses/${id}"`));
    expect(settings.startDate).to.equal('2026-09-01');
    await admin.post(`/admin/courses/${id}`).type('form').send(settings).expect(303);
    const again = (await request(app).get(`/api/v1/courses/${id}`).set(api()).expect(200)).body;
    expect(again).to.deep.include({
      shortname: course.shortname,
      fullname: course.fullname,
      summary: course.summary,
      visible: true,
      startDate: course.startDate,
      score: 3,
    });

    // Hide it and rename it; a taken short name is refused in words.
    const taken = await admin
      .post(`/admin/courses/${id}`)
      .type('form')
      .send({ ...settings, shortname: 'A' })
      .expect(409);
    expect(taken.text).to.contain('already exists');
    const { visible: _visible, ...unticked } = settings;
    await admin
      .post(`/admin/courses/${id}`)
      .type('form')
      .send({ ...unticked, fullname: 'Onboarding 101' })
      .expect(303);
    expect((await request(app).get(`/api/v1/courses/${id}`).set(api()).expect(200)).body).to.include({ fullname: 'Onboarding 101', visible: false });

    // Emptying a name is a problem named in words, not "leave it as it is".
    const emptied = await admin
      .post(`/admin/courses/${id}`)
      .type('form')
      .send({ ...settings, fullname: '' })
      .expect(422);
    expect(emptied.text).to.contain('Full name: enter a value');

    // A start date with a time (set through the API) survives saving the form for another field.
    const timed = (await request(app).patch(`/api/v1/courses/${id}`).set(api()).send({ startDate: '2026-09-01T09:30' }).expect(200)).body.startDate;
    const form2 = formObject(formEntries((await admin.get(`/admin/courses/${id}`).set(html).expect(200)).text, `action="/admin/courses/${id}"`));
    await admin
      .post(`/admin/courses/${id}`)
      .type('form')
      .send({ ...form2, summary: 'Changed' })
      .expect(303);
    expect((await request(app).get(`/api/v1/courses/${id}`).set(api()).expect(200)).body).to.include({ startDate: timed, summary: 'Changed' });
  });

  it('adds sections and activities, edits and reorders activities, and sets completion criteria', async () => {
    const course = await site.services.courses.create({ shortname: 'build', fullname: 'Build me' });
    const url = `/admin/courses/${course.id}`;
    let page = await admin.get(url).set(html).expect(200);
    await admin
      .post(`${url}/sections`)
      .type('form')
      .send({ ...formObject(formEntries(page.text, `action="${url}/sections"`)), 'section.name': 'Week one' })
      .expect(303);
    page = await admin.get(url).set(html).expect(200);
    const addForm = formObject(formEntries(page.text, `action="${url}/activities"`));
    const missing = await admin
      .post(`${url}/activities`)
      .type('form')
      .send({ ...addForm, 'activity.type': optionValue(page.text, 'Page'), 'activity.name': '', 'activity.maxGrade': 'ten' })
      .expect(422);
    expect(missing.text).to.contain('Name: enter a value').and.to.contain('Maximum grade: enter a number');
    await admin
      .post(`${url}/activities`)
      .type('form')
      .send({ ...addForm, 'activity.type': optionValue(page.text, 'Page'), 'activity.name': 'Read this' })
      .expect(303);
    await admin
      .post(`${url}/activities`)
      .type('form')
      .send({
        ...addForm,
        'activity.type': optionValue(page.text, 'Quiz'),
        'activity.name': 'Check',
        'activity.maxGrade': '10',
        'activity.sectionId': optionValue(page.text, 'Week one'),
      })
      .expect(303);
    let read = (await request(app).get(`/api/v1/courses/${course.id}`).set(api()).expect(200)).body;
    expect(read.activities.map((a: { name: string }) => a.name)).to.deep.equal(['Read this', 'Check']);
    const [readThis, check] = read.activities as Array<{ id: number; sectionId: number | null; maxGrade: number; completionTracked: boolean }>;
    expect(check).to.include({ sectionId: read.sections[0].id, maxGrade: 10, completionTracked: true });

    page = await admin.get(url).set(html).expect(200);
    expect(page.text).to.contain(`href="/admin/quizzes/${check!.id}"`).and.to.contain(`href="/admin/restrict_access/activities/${check!.id}"`);
    // The links lead to working editors for the new activity.
    expect((await admin.get(`/admin/quizzes/${check!.id}`).set(html).expect(200)).text).to.contain('No questions yet');
    await admin.get(`/admin/restrict_access/activities/${check!.id}`).set(html).expect(200);
    // Move "Check" up: it is first now.
    await admin
      .post(`/admin/activities/${check!.id}/move`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), direction: 'up' })
      .expect(303);
    read = (await request(app).get(`/api/v1/courses/${course.id}`).set(api()).expect(200)).body;
    expect(read.activities.map((a: { name: string }) => a.name)).to.deep.equal(['Check', 'Read this']);

    // Edit an activity: untick tracking and move it out of its section.
    const edit = await admin.get(`/admin/activities/${check!.id}`).set(html).expect(200);
    const editForm = formObject(formEntries(edit.text, `action="/admin/activities/${check!.id}"`));
    expect(editForm.sectionId).to.equal(String(read.sections[0].id));
    const { completionTracked: _tracked, ...untracked } = editForm;
    await admin
      .post(`/admin/activities/${check!.id}`)
      .type('form')
      .send({ ...untracked, sectionId: '', name: 'Final check' })
      .expect(303);
    const changed = (await site.services.courses.getActivity(check!.id))!;
    expect(changed).to.include({ name: 'Final check', completionTracked: false, sectionId: null, maxGrade: 10 });

    // Criteria: a subset of ticked activities; a grade out of range is explained.
    page = await admin.get(url).set(html).expect(200);
    const token = csrfFrom(page.text);
    const wrong = await admin.post(`${url}/criteria`).type('form').send({ _csrf: token, mode: 'min_grade', minGrade: '150' }).expect(422);
    expect(wrong.text).to.contain('at most 100');
    const none = await admin.post(`${url}/criteria`).type('form').send({ _csrf: token, mode: 'subset' }).expect(422);
    expect(none.text).to.contain('There is a problem');
    await admin
      .post(`${url}/criteria`)
      .type('form')
      .send({ _csrf: token, mode: 'subset', activityIds: [String(readThis!.id)] })
      .expect(303);
    expect((await site.services.courses.get(course.id)).completionCriteria).to.deep.equal({ mode: 'subset', activityIds: [readThis!.id] });
    const shown = await admin.get(url).set(html).expect(200);
    expect(shown.text).to.match(new RegExp(`name="activityIds" value="${readThis!.id}" checked`));
  });

  it('reorders and deletes sections; a deleted section’s activities stay, at the top of the course', async () => {
    const course = await site.services.courses.create({ shortname: 'sections', fullname: 'Sections' });
    const one = await site.services.courses.addSection(course.id, { name: 'One' });
    const two = await site.services.courses.addSection(course.id, { name: 'Two' });
    const inTwo = await site.services.courses.addActivity(course.id, { type: 'page', name: 'In two', sectionId: two.id });
    const page = await admin.get(`/admin/courses/${course.id}`).set(html).expect(200);
    expect(page.text).to.contain(`action="/admin/sections/${two.id}/move"`).and.to.contain(`href="/admin/sections/${one.id}/delete"`);
    // Each section links to its restriction editor, as activities do, and the link leads to it.
    expect(page.text).to.contain(`href="/admin/restrict_access/sections/${one.id}"`).and.to.contain(`href="/admin/restrict_access/sections/${two.id}"`);
    expect((await admin.get(`/admin/restrict_access/sections/${two.id}`).set(html).expect(200)).text).to.contain('Two');
    // Without restrict_access there is no editor to link to.
    await request(app).post('/api/v1/plugins/restrict_access/disable').set(api()).send({}).expect(200);
    try {
      const without = await admin.get(`/admin/courses/${course.id}`).set(html).expect(200);
      expect(without.text).to.not.contain('/admin/restrict_access/');
    } finally {
      await request(app).post('/api/v1/plugins/restrict_access/enable').set(api()).send({}).expect(200);
    }
    await admin
      .post(`/admin/sections/${two.id}/move`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), direction: 'up' })
      .expect(303);
    expect((await site.services.courses.get(course.id)).sections.map((x) => x.name)).to.deep.equal(['Two', 'One']);

    const confirm = await admin.get(`/admin/sections/${two.id}/delete`).set(html).expect(200);
    expect(confirm.text).to.contain('Delete the section Two?').and.to.contain('Its 1 activities stay');
    await admin
      .post(`/admin/sections/${two.id}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text) })
      .expect(303);
    const after = await site.services.courses.get(course.id);
    expect(after.sections.map((x) => x.name)).to.deep.equal(['One']);
    expect(after.activities.find((a) => a.id === inTwo.id)).to.include({ sectionId: null });
    // The same through the API.
    await request(app).post(`/api/v1/sections/${one.id}/move`).set(api()).send({ direction: 'sideways' }).expect(400);
    await request(app).delete(`/api/v1/sections/${one.id}`).set(api()).expect(204);
    await request(app).delete(`/api/v1/sections/${one.id}`).set(api()).expect(404);
  });

  it('deletes an activity after a confirmation, and refuses in words while learners have data on it or the criteria name it', async () => {
    await site.services.completion.recordActivityCompletion(s.activities.welcome, s.learnerId);
    const confirm = await admin.get(`/admin/activities/${s.activities.welcome}/delete`).set(html).expect(200);
    expect(confirm.text).to.contain('Delete Welcome?').and.to.contain('cannot be undone');
    const refused = await admin
      .post(`/admin/activities/${s.activities.welcome}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text) })
      .expect(409);
    expect(refused.text).to.contain('This activity cannot be deleted').and.to.contain('Learners have completions');
    expect(await site.services.courses.getActivity(s.activities.welcome)).to.include({ name: 'Welcome' });
    await request(app).delete(`/api/v1/activities/${s.activities.welcome}`).set(api()).expect(409);

    const course = await site.services.courses.create({ shortname: 'del', fullname: 'Delete from me' });
    const keep = await site.services.courses.addActivity(course.id, { type: 'page', name: 'Keep', completionTracked: true });
    const named = await site.services.courses.addActivity(course.id, { type: 'page', name: 'Named', completionTracked: true });
    await site.services.courses.setCompletionCriteria(course.id, { mode: 'subset', activityIds: [named.id] });
    const inCriteria = await admin
      .post(`/admin/activities/${named.id}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text) })
      .expect(409);
    expect(inCriteria.text).to.contain('completion criteria name this activity');

    // Another activity's restriction names it: refused, naming that activity.
    const gate = await site.services.courses.addActivity(course.id, { type: 'page', name: 'Gate' });
    await site.services.courses.addActivity(course.id, {
      type: 'page',
      name: 'Behind the gate',
      availability: { op: '&', c: [{ type: 'completion', id: gate.id, e: 'complete' }], showc: [true] },
    });
    const restricted = await admin
      .post(`/admin/activities/${gate.id}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text) })
      .expect(409);
    expect(restricted.text).to.contain('The restriction of “Behind the gate” names this activity');

    const done = await admin
      .post(`/admin/activities/${keep.id}/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text) })
      .expect(303);
    expect(done.headers.location).to.equal(`/admin/courses/${course.id}?notice=activity-deleted`);
    expect((await site.services.courses.get(course.id)).activities.map((a) => a.name)).to.deep.equal(['Named', 'Gate', 'Behind the gate']);
  });

  it('copies a course with the copy button, through the course copy service', async () => {
    const page = await admin.get(`/admin/courses/${s.courses.a}`).set(html).expect(200);
    const form = formObject(formEntries(page.text, `action="/admin/courses/${s.courses.a}/copy"`));
    const blank = await admin
      .post(`/admin/courses/${s.courses.a}/copy`)
      .type('form')
      .send({ ...form, 'copy.shortname': ' ' })
      .expect(422);
    expect(blank.text).to.contain('Short name of the copy: enter a value');
    const copied = await admin
      .post(`/admin/courses/${s.courses.a}/copy`)
      .type('form')
      .send({ ...form, 'copy.shortname': 'A-2027', 'copy.fullname': 'Safety basics 2027' })
      .expect(303);
    const id = Number(/\/admin\/courses\/(\d+)/.exec(copied.headers.location!)![1]);
    expect(id).to.not.equal(s.courses.a);
    const copy = await site.services.courses.get(id);
    expect(copy).to.include({ shortname: 'A-2027', visible: false });
    expect(copy.activities.map((a) => a.name)).to.deep.equal((await site.services.courses.get(s.courses.a)).activities.map((a) => a.name));
    expect((await admin.get(copied.headers.location!).set(html).expect(200)).text).to.contain('The course was copied.');
  });
});
