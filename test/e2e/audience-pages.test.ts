import { expect } from 'chai';
import request from 'supertest';
import type { Site } from '../../core/site';
import type { TestSite } from '../utils/site';
import { csrfFrom, type Scenario, startScenarioSite } from '../browser/scenario';
import { decodeHtml, formEntries, formObject, optionValue } from '../utils/forms';

const html = { Accept: 'text/html' };
type Agent = ReturnType<typeof request.agent>;

describe('audience rule editor (operator pages)', () => {
  let t: TestSite;
  let site: Site;
  let s: Scenario;
  let admin: Agent;
  let learner: Agent;

  before(async () => {
    ({ t, site, s, admin, learner } = await startScenarioSite('audience-pages-secret-0123456789'));
    await site.services.completion.recordCourseCompletion(s.courses.b, s.learnerId);
  });
  after(async () => t?.close());

  it('refuses the audience pages and the count to a learner', async () => {
    await learner.get('/admin/audiences').set(html).expect(403);
    await learner.get('/admin/audiences/new').set(html).expect(403);
    const token = csrfFrom((await learner.get('/my/required-learning').set(html).expect(200)).text);
    await learner
      .post('/admin/audience-count')
      .type('form')
      .send({ _csrf: token, rows: '1', cond_0: '{"type":"user_field","field":"lang"}', value_0: 'en' })
      .expect(403);
  });

  it('builds an audience by name without JavaScript: count, add a condition, save; then edits it and the job recomputes', async () => {
    const page = await admin.get('/admin/audiences/new').set(html).expect(200);
    // A condition naming a thing is chosen as a kind ("Completed course …") and the thing is picked by name in the row.
    const completedCare = optionValue(page.text, 'Completed course …');
    // Program and assignment conditions come from their own modules.
    expect(optionValue(page.text, 'Has an overdue assignment in program …')).to.contain('"state":"overdue"');
    expect(page.text).to.contain('data-picker="courses"').and.to.contain('name="which_0_q"');
    const form = formObject(formEntries(page.text, 'data-live-count'));

    const counted = await admin
      .post('/admin/audiences/new')
      .type('form')
      .send({ ...form, name: 'Care graduates', cond_0: completedCare, which_0_q: 'Customer care', action: 'count' })
      .expect(200);
    expect(counted.text).to.contain('1 user(s) match these conditions now.');
    expect(await site.db.knex('audiences').where({ name: 'Care graduates' }).first()).to.equal(undefined);

    const added = await admin
      .post('/admin/audiences/new')
      .type('form')
      .send({ ...form, name: 'Care graduates', cond_0: completedCare, which_0_q: 'Customer care', action: 'add' })
      .expect(200);
    const twoRows = formObject(formEntries(added.text, 'data-live-count'));
    expect(twoRows.rows).to.equal('2');
    expect(twoRows.cond_0).to.equal(completedCare);
    expect(twoRows.which_0_q).to.equal('Customer care');

    // A name that matches nothing is named, and the rows stay as typed.
    const unknown = await admin
      .post('/admin/audiences/new')
      .type('form')
      .send({ ...twoRows, which_0_q: 'Basket weaving', action: 'save' })
      .expect(422);
    expect(decodeHtml(unknown.text)).to.contain('Condition 1: no course matches “Basket weaving”');
    expect(formObject(formEntries(unknown.text, 'data-live-count')).cond_0).to.equal(completedCare);

    const saved = await admin
      .post('/admin/audiences/new')
      .type('form')
      .send({ ...twoRows, cond_1: optionValue(added.text, 'Preferred language is …'), value_1: 'en', action: 'save' })
      .expect(303);
    const audienceId = Number(/\/admin\/audiences\/(\d+)/.exec(saved.headers.location!)![1]);
    expect(await site.services.audiences.isMember(audienceId, s.learnerId)).to.equal(true);
    const list = await admin.get('/admin/audiences').set(html).expect(200);
    expect(list.text).to.contain('Care graduates').and.to.contain('Completed course Customer care and Preferred language is en');

    // Negate the first condition: Lena leaves, everyone else who speaks English joins, once the job has run.
    const editor = await admin.get(`/admin/audiences/${audienceId}`).set(html).expect(200);
    const editForm = formObject(formEntries(editor.text, 'data-live-count'));
    expect(editForm.cond_0).to.equal(completedCare);
    expect(editForm.which_0_q).to.equal('Customer care');
    expect(editForm.which_0).to.equal(String(s.courses.b));
    expect(editForm.value_1).to.equal('en');
    const edited = await admin
      .post(`/admin/audiences/${audienceId}`)
      .type('form')
      .send({ ...editForm, not_0: '1', action: 'save' })
      .expect(303);
    expect(edited.headers.location).to.contain('notice=audience-recomputing');
    expect(await site.services.audiences.isMember(audienceId, s.learnerId)).to.equal(true);
    await site.jobs.drain();
    expect(await site.services.audiences.isMember(audienceId, s.learnerId)).to.equal(false);
    expect(await site.services.audiences.isMember(audienceId, s.otherId)).to.equal(true);
  });

  it('answers the live count as JSON, and explains a missing value instead of saving', async () => {
    const page = await admin.get('/admin/audiences/new').set(html).expect(200);
    const form = formObject(formEntries(page.text, 'data-live-count'));
    const lang = optionValue(page.text, 'Preferred language is …');
    const live = await admin
      .post('/admin/audience-count')
      .type('form')
      .send({ ...form, cond_0: lang, value_0: 'en' })
      .expect(200);
    expect(live.body.count).to.equal(await site.services.audiences.countMatching([{ type: 'user_field', field: 'lang', value: 'en' }]));
    expect(live.body.count).to.be.greaterThan(0);
    const missing = await admin
      .post('/admin/audiences/new')
      .type('form')
      .send({ ...form, name: 'No value', cond_0: lang, action: 'save' })
      .expect(422);
    expect(missing.text).to.contain('Condition 1: enter the value to match');
    expect(await site.db.knex('audiences').where({ name: 'No value' }).first()).to.equal(undefined);
    await admin.post('/admin/audiences/new').type('form').send({ name: 'No token', rows: '1', cond_0: lang, value_0: 'en', action: 'save' }).expect(403);
  });
  it('lists audiences searched by name, filtered by type, in a chosen order, a page at a time with member counts', async () => {
    const made: number[] = [];
    for (let n = 1; n <= 55; n++) made.push((await site.services.audiences.create({ name: `Shift ${String(n).padStart(2, '0')}` })).id);
    await site.services.audiences.addMember(made[0]!, s.learnerId);
    await site.services.audiences.addMember(made[0]!, s.otherId);
    const names = (text: string) => [...text.matchAll(/<th scope="row">([^<]+)<br>/g)].map((m) => decodeHtml(m[1]!));

    const first = await admin.get('/admin/audiences?q=shift').set(html).expect(200);
    expect(names(first.text)).to.have.length(50);
    expect(names(first.text)[0]).to.equal('Shift 01');
    expect(first.text).to.match(/<td data-label="Members">2<\/td>/);
    expect(first.text).to.contain('Audiences matching the filter');
    const next = /rel="next" href="([^"]+)"/.exec(first.text)![1]!;
    const second = await admin.get(decodeHtml(next)).set(html).expect(200);
    expect(names(second.text)).to.deep.equal(['Shift 51', 'Shift 52', 'Shift 53', 'Shift 54', 'Shift 55']);

    const newest = await admin.get('/admin/audiences?q=Shift&sort=-id').set(html).expect(200);
    expect(names(newest.text)[0]).to.equal('Shift 55');
    const dynamic = await admin.get('/admin/audiences?q=shift&type=dynamic').set(html).expect(200);
    expect(dynamic.text).to.contain('No audience matches the filter.');
    const unknownType = await admin.get('/admin/audiences?type=weird').set(html).expect(200);
    expect(names(unknownType.text)).to.include('Shift 01');
  });
});
