import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import type { Site } from '../../core/site';
import { createApiToken, issueApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import { testDialect } from '../utils/db';
import { createLaunchSite, createUser, csrfFrom, login, type LaunchSite } from './launch-fixtures';

const html = { Accept: 'text/html' };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Issue 10 item 1: credentials end with a password change or a suspension, and people can see and end their own. */
describe(`credentials: revocation, token management, sessions page (${testDialect})`, function () {
  this.timeout(120_000);
  let t: LaunchSite;
  let site: Site;
  let app: express.Express;
  let adminId: number;
  let adminToken: string;

  before(async () => {
    t = await createLaunchSite();
    site = t.site;
    app = createApp(site, { validateResponses: true });
    adminId = await createUser(site, 'ops', { isAdmin: true });
    adminToken = await createApiToken(site.db, adminId);
  });
  after(async () => {
    await t?.close();
  });

  /** A signed-in browser's cookie and a token for a fresh learner. */
  async function learnerWithCredentials(username: string): Promise<{ id: number; cookie: string; token: string }> {
    const id = await createUser(site, username);
    const cookie = await login(request.agent(app), username);
    const token = await createApiToken(site.db, id);
    await request(app).get('/my/required-learning').set(html).set('Cookie', cookie).expect(200);
    await request(app).get(`/api/v1/users/${id}`).set(bearer(token)).expect(200);
    return { id, cookie, token };
  }

  async function expectSignedOut(cookie: string, token: string): Promise<void> {
    const page = await request(app).get('/my/required-learning').set(html).set('Cookie', cookie).expect(302);
    expect(page.headers.location).to.match(/^\/login\?next=/);
    await request(app).get('/api/v1/users/1').set(bearer(token)).expect(401);
  }

  it('a password change ends the old session and token; the changer keeps working', async () => {
    const lena = await learnerWithCredentials('lena');
    await request(app).patch(`/api/v1/users/${lena.id}`).set(bearer(adminToken)).send({ password: 'a new password 1' }).expect(200);
    await expectSignedOut(lena.cookie, lena.token);
    await request(app).get(`/api/v1/users/${lena.id}/tokens`).set(bearer(adminToken)).expect(200);
    // The new password signs in.
    await login(request.agent(app), 'lena', 'a new password 1');
  });

  it("changing one's own password keeps the credential making the change and ends the others", async () => {
    const selfId = await createUser(site, 'selfops', { isAdmin: true });
    const [using, other] = [await createApiToken(site.db, selfId), await createApiToken(site.db, selfId)];
    const cookie = await login(request.agent(app), 'selfops');
    await request(app).patch(`/api/v1/users/${selfId}`).set(bearer(using)).send({ password: 'another password' }).expect(200);
    await request(app).get(`/api/v1/users/${selfId}`).set(bearer(using)).expect(200);
    await expectSignedOut(cookie, other);
  });

  it('suspending ends sessions and tokens, and un-suspending does not bring them back', async () => {
    const sam = await learnerWithCredentials('sam');
    await request(app).patch(`/api/v1/users/${sam.id}`).set(bearer(adminToken)).send({ suspended: true }).expect(200);
    await request(app).patch(`/api/v1/users/${sam.id}`).set(bearer(adminToken)).send({ suspended: false }).expect(200);
    await expectSignedOut(sam.cookie, sam.token);
    const { rows } = await countCredentials(sam.id);
    expect(rows).to.deep.equal({ sessions: 0, tokens: 0 });
  });

  it('a refused password change ends nothing', async () => {
    const ria = await learnerWithCredentials('ria');
    // A valid password with an invalid timezone: the whole change is refused.
    await request(app).patch(`/api/v1/users/${ria.id}`).set(bearer(adminToken)).send({ password: 'fresh password', timezone: 'Mars/Olympus' }).expect(422);
    await request(app).get(`/api/v1/users/${ria.id}`).set(bearer(ria.token)).expect(200);
    await request(app).get('/my/required-learning').set(html).set('Cookie', ria.cookie).expect(200);
  });

  it('lists, creates with an expiry, and revokes tokens through the API', async () => {
    const kim = await learnerWithCredentials('kim');
    const created = await request(app).post(`/api/v1/users/${kim.id}/tokens`).set(bearer(kim.token)).send({ name: 'laptop', expires: 'P90D' }).expect(201);
    const body = created.body as { token: string; info: { id: number; name: string; expiresAt: string } };
    expect(body.token).to.match(/^wm_/);
    expect(body.info.name).to.equal('laptop');
    const days = (Date.parse(body.info.expiresAt) - Date.now()) / 86_400_000;
    expect(days).to.be.within(89.9, 90.1);
    await request(app).get(`/api/v1/users/${kim.id}`).set(bearer(body.token)).expect(200);

    const list = await request(app).get(`/api/v1/users/${kim.id}/tokens`).set(bearer(adminToken)).expect(200);
    const tokens = (list.body as { items: Array<{ id: number; name: string; lastUsedAt: string | null; expired: boolean }> }).items;
    expect(tokens.map((x) => x.name)).to.deep.equal(['laptop', 'cli']);
    expect(tokens[0]!.lastUsedAt, 'last used is shown').to.be.a('string');
    expect(JSON.stringify(list.body)).to.not.contain(body.token);

    await request(app).delete(`/api/v1/tokens/${body.info.id}`).set(bearer(kim.token)).expect(204);
    await request(app).get(`/api/v1/users/${kim.id}`).set(bearer(body.token)).expect(401);
    await request(app).delete(`/api/v1/tokens/${body.info.id}`).set(bearer(adminToken)).expect(404);
    await request(app).post(`/api/v1/users/${kim.id}/tokens`).set(bearer(kim.token)).send({ expires: '2020-01-01' }).expect(422);
    await request(app).post(`/api/v1/users/${kim.id}/tokens`).set(bearer(kim.token)).send({ expires: '2027-02-30' }).expect(422);
    // A time without an offset is read in the site's time zone (UTC here), not the server's.
    const local = await request(app).post(`/api/v1/users/${kim.id}/tokens`).set(bearer(kim.token)).send({ expires: '2099-01-01T10:00' }).expect(201);
    expect(local.body.info.expiresAt).to.equal('2099-01-01T10:00:00.000Z');
  });

  it("a learner cannot list, create or revoke another user's tokens (403)", async () => {
    const a = await learnerWithCredentials('amy');
    const b = await learnerWithCredentials('ben');
    const bTokens = await request(app).get(`/api/v1/users/${b.id}/tokens`).set(bearer(b.token)).expect(200);
    const bTokenId = (bTokens.body as { items: Array<{ id: number }> }).items[0]!.id;
    await request(app).get(`/api/v1/users/${b.id}/tokens`).set(bearer(a.token)).expect(403);
    await request(app).post(`/api/v1/users/${b.id}/tokens`).set(bearer(a.token)).send({}).expect(403);
    await request(app).delete(`/api/v1/tokens/${bTokenId}`).set(bearer(a.token)).expect(403);
    await request(app).get(`/api/v1/users/${b.id}`).set(bearer(b.token)).expect(200);
  });

  it('an expired token is 401', async () => {
    const id = await createUser(site, 'eve');
    const { token } = await issueApiToken(site.db, id, { name: 'old', expiresAt: site.db.now() - 1 });
    const res = await request(app).get(`/api/v1/users/${id}`).set(bearer(token)).expect(401);
    expect((res.body as { error: { code: string } }).error.code).to.equal('UNAUTHENTICATED');
  });

  it('the security page lists sessions and tokens, escapes names, and logs out everywhere but here', async () => {
    const id = await createUser(site, 'max');
    await issueApiToken(site.db, id, { name: '<script>alert(1)</script>', expiresAt: site.db.now() + 86_400_000 });
    const token = await createApiToken(site.db, id);
    const elsewhere = await login(request.agent(app), 'max');
    const here = request.agent(app);
    await login(here, 'max');

    const linked = await here.get('/my/required-learning').set(html).expect(200);
    expect(linked.text).to.contain('href="/my/security"');
    // ...and from the header of every page, on the signed-in person's name.
    const home = await here.get('/').set(html).expect(200);
    expect(home.text).to.match(/<li class="who"><a href="\/my\/security"/);
    const page = await here.get('/my/security').set(html).expect(200);
    expect(page.text).to.contain('This browser').and.contain('Another browser');
    expect(page.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).to.not.contain('<script>alert(1)');
    expect(page.text, 'phone-sized layout').to.contain('name="viewport"');

    // Without the CSRF token the form is refused and nothing ends.
    await here.post('/my/security/logout-everywhere').type('form').send({}).expect(403);
    await request(app).get(`/api/v1/users/${id}`).set(bearer(token)).expect(200);

    const done = await here
      .post('/my/security/logout-everywhere')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    expect(done.headers.location).to.equal('/my/security?done=everywhere');
    await expectSignedOut(elsewhere, token);
    const after = await here.get('/my/security').set(html).expect(200);
    expect(after.text).to.contain('This browser').and.contain('No API tokens.');
    expect(after.text).to.not.contain('Another browser');
  });

  it("ends one other session, or revokes one token, from the security page; never another user's", async () => {
    const id = await createUser(site, 'nora');
    const token = await createApiToken(site.db, id);
    const elsewhere = await login(request.agent(app), 'nora');
    const here = request.agent(app);
    await login(here, 'nora');
    const page = await here.get('/my/security').set(html).expect(200);
    const handles = [...page.text.matchAll(/name="session" value="([^"]+)"/g)].map((m) => m[1]!);
    expect(handles, 'only the other browser has an End button').to.have.length(1);
    expect(page.text).to.not.contain('name="session" value="' + 'undefined');

    const ended = await here
      .post('/my/security/sessions/end')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), session: handles[0] })
      .expect(303);
    expect(ended.headers.location).to.equal('/my/security?done=session');
    const signedOut = await request(app).get('/my/required-learning').set(html).set('Cookie', elsewhere).expect(302);
    expect(signedOut.headers.location).to.match(/^\/login/);
    await here.get('/my/required-learning').set(html).expect(200);
    await request(app).get(`/api/v1/users/${id}`).set(bearer(token)).expect(200);

    // Someone else's token id is "already gone" and stays valid.
    const otherId = await createUser(site, 'otto');
    const otherToken = await createApiToken(site.db, otherId);
    const others = (await request(app).get(`/api/v1/users/${otherId}/tokens`).set(bearer(adminToken)).expect(200)).body;
    const otherTokenId = others.items[0].id;
    const again = await here.get('/my/security').set(html).expect(200);
    const refused = await here
      .post('/my/security/tokens/revoke')
      .type('form')
      .send({ _csrf: csrfFrom(again.text), token: String(otherTokenId) })
      .expect(303);
    expect(refused.headers.location).to.equal('/my/security?done=gone');
    await request(app).get(`/api/v1/users/${otherId}`).set(bearer(otherToken)).expect(200);

    const ownTokenId = again.text.match(/name="token" value="(\d+)"/)![1];
    const revoked = await here
      .post('/my/security/tokens/revoke')
      .type('form')
      .send({ _csrf: csrfFrom(again.text), token: ownTokenId })
      .expect(303);
    expect(revoked.headers.location).to.equal('/my/security?done=token');
    await request(app).get(`/api/v1/users/${id}`).set(bearer(token)).expect(401);
  });

  it('pages a long list of tokens (API) and of sessions (the security page), and ends a session shown on a later page', async () => {
    const id = await createUser(site, 'paula');
    for (let i = 1; i <= 3; i++) await issueApiToken(site.db, id, { name: `script ${i}` });
    const first = await request(app).get(`/api/v1/users/${id}/tokens?limit=2`).set(bearer(adminToken)).expect(200);
    expect(first.body.items.map((t: { name: string }) => t.name)).to.deep.equal(['script 3', 'script 2']);
    const second = await request(app).get(`/api/v1/users/${id}/tokens?limit=2&cursor=${first.body.nextCursor}`).set(bearer(adminToken)).expect(200);
    expect(second.body.items.map((t: { name: string }) => t.name)).to.deep.equal(['script 1']);
    expect(second.body.nextCursor).to.equal(null);

    // 55 other browsers: the page shows the 50 most recently active, and links to the rest.
    const store = site.sessions.store;
    const save = (sid: string, minutesAgo: number) =>
      new Promise<void>((resolve, reject) =>
        store.set(
          sid,
          { cookie: { expires: new Date(Date.now() + 3_600_000 - minutesAgo * 60_000), originalMaxAge: 3_600_000 }, userId: id, loginAt: Date.now() } as never,
          (err?: unknown) => (err ? reject(err as Error) : resolve()),
        ),
      );
    for (let i = 0; i < 55; i++) await save(`paula-session-${String(i).padStart(2, '0')}-0123456789`, i + 5);
    const here = request.agent(app);
    await login(here, 'paula');
    const page1 = await here.get('/my/security').set(html).expect(200);
    expect(page1.text.match(/End this session/g)).to.have.length(49); // 50 shown, one of them this browser
    const next = /href="(\/my\/security\?sessions=[^"#]+)#sessions"/.exec(page1.text.replace(/&amp;/g, '&').replace(/&#x3D;/g, '='))![1]!;
    const page2 = await here.get(next).set(html).expect(200);
    expect(page2.text.match(/End this session/g)).to.have.length(6);
    const handle = /name="session" value="([^"]+)"/.exec(page2.text)![1]!;
    await here
      .post('/my/security/sessions/end')
      .type('form')
      .send({ _csrf: csrfFrom(page2.text), session: handle })
      .expect(303);
    expect((await store.userSessions(id, { limit: 100, from: null })).items).to.have.length(55);
  });

  it('a request in flight when its session is ended does not bring the session back when it saves', async () => {
    const id = await createUser(site, 'ines');
    const store = site.sessions.store;
    const sid = 'in-flight-session-0123456789';
    const data = { cookie: { expires: new Date(Date.now() + 3_600_000), originalMaxAge: 3_600_000 }, userId: id, loginAt: Date.now() } as never;
    const call = (fn: (cb: (err?: unknown) => void) => void) => new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err as Error) : resolve())));
    await call((cb) => store.set(sid, data, cb)); // signed in
    await call((cb) => store.get(sid, cb)); // a request starts and loads the session
    await store.destroyUserSessions(id); // meanwhile, the password changes
    await call((cb) => store.set(sid, data, cb)); // the request ends and saves its session
    expect((await store.userSessions(id, { limit: 50, from: null })).items).to.deep.equal([]);
  });

  it('anonymous visitors are sent to log in', async () => {
    const res = await request(app).get('/my/security').set(html).expect(302);
    expect(res.headers.location).to.equal('/login?next=%2Fmy%2Fsecurity');
  });

  it('waymark token create --expires, list and revoke', async () => {
    const id = await createUser(site, 'cli-user');
    const env = { ...process.env, DATABASE_URL: t.database.url, WAYMARK_PLUGINS_DIR: t.pluginsDir, LOG_LEVEL: 'warn' };
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], { cwd: projectRoot, env, encoding: 'utf8' });
    const created = cli('token', 'create', 'cli-user', '--name', 'deploy', '--expires', 'P30D');
    expect(created.status, created.stderr).to.equal(0);
    const token = created.stdout.trim();
    await request(app).get(`/api/v1/users/${id}`).set(bearer(token)).expect(200);

    const listed = cli('token', 'list', 'cli-user');
    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout)
      .to.match(/^ID\s+NAME\s+CREATED\s+LASTUSED\s+EXPIRES/m)
      .and.contain('deploy');
    const tokenId = /^(\d+)\s+deploy\s/m.exec(listed.stdout)![1]!;

    const bad = cli('token', 'create', 'cli-user', '--expires', 'soon');
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.contain('EXPIRY_INVALID');

    const revoked = cli('token', 'revoke', tokenId);
    expect(revoked.status, revoked.stderr).to.equal(0);
    await request(app).get(`/api/v1/users/${id}`).set(bearer(token)).expect(401);
    expect(cli('token', 'revoke', tokenId).status).to.equal(1);
  });

  async function countCredentials(userId: number): Promise<{ rows: { sessions: number; tokens: number } }> {
    const count = async (table: string) =>
      Number(((await site.db.knex(table).where('user_id', userId).count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);
    return { rows: { sessions: await count('sessions'), tokens: await count('api_tokens') } };
  }
});
