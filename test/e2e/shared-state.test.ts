import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createSite, type Site } from '../../core/site';
import { LOGIN_ATTEMPTS, LOGIN_IP_ATTEMPTS, LOGIN_RATE_LIMITED } from '../../core/kernel/auth/login';
import { loadOrCreateSessionSecret, SESSION_SECRET_SETTING } from '../../core/kernel/auth/session-secret';
import { DatabaseRateLimitStore } from '../../core/kernel/auth/rate-limit-store';
import { testDialect } from '../utils/db';
import { silentLogger } from '../utils/site';
import { assign, createCourse, createLaunchSite, createProgram, createUser, csrfFrom, login, type LaunchSite } from './launch-fixtures';

const html = { Accept: 'text/html' };

/** Two "server processes" (sites and apps) on one database, as `serve --workers 2` runs them. */
describe(`state shared by every process (${testDialect})`, function () {
  this.timeout(120_000);
  let t: LaunchSite;
  let other: Site;
  let appA: express.Express;
  let appB: express.Express;

  before(async () => {
    // No SESSION_SECRET: the site's own secret comes from the database.
    t = await createLaunchSite({ sessionSecret: undefined });
    other = createSite({ config: { databaseUrl: t.database.url, pluginsDir: t.pluginsDir, sessionSecret: undefined }, logger: silentLogger() });
    await other.start();
    appA = createApp(t.site);
    appB = createApp(other);
    await createUser(t.site, 'lena', { fullname: 'Lena Learner' });
    await createUser(t.site, 'rita', { fullname: 'Rita Reader' });
  });
  after(async () => {
    await other?.stop();
    await t?.close();
  });

  describe('the session secret', () => {
    it('is generated once and stored, so another process and a restarted one accept the cookie', async () => {
      const cookie = await login(request.agent(appA), 'lena');
      const res = await request(appB).get('/').set(html).set('Cookie', cookie).expect(200);
      expect(res.text).to.contain('Lena Learner');
      const stored = await t.site.db.knex('site_config').where({ name: SESSION_SECRET_SETTING }).first('value');
      expect(stored?.value).to.have.length.greaterThan(40);

      const restarted = createSite({ config: { databaseUrl: t.database.url, pluginsDir: t.pluginsDir, sessionSecret: undefined }, logger: silentLogger() });
      try {
        await restarted.start();
        const again = await request(createApp(restarted)).get('/').set(html).set('Cookie', cookie).expect(200);
        expect(again.text, 'a restart signs nobody out').to.contain('Lena Learner');
      } finally {
        await restarted.stop();
      }
    });

    it('accepts a login form fetched from one process when it is posted to the other (CSRF token in the shared session)', async () => {
      for (const [from, to] of [
        [appA, appB],
        [appB, appA],
      ] as const) {
        const form = await request(from).get('/login').set(html).expect(200);
        const cookie = String(([] as string[]).concat(form.headers['set-cookie'] as unknown as string[])[0]).split(';')[0]!;
        const res = await request(to)
          .post('/login')
          .type('form')
          .set('Cookie', cookie)
          .send({ username: 'lena', password: 'correct horse battery', _csrf: csrfFrom(form.text), next: '/' });
        expect(res.status, 'the post is accepted, not "This form has expired"').to.equal(303);
      }
    });

    it('is the same for processes that start at the same moment', async () => {
      await t.site.db.knex('site_config').where({ name: SESSION_SECRET_SETTING }).delete();
      const secrets = await Promise.all([t.site.db, other.db, t.site.db, other.db].map((db) => loadOrCreateSessionSecret(db)));
      expect(new Set(secrets).size).to.equal(1);
      expect(await t.site.db.knex('site_config').where({ name: SESSION_SECRET_SETTING })).to.have.length(1);
    });

    it('is SESSION_SECRET when that is set: a cookie signed with the stored secret means nobody', async () => {
      const configured = createSite({
        config: { databaseUrl: t.database.url, pluginsDir: t.pluginsDir, sessionSecret: 'operator-chosen-secret-0123456789' },
        logger: silentLogger(),
      });
      try {
        await configured.start();
        const cookie = await login(request.agent(appA), 'lena');
        const res = await request(createApp(configured)).get('/').set(html).set('Cookie', cookie).expect(200);
        expect(res.text).to.not.contain('Lena Learner');
      } finally {
        await configured.stop();
      }
    });
  });

  describe('login throttling', () => {
    /** A fresh session and CSRF token on `app`, for posting failed sign-ins from address `ip`. */
    async function formOn(app: express.Express, ip: string): Promise<{ cookie: string; csrf: string }> {
      const form = await request(app).get('/login').set(html).set('X-Forwarded-For', ip).expect(200);
      const cookie = String(([] as string[]).concat(form.headers['set-cookie'] as unknown as string[])[0]).split(';')[0]!;
      return { cookie, csrf: csrfFrom(form.text) };
    }
    function attempt(
      app: express.Express,
      ip: string,
      form: { cookie: string; csrf: string },
      username: string,
      password = 'wrong password',
      accept = 'text/html',
    ) {
      return request(app)
        .post('/login')
        .type('form')
        .set('Accept', accept)
        .set('X-Forwarded-For', ip)
        .set('Cookie', form.cookie)
        .send({ username, password, _csrf: form.csrf, next: '/' });
    }

    it(`counts failed sign-ins on every process together: ${LOGIN_ATTEMPTS} per account and address, then 429`, async () => {
      const ip = '203.0.113.10';
      const formA = await formOn(appA, ip);
      const formB = await formOn(appB, ip);
      for (let i = 0; i < LOGIN_ATTEMPTS; i++) {
        // Alternating processes: a per-process count would allow twice as many.
        const res = await attempt(i % 2 ? appB : appA, ip, i % 2 ? formB : formA, 'rita');
        expect(res.status, `attempt ${i + 1}`).to.equal(401);
      }
      const blocked = await attempt(appA, ip, formA, 'rita', 'correct horse battery');
      expect(blocked.status).to.equal(429);
      expect(blocked.text).to.contain('Too many failed sign-in attempts. Wait 15 minutes before trying again.');
      const json = await attempt(appB, ip, formB, 'rita', 'correct horse battery', 'application/json');
      expect(json.status).to.equal(429);
      expect(json.body).to.deep.equal({
        error: { code: LOGIN_RATE_LIMITED, message: 'Too many failed sign-in attempts. Wait 15 minutes before trying again.', details: [] },
      });
      // Nobody elsewhere is locked out of the account.
      expect((await attempt(appB, '203.0.113.11', await formOn(appB, '203.0.113.11'), 'rita', 'correct horse battery')).status).to.equal(303);
    });

    it(`stops one address trying many usernames after ${LOGIN_IP_ATTEMPTS} failures, whichever process it reaches`, async () => {
      const ip = '198.51.100.20';
      const forms = [await formOn(appA, ip), await formOn(appB, ip)];
      for (let i = 0; i < LOGIN_IP_ATTEMPTS; i++) {
        const res = await attempt(i % 2 ? appB : appA, ip, forms[i % 2]!, `guess${i}`);
        expect(res.status, `attempt ${i + 1}`).to.equal(401);
      }
      const blocked = await attempt(appA, ip, forms[0]!, 'lena', 'correct horse battery');
      expect(blocked.status).to.equal(429);
      expect(blocked.text).to.contain('Too many failed sign-in attempts');
      expect(blocked.headers['retry-after'], 'clients are told when to retry').to.match(/^[0-9]+$/);
      // Another address is unaffected.
      expect((await attempt(appA, '198.51.100.21', await formOn(appA, '198.51.100.21'), 'lena', 'correct horse battery')).status).to.equal(303);
    });

    it('counts every one of many simultaneous hits from two processes exactly once', async () => {
      // On SQLite both stores use one connection: better-sqlite3 waits for a lock synchronously, so two
      // connections inside one test process would block each other's event loop (real processes do not).
      const stores = [new DatabaseRateLimitStore(t.site.db, 'test:'), new DatabaseRateLimitStore(testDialect === 'sqlite' ? t.site.db : other.db, 'test:')];
      for (const store of stores) store.init({ windowMs: 60_000 } as Parameters<DatabaseRateLimitStore['init']>[0]);
      const hits = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.increment('burst')));
      expect(hits.map((h) => h.totalHits).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
      expect((await stores[0]!.get('burst'))?.totalHits).to.equal(40);
    });
  });

  describe('the launch fast path', () => {
    it('sends the same security headers on its redirect and on the refusal page as on every page', async () => {
      const learner = await createUser(t.site, 'fay', { fullname: 'Fay Fast' });
      const open = await createCourse(t.site, 'FP1', 'Fast One');
      const locked = await createCourse(t.site, 'FP2', 'Fast Two');
      await assign(
        t.site,
        await createProgram(t.site, 'fast', [
          { label: 'First', courseIds: [open], rule: 'all', operator: 'then' },
          { label: 'Second', courseIds: [locked], rule: 'all' },
        ]),
        learner,
      );
      const agent = request.agent(appA);
      await login(agent, 'fay');
      const page = await agent.get('/').set(html).expect(200);
      await agent.get(`/courses/${open}/launch`).set(html).expect(302); // first launch enrols (full route)
      const fast = await agent.get(`/courses/${open}/launch`).set(html).expect(302).expect('location', `/courses/${open}`);
      const refused = await agent.get(`/courses/${locked}/launch`).set(html).expect(403);
      for (const header of [
        'content-security-policy',
        'strict-transport-security',
        'x-content-type-options',
        'x-frame-options',
        'referrer-policy',
        'cross-origin-opener-policy',
      ]) {
        expect(fast.headers[header], `${header} on the redirect`).to.equal(page.headers[header]);
        expect(refused.headers[header], `${header} on the refusal`).to.equal(page.headers[header]);
      }
      // A tampered signature is not a session: the learner is sent to sign in.
      const cookie = (await login(request.agent(appA), 'fay')).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      await request(appA)
        .get(`/courses/${open}/launch`)
        .set(html)
        .set('Cookie', cookie)
        .expect(302)
        .expect('location', /^\/login/);
    });
  });
});
