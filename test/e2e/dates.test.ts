import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';
import { PASSWORD, csrfFrom, signIn } from '../browser/scenario';
import { formEntries, formObject } from '../utils/forms';

const html = { Accept: 'text/html' };

/** Issue 10 item 3: every date is parsed strictly, in the site's time zone. */
describe(`dates: strict parsing in the site time zone (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let app: express.Express;
  let admin: string;
  let courseId: number;
  let audienceId: number;
  let operator: ReturnType<typeof request.agent>;
  const auth = () => ({ Authorization: `Bearer ${admin}` });

  before(async () => {
    // A site in Paris: days end and offset-less times are read there, whatever the server's zone.
    t = await createTestSite({ timezone: 'Europe/Paris', pluginsDir: path.join(projectRoot, 'plugins') });
    app = createApp(t.site);
    const root = await t.site.services.users.create({ username: 'root', email: 'root@example.com', fullname: 'Root', isAdmin: true });
    admin = await createApiToken(t.site.db, root.id);
    courseId = (await request(app).post('/api/v1/courses').set(auth()).send({ shortname: 'c1', fullname: 'Course one' }).expect(201)).body.id;
    audienceId = (await request(app).post('/api/v1/audiences').set(auth()).send({ name: 'Everyone' }).expect(201)).body.id;
    await t.site.services.users.create({ username: 'olive', email: 'olive@example.com', fullname: 'Olive', password: PASSWORD, isAdmin: true });
    operator = request.agent(app);
    await signIn(operator, 'olive');
  });
  after(async () => {
    await t?.close();
  });

  const program = (extra: Record<string, unknown>) =>
    request(app)
      .post('/api/v1/programs')
      .set(auth())
      .send({ shortname: `p${Math.random().toString(36).slice(2, 8)}`, fullname: 'P', courseSets: [{ courseIds: [courseId], rule: 'all' }], ...extra });

  it('refuses impossible or malformed dates with 422 naming the field, and stores nothing', async () => {
    const programCount = async () => Number(((await t.site.db.knex('programs').count({ n: '*' }).first()) as { n: number | string }).n);
    const before = await programCount();
    for (const value of ['2026-02-30', '%00', '2026-13-01T10:00:00Z', '2026', 'tomorrow']) {
      const res = await program({ availableFrom: value });
      expect(res.status, value).to.be.oneOf([400, 422]);
      const paths = (res.body.error.details as Array<{ path: string }>).map((d) => d.path.replace(/^\//, ''));
      expect(paths, value).to.include('availableFrom');
    }
    expect(await programCount()).to.equal(before);

    const p = (await program({}).expect(201)).body.id;
    for (const value of ['2026-02-30', '%00']) {
      const res = await request(app)
        .post(`/api/v1/programs/${p}/assignments`)
        .set(auth())
        .send({ source: 'audience', instanceId: audienceId, due: { date: value } });
      expect(res.status, value).to.equal(422);
      expect(res.body.error.details[0].path, value).to.equal('due/date');
    }
    expect((await request(app).get(`/api/v1/programs/${p}/assignments`).set(auth()).expect(200)).body.rules ?? []).to.deep.equal([]);

    const course = await request(app).post('/api/v1/courses').set(auth()).send({ shortname: 'bad', fullname: 'Bad', startDate: '2026-02-30T10:00:00Z' });
    expect(course.status).to.be.oneOf([400, 422]);
  });

  it('reads a date alone as the end of that day, and an offset-less time, in the site time zone', async () => {
    const p = (await program({ availableFrom: '2027-03-01T09:00', availableUntil: '2027-03-31' }).expect(201)).body;
    // Paris is UTC+1 in March: 09:00 there is 08:00Z, and the last moment of the 31st is 21:59:59.999Z (UTC+2 after the switch).
    expect(p.availableFrom).to.equal('2027-03-01T08:00:00.000Z');
    expect(p.availableUntil).to.equal('2027-03-31T21:59:59.999Z');

    const rule = await request(app)
      .post(`/api/v1/programs/${p.id}/assignments`)
      .set(auth())
      .send({ source: 'audience', instanceId: audienceId, due: { date: '2027-06-30' } })
      .expect(201);
    expect(JSON.stringify(rule.body)).to.contain('2027-06-30T21:59:59.999Z');
  });

  it('refuses an impossible date in the fields added since: recurrence start, course form, saved report filters, restriction date', async () => {
    const count = async (table: string) => Number(((await t.site.db.knex(table).count({ n: '*' }).first()) as { n: number | string }).n);

    // A recurring program's first period.
    const programs = await count('programs');
    const recurring = await program({ recurrence: { period: 'P1Y', leadTime: 'P1M', startsAt: '2027-02-30' } });
    expect(recurring.status).to.equal(422);
    expect(recurring.body.error.details[0]).to.include({ path: 'recurrence.startsAt', code: 'DATE_INVALID' });
    expect(await count('programs')).to.equal(programs);

    // A course's start date on the operator's course form, new and edited.
    const blank = await operator.get('/admin/courses/new').set(html).expect(200);
    const form = formObject(formEntries(blank.text, 'action="/admin/courses/new"'));
    const created = await operator
      .post('/admin/courses/new')
      .type('form')
      .send({ ...form, shortname: 'feb30', fullname: 'February', startDate: '2027-02-30' })
      .expect(422);
    expect(created.text).to.contain('Start date: startDate is not a calendar date');
    expect(await t.site.db.knex('courses').where({ shortname: 'feb30' }).first()).to.equal(undefined);
    const edit = await operator.get(`/admin/courses/${courseId}`).set(html).expect(200);
    const settings = formObject(formEntries(edit.text, `action="/admin/courses/${courseId}"`));
    const edited = await operator
      .post(`/admin/courses/${courseId}`)
      .type('form')
      .send({ ...settings, fullname: 'Renamed', startDate: '2027-02-30' })
      .expect(422);
    expect(edited.text).to.contain('Start date: startDate is not a calendar date');
    expect((await request(app).get(`/api/v1/courses/${courseId}`).set(auth()).expect(200)).body).to.include({ fullname: 'Course one' });

    // A saved report's due window: the report's own check, so 400 QUERY_INVALID naming the filter (a query value).
    const reports = await count('saved_reports');
    for (const name of ['dueFrom', 'dueTo']) {
      const saved = await request(app)
        .post('/api/v1/saved-reports')
        .set(auth())
        .send({ name: `Due ${name}`, report: 'program_completion', query: { [name]: '2027-02-30' } });
      expect(saved.status, JSON.stringify(saved.body)).to.equal(400);
      expect(saved.body.error.code).to.equal('QUERY_INVALID');
      expect(saved.body.error.details[0].path).to.equal(`/${name}`);
    }
    expect(await count('saved_reports')).to.equal(reports);

    // A restriction's date, through the API.
    const activity = (await request(app).post(`/api/v1/courses/${courseId}/activities`).set(auth()).send({ type: 'page', name: 'Later' }).expect(201)).body
      .id as number;
    const tree = await request(app)
      .patch(`/api/v1/activities/${activity}`)
      .set(auth())
      .send({ availability: { op: '&', c: [{ type: 'date', d: '>=', t: '2027-02-30T10:00:00Z' }], showc: [true] } });
    expect(tree.status).to.equal(422);
    expect(JSON.stringify(tree.body.error.details)).to.contain('/c/0/t');
    expect((await t.site.services.courses.getActivity(activity)).availability).to.equal(null);
  });

  it("reads the restriction form's date and time in the site time zone, shows it back there, and names an impossible one", async () => {
    const activity = (await request(app).post(`/api/v1/courses/${courseId}/activities`).set(auth()).send({ type: 'page', name: 'From March' }).expect(201)).body
      .id as number;
    const url = `/admin/restrict_access/activities/${activity}`;
    const editor = (await operator.get(url).set(html).expect(200)).text;
    expect(editor).to.contain('Europe/Paris time');
    const fields = { _csrf: csrfFrom(editor), join: 'all', hide: 'grey', c1_type: 'date', c1_when: '>=', action: 'save' };
    await operator
      .post(url)
      .type('form')
      .set(html)
      .send({ ...fields, c1_at: '2027-03-01T09:00' })
      .expect(303);
    // 09:00 in Paris (UTC+1 in March) is 08:00 UTC.
    expect((await t.site.services.courses.getActivity(activity)).availability).to.deep.equal({
      op: '&',
      c: [{ type: 'date', d: '>=', t: '2027-03-01T08:00:00.000Z' }],
      showc: [true],
    });
    const shown = (await operator.get(url).set(html).expect(200)).text;
    expect(shown).to.contain('value="2027-03-01T09:00"');

    const impossible = await operator
      .post(url)
      .type('form')
      .set(html)
      .send({ ...fields, c1_at: '2027-02-30T09:00' })
      .expect(422);
    expect(impossible.text).to.contain('Condition 1 is not a valid date-time');
    expect(((await t.site.services.courses.getActivity(activity)).availability as { c: Array<{ t: string }> }).c[0]!.t).to.equal('2027-03-01T08:00:00.000Z');
  });
});
