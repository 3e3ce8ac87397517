import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

/** Issue 10 item 3: every date is parsed strictly, in the site's time zone. */
describe(`dates: strict parsing in the site time zone (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let app: express.Express;
  let admin: string;
  let courseId: number;
  let audienceId: number;
  const auth = () => ({ Authorization: `Bearer ${admin}` });

  before(async () => {
    // A site in Paris: days end and offset-less times are read there, whatever the server's zone.
    t = await createTestSite({ timezone: 'Europe/Paris', pluginsDir: path.join(projectRoot, 'plugins') });
    app = createApp(t.site);
    const root = await t.site.services.users.create({ username: 'root', email: 'root@example.com', fullname: 'Root', isAdmin: true });
    admin = await createApiToken(t.site.db, root.id);
    courseId = (await request(app).post('/api/v1/courses').set(auth()).send({ shortname: 'c1', fullname: 'Course one' }).expect(201)).body.id;
    audienceId = (await request(app).post('/api/v1/audiences').set(auth()).send({ name: 'Everyone' }).expect(201)).body.id;
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
});
