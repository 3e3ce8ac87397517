import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createSite, type Site } from '../../core/site';
import { SESSION_CLEANUP_JOB, SESSION_COOKIE } from '../../core/kernel/auth/sessions';
import { LOGIN_ATTEMPTS } from '../../core/kernel/auth/login';
import { silentLogger } from '../utils/site';
import { createCourse, createLaunchSite, createUser, csrfFrom, login, type LaunchSite } from './launch-fixtures';

const html = { Accept: 'text/html' };

function sessionCookie(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []);
  return cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
}

describe('sessions and login', function () {
  this.timeout(60_000);
  let t: LaunchSite;
  let site: Site;
  let app: express.Express;
  let learnerId: number;
  let courseId: number;

  before(async () => {
    t = await createLaunchSite();
    site = t.site;
    app = createApp(site);
    learnerId = await createUser(site, 'lena', { fullname: 'Lena Learner' });
    courseId = await createCourse(site, 'C1', 'Course One');
  });
  after(async () => {
    await t?.close();
  });

  it('serves a login form with a CSRF token and an HttpOnly, SameSite=Lax session cookie', async () => {
    const res = await request(app).get('/login').set(html).expect(200);
    expect(res.text).to.contain('<form method="post" action="/login"');
    expect(res.text).to.match(/<label for="login-username">/);
    expect(csrfFrom(res.text)).to.have.length.greaterThan(20);
    const cookie = sessionCookie(res);
    expect(cookie, 'the token lives in a session').to.be.a('string');
    expect(cookie).to.contain('HttpOnly').and.contain('SameSite=Lax').and.contain('Path=/');
    expect(cookie).to.not.contain('Secure');
  });

  it('marks the cookie Secure when the request came over https', async () => {
    const res = await request(app).get('/login').set(html).set('X-Forwarded-Proto', 'https').expect(200);
    expect(sessionCookie(res)).to.contain('Secure');
  });

  it('sends a signed-out browser to the login page and back to where it was going after signing in', async () => {
    const agent = request.agent(app);
    const page = `/courses/${courseId}/launch`;
    const res = await agent.get(page).set(html).expect(302);
    expect(res.headers.location).to.equal(`/login?next=${encodeURIComponent(page)}`);
    const form = await agent.get(res.headers.location!).set(html).expect(200);
    expect(form.text).to.contain(`name="next" value="${page}"`);
    const signedIn = await agent
      .post('/login')
      .type('form')
      .send({ username: 'lena', password: 'correct horse battery', next: page, _csrf: csrfFrom(form.text) })
      .expect(303);
    expect(signedIn.headers.location).to.equal(page);
    // A client that does not ask for HTML gets a plain 401 instead of a redirect.
    await request(app).get(page).expect(401);
  });

  it('never redirects off the site after signing in', async () => {
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const agent = request.agent(app);
      const form = await agent.get('/login').set(html).expect(200);
      const res = await agent
        .post('/login')
        .type('form')
        .send({ username: 'lena', password: 'correct horse battery', next, _csrf: csrfFrom(form.text) })
        .expect(303);
      expect(res.headers.location, next).to.equal('/');
    }
  });

  it('gives a new session id at login, records the first login once, and knows who is signed in', async () => {
    await site.db.knex('users').where({ id: learnerId }).update({ first_login_at: null });
    const agent = request.agent(app);
    const form = await agent.get('/login').set(html).expect(200);
    const before = sessionCookie(form)!.split(';')[0];
    const res = await agent
      .post('/login')
      .type('form')
      .send({ username: 'lena', password: 'correct horse battery', _csrf: csrfFrom(form.text) })
      .expect(303);
    const after = sessionCookie(res)!.split(';')[0];
    expect(after).to.not.equal(before);
    const first = (await site.services.users.get(learnerId)).firstLoginAt;
    expect(first).to.be.a('number');
    const home = await agent.get('/').set(html).expect(200);
    expect(home.text).to.contain('Lena Learner');
    await login(request.agent(app), 'lena');
    expect((await site.services.users.get(learnerId)).firstLoginAt, 'first login is kept').to.equal(first);
  });

  it('refuses a wrong password or an unknown user with the same message and no session', async () => {
    const agent = request.agent(app);
    const form = await agent.get('/login').set(html).expect(200);
    const wrong = await agent
      .post('/login')
      .type('form')
      .send({ username: 'lena', password: 'nope', _csrf: csrfFrom(form.text) })
      .expect(401);
    expect(wrong.text).to.contain('That username and password do not match an active account.');
    expect(wrong.text).to.contain('value="lena"');
    const unknown = await agent
      .post('/login')
      .type('form')
      .send({ username: 'nobody', password: 'nope', _csrf: csrfFrom(form.text) })
      .expect(401);
    expect(unknown.text).to.contain('That username and password do not match an active account.');
    await agent
      .get(`/courses/${courseId}/launch`)
      .set(html)
      .expect(302)
      .expect('location', /^\/login/);
  });

  it('refuses a login post without a valid CSRF token', async () => {
    const agent = request.agent(app);
    await agent.get('/login').set(html).expect(200);
    const res = await agent.post('/login').type('form').send({ username: 'lena', password: 'correct horse battery' }).expect(403);
    expect(res.type).to.equal('text/html');
    expect(res.text).to.contain('This form has expired or did not come from this site');
    await agent.post('/login').type('form').send({ username: 'lena', password: 'correct horse battery', _csrf: 'forged' }).expect(403);
    await agent
      .get(`/courses/${courseId}/launch`)
      .set(html)
      .expect(302)
      .expect('location', /^\/login/);
  });

  it('signs out with POST /logout, deleting the stored session', async () => {
    const agent = request.agent(app);
    await login(agent, 'lena');
    const rowsBefore = Number(((await site.db.knex('sessions').where({ user_id: learnerId }).count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
    const page = await agent.get('/login').set(html).expect(200);
    await agent.post('/logout').type('form').send({}).expect(403);
    await agent
      .get('/')
      .set(html)
      .expect(200)
      .expect((res) => expect(res.text).to.contain('Lena'));
    await agent
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303)
      .expect('location', '/login');
    const rowsAfter = Number(((await site.db.knex('sessions').where({ user_id: learnerId }).count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
    expect(rowsAfter).to.equal(rowsBefore - 1);
    await agent
      .get(`/courses/${courseId}/launch`)
      .set(html)
      .expect(302)
      .expect('location', /^\/login/);
  });

  it('shares sessions between server processes through the database', async () => {
    const other = createSite({
      config: { databaseUrl: t.database.url, pluginsDir: t.pluginsDir, sessionSecret: 'test-secret-of-sufficient-length' },
      logger: silentLogger(),
    });
    try {
      await other.start();
      const otherApp = createApp(other);
      const cookie = await login(request.agent(app), 'lena');
      // The cookie one process set is honoured by the other.
      const res = await request(otherApp).get('/').set(html).set('Cookie', cookie).expect(200);
      expect(res.text).to.contain('Lena Learner');
    } finally {
      await other.stop();
    }
  });

  it('ends the session of a user who is suspended', async () => {
    const id = await createUser(site, 'soon_gone', { fullname: 'Soon Gone' });
    const agent = request.agent(app);
    await login(agent, 'soon_gone');
    expect((await agent.get('/').set(html)).text).to.contain('Soon Gone');
    await site.services.users.update(id, { suspended: true });
    expect((await agent.get('/').set(html)).text).to.not.contain('Soon Gone');
  });

  it('deletes expired sessions with the scheduled cleanup job', async () => {
    const now = site.db.now();
    await site.db.knex('sessions').insert([
      { sid: 'expired-one', user_id: learnerId, data: '{"cookie":{}}', expires_at: now - 1000 },
      { sid: 'still-fresh', user_id: learnerId, data: '{"cookie":{}}', expires_at: now + 3_600_000 },
    ]);
    await site.jobs.enqueue(SESSION_CLEANUP_JOB);
    await site.jobs.drain();
    const sids = (await site.db.knex('sessions').whereIn('sid', ['expired-one', 'still-fresh']).pluck('sid')) as string[];
    expect(sids).to.deep.equal(['still-fresh']);
  });

  it(`stops password guessing after ${LOGIN_ATTEMPTS} failures for one account from one address, with a clear message`, async () => {
    await createUser(site, 'target');
    const agent = request.agent(app);
    const form = await agent.get('/login').set(html).expect(200);
    const token = csrfFrom(form.text);
    for (let i = 0; i < LOGIN_ATTEMPTS; i++) {
      await agent
        .post('/login')
        .type('form')
        .send({ username: 'target', password: `guess-${i}`, _csrf: token })
        .expect(401);
    }
    const limited = await agent.post('/login').type('form').send({ username: 'target', password: 'correct horse battery', _csrf: token }).expect(429);
    expect(limited.text).to.contain('Too many failed sign-in attempts. Wait 15 minutes before trying again.');
    // Other accounts from the same address are not locked out.
    await agent.post('/login').type('form').send({ username: 'lena', password: 'correct horse battery', _csrf: token }).expect(303);
  });
});
