import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

async function insertUser(site: Site, username: string, extra: Record<string, unknown> = {}): Promise<number> {
  const now = site.db.now();
  const [id] = (await site.db
    .knex('users')
    .insert({ username, email: `${username}@example.com`, fullname: username, created_at: now, updated_at: now, ...extra })) as [number];
  return Number(id);
}

interface JobItem {
  id: number;
  name: string;
  state: string;
  attempts: number;
  lastError: string | null;
}

/** The operator's view of failed background work through the REST API. */
describe(`jobs API for operators (${testDialect})`, () => {
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let learner: string;
  let smtpDown = true;
  const sent: number[] = [];
  let dead: number[] = [];
  let done: number;

  before(async () => {
    t = await createTestSite();
    site = t.site;
    app = createApp(site);
    admin = await createApiToken(site.db, await insertUser(site, 'admin', { is_admin: true }));
    learner = await createApiToken(site.db, await insertUser(site, 'learner'));
    const jobs = site.jobs.registrarFor('core');
    jobs.define<{ to: number }>({
      name: 'core.test_mail',
      maxAttempts: 2,
      handler: (job) => {
        if (smtpDown) throw new Error(`SMTP refused mail to ${job.payload.to}`);
        sent.push(job.payload.to);
      },
    });
    jobs.define({ name: 'core.test_ok', handler: () => 'ok' });
    done = await site.jobs.enqueue('core.test_ok');
    for (const to of [1, 2, 3]) dead.push(await site.jobs.enqueue('core.test_mail', { to }));
    expect(await site.jobs.drain()).to.deep.equal({ done: 1, dead: 3 });
    dead = dead.reverse(); // newest first
  });

  after(async () => {
    await t?.close();
  });

  const get = (query: string, token = admin) => request(app).get(`/api/v1/jobs${query}`).set('Authorization', `Bearer ${token}`);

  it('lists dead jobs newest first, a page at a time, with their last error', async () => {
    const first = await get('?state=dead&limit=2').expect(200);
    expect(first.body.items.map((j: JobItem) => j.id)).to.deep.equal(dead.slice(0, 2));
    for (const job of first.body.items as JobItem[]) {
      expect(job).to.include({ name: 'core.test_mail', state: 'dead', attempts: 2 });
      expect(job.lastError).to.contain('SMTP refused mail');
    }
    expect(first.body.nextCursor).to.be.a('string');
    const second = await get(`?state=dead&limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.items.map((j: JobItem) => j.id)).to.deep.equal(dead.slice(2));
    expect(second.body.nextCursor).to.equal(null);

    const everything = await get('').expect(200);
    expect(everything.body.items.map((j: JobItem) => j.id)).to.deep.equal([...dead, done]);
  });

  it('rejects unknown parameters and bad values with 400, and is for administrators only', async () => {
    for (const query of ['?state=zombie', '?limit=0', '?limit=201', '?limit=ten', '?cursor=abc', '?cursor=0', '?status=dead', '?state=dead&state=done']) {
      const res = await get(query).expect(400);
      expect(res.body.error.code, query).to.equal('QUERY_INVALID');
    }
    await get('?state=dead', learner).expect(403);
    await request(app).get('/api/v1/jobs?state=dead').expect(401);
    await request(app).post(`/api/v1/jobs/${dead[0]}/retry`).set('Authorization', `Bearer ${learner}`).expect(403);
  });

  it('puts a dead job back in the queue, which then runs once the cause is fixed', async () => {
    const [target] = dead;
    const res = await request(app).post(`/api/v1/jobs/${target}/retry`).set('Authorization', `Bearer ${admin}`).expect(200);
    expect(res.body).to.include({ id: target, state: 'queued', attempts: 0 });

    smtpDown = false;
    expect(await site.jobs.drain()).to.deep.equal({ done: 1, dead: 0 });
    expect(sent).to.deep.equal([3]);
    const status = await request(app).get(`/api/v1/jobs/${target}`).set('Authorization', `Bearer ${admin}`).expect(200);
    expect(status.body).to.include({ state: 'done', attempts: 1 });
    const stillDead = await get('?state=dead').expect(200);
    expect(stillDead.body.items.map((j: JobItem) => j.id)).to.deep.equal(dead.slice(1));
  });

  it('refuses to retry a job that is not dead (409) or does not exist (404)', async () => {
    const notDead = await request(app).post(`/api/v1/jobs/${done}/retry`).set('Authorization', `Bearer ${admin}`).expect(409);
    expect(notDead.body.error.code).to.equal('JOB_NOT_DEAD');
    for (const id of ['999999', '0', 'abc', '0x10']) {
      const res = await request(app).post(`/api/v1/jobs/${id}/retry`).set('Authorization', `Bearer ${admin}`).expect(404);
      expect(res.body.error.code, id).to.equal('NOT_FOUND');
    }
    expect((await site.jobs.status(done))?.state).to.equal('done');
  });
});
