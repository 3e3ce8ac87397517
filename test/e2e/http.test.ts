import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken, revokeApiToken } from '../../core/kernel/auth/tokens';
import { WaymarkError } from '../../core/kernel/errors';
import type { ApiRoute, JsonSchema } from '../../core/kernel/http/routes';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';

async function insertUser(site: Site, username: string, extra: Record<string, unknown> = {}): Promise<number> {
  const now = site.db.now();
  const [id] = (await site.db
    .knex('users')
    .insert({ username, email: `${username}@example.com`, fullname: username, created_at: now, updated_at: now, ...extra })) as [number];
  return Number(id);
}

const widgetSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'count'],
  properties: { name: { type: 'string', minLength: 1 }, count: { type: 'integer', minimum: 0 }, email: { type: 'string', format: 'email' } },
};

describe('HTTP app', () => {
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let adminToken: string;
  let userToken: string;
  let suspendedToken: string;
  const created: unknown[] = [];

  const widgetRoutes = (): ApiRoute[] => [
    {
      method: 'get',
      path: '/widgets/:id',
      summary: 'Read a widget',
      access: 'user',
      response: { type: 'object', properties: { id: { type: 'integer' }, by: { type: 'string' } } },
      handler: (req) => ({ body: { id: req.params.id, by: req.user!.username } }),
    },
    {
      method: 'post',
      path: '/widgets',
      summary: 'Create a widget',
      access: 'admin',
      body: widgetSchema,
      successStatus: 201,
      response: { type: 'object', properties: { ok: { type: 'boolean' } } },
      handler: (req) => {
        created.push(req.body);
        return { body: { ok: true } };
      },
    },
    {
      method: 'get',
      path: '/widgets-public',
      summary: 'Public',
      access: 'public',
      response: { type: 'object', properties: { user: { type: ['string', 'null'] } } },
      handler: (req) => ({ body: { user: req.user?.username ?? null } }),
    },
  ];
  const registerWidgets = () => {
    const registrar = site.routes.registrarFor('local_widgets');
    for (const r of widgetRoutes()) registrar.api(r);
  };

  before(async () => {
    t = await createTestSite();
    site = t.site;
    app = createApp(site);
    adminToken = await createApiToken(site.db, await insertUser(site, 'admin', { is_admin: true }));
    userToken = await createApiToken(site.db, await insertUser(site, 'learner'));
    suspendedToken = await createApiToken(site.db, await insertUser(site, 'gone', { suspended: true }));
    const core = site.routes.registrarFor('test_errors');
    core.api({
      method: 'post',
      path: '/test/semantic',
      summary: 'Always 422',
      access: 'public',
      handler: () => {
        throw new WaymarkError('DUE_DATE_IN_PAST', 'The due date is in the past', 422, [{ path: '/due', message: 'must be in the future' }]);
      },
    });
    core.api({
      method: 'get',
      path: '/test/boom',
      summary: 'Always 500',
      access: 'public',
      handler: () => {
        throw new Error('secret connection string postgres://x:y@z');
      },
    });
    core.page({
      method: 'get',
      path: '/test/mine',
      access: 'user',
      handler: (req, res) => res.locals.render('error', { heading: `Hello ${req.user!.fullname}`, status: 200 }),
    });
    core.page({ method: 'get', path: '/test/page-boom', access: 'public', handler: () => Promise.reject(new Error('page exploded at /srv/secret')) });
  });
  after(async () => {
    await t?.close();
  });

  it('answers the health check after checking the database', async () => {
    const res = await request(app).get('/healthz').expect(200);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('echoes a sane X-Request-Id and replaces anything else with a generated one', async () => {
    const given = await request(app).get('/healthz').set('X-Request-Id', 'abc-123.def');
    expect(given.headers['x-request-id']).to.equal('abc-123.def');
    const generated = await request(app).get('/healthz');
    expect(generated.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    const hostile = await request(app).get('/healthz').set('X-Request-Id', 'a b<script>'.repeat(20));
    expect(hostile.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers on every response', async () => {
    const res = await request(app).get('/healthz');
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['content-security-policy']).to.contain("default-src 'self'");
    expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN');
    expect(res.headers).to.not.have.property('x-powered-by');
  });

  it('documents routes registered at runtime in the OpenAPI document and drops them with their owner', async () => {
    registerWidgets();
    let doc = (await request(app).get('/api/v1/openapi.json').expect(200)).body;
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.paths['/widgets/{id}'].get.tags).to.deep.equal(['local_widgets']);
    expect(doc.paths['/widgets'].post.requestBody.content['application/json'].schema).to.deep.equal(widgetSchema);
    expect(doc.paths['/widgets'].post.responses).to.have.property('201');
    expect(doc.paths['/plugins'].get.security).to.deep.equal([{ bearerAuth: [] }]);
    site.routes.removeOwner('local_widgets');
    doc = (await request(app).get('/api/v1/openapi.json').expect(200)).body;
    expect(doc.paths).to.not.have.property('/widgets/{id}');
    expect(doc.paths).to.have.property('/plugins');
  });

  it('stops serving an owner’s routes as soon as they are removed and serves them again when re-registered', async () => {
    registerWidgets();
    await request(app).get('/api/v1/widgets/7').set('Authorization', `Bearer ${userToken}`).expect(200, { id: 7, by: 'learner' });
    site.routes.removeOwner('local_widgets');
    const gone = await request(app).get('/api/v1/widgets/7').set('Authorization', `Bearer ${userToken}`).expect(404);
    expect(gone.body.error.code).to.equal('NOT_FOUND');
    registerWidgets();
    await request(app).get('/api/v1/widgets/7').set('Authorization', `Bearer ${userToken}`).expect(200);
  });

  it('requires a valid token of an active user, and the admin capability on admin routes', async () => {
    const none = await request(app).get('/api/v1/widgets/1').expect(401);
    expect(none.body.error.code).to.equal('UNAUTHENTICATED');
    expect(none.headers['www-authenticate']).to.equal('Bearer');
    expect((await request(app).get('/api/v1/widgets/1').set('Authorization', 'Bearer wm_nope').expect(401)).body.error.code).to.equal('UNAUTHENTICATED');
    expect((await request(app).get('/api/v1/widgets/1').set('Authorization', `Basic ${userToken}`).expect(401)).body.error.code).to.equal('UNAUTHENTICATED');
    expect((await request(app).get('/api/v1/widgets/1').set('Authorization', `Bearer ${suspendedToken}`).expect(401)).body.error.code).to.equal(
      'UNAUTHENTICATED',
    );

    const forbidden = await request(app).get('/api/v1/plugins').set('Authorization', `Bearer ${userToken}`).expect(403);
    expect(forbidden.body.error.code).to.equal('FORBIDDEN');
    const list = await request(app).get('/api/v1/plugins').set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect(list.body.plugins).to.be.an('array');

    await request(app).get('/api/v1/widgets-public').expect(200, { user: null });
    await request(app).get('/api/v1/widgets-public').set('Authorization', `Bearer ${userToken}`).expect(200, { user: 'learner' });
  });

  it('records when a token was last used and rejects it once revoked', async () => {
    const token = await createApiToken(site.db, await insertUser(site, 'shortlived'), 'ci');
    const before = await site.db.knex('api_tokens').where({ name: 'ci' }).first('last_used_at', 'token_hash');
    expect(before.last_used_at).to.equal(null);
    expect(before.token_hash).to.not.contain(token.slice(3, 20));
    await request(app).get('/api/v1/widgets/1').set('Authorization', `Bearer ${token}`).expect(200);
    const after = await site.db.knex('api_tokens').where({ name: 'ci' }).first('last_used_at');
    expect(Number(after.last_used_at)).to.be.greaterThan(0);
    expect(await revokeApiToken(site.db, token)).to.equal(true);
    await request(app).get('/api/v1/widgets/1').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('rejects a body that does not match the schema with every problem listed, and does nothing', async () => {
    const before = created.length;
    const res = await request(app)
      .post('/api/v1/widgets')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ count: -1, email: 'not-an-email', colour: 'red' })
      .expect(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    const details = res.body.error.details as Array<{ path: string; code: string; message: string }>;
    expect(details.map((d) => `${d.path} ${d.code}`)).to.have.members(['/name required', '/count minimum', '/email format', '/colour additionalProperties']);
    for (const d of details) expect(d.message).to.be.a('string').and.not.equal('');
    expect(created.length).to.equal(before);

    await request(app).post('/api/v1/widgets').set('Authorization', `Bearer ${adminToken}`).send({ name: 'w', count: 2 }).expect(201, { ok: true });
    expect(created.at(-1)).to.deep.equal({ name: 'w', count: 2 });
  });

  it('answers malformed JSON with 400 MALFORMED_JSON and an oversized body with 413', async () => {
    const res = await request(app)
      .post('/api/v1/widgets')
      .set('Authorization', `Bearer ${adminToken}`)
      .set('Content-Type', 'application/json')
      .send('{"name": "w",')
      .expect(400);
    expect(res.body.error.code).to.equal('MALFORMED_JSON');
    const huge = await request(app)
      .post('/api/v1/widgets')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ name: 'x'.repeat(2 * 1024 * 1024), count: 1 })
      .expect(413);
    expect(huge.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('passes a WaymarkError through with its status, code and details', async () => {
    const res = await request(app).post('/api/v1/test/semantic').send({}).expect(422);
    expect(res.body).to.deep.equal({
      error: { code: 'DUE_DATE_IN_PAST', message: 'The due date is in the past', details: [{ path: '/due', message: 'must be in the future' }] },
    });
  });

  it('answers an unexpected failure with 500 INTERNAL and the request id, without leaking internals', async () => {
    const res = await request(app).get('/api/v1/test/boom').set('X-Request-Id', 'trace-500').expect(500);
    expect(res.body.error.code).to.equal('INTERNAL');
    expect(res.body.error.requestId).to.equal('trace-500');
    expect(res.text).to.not.contain('secret').and.not.contain('at ').and.not.contain('.ts');
  });

  it('answers unknown API paths with JSON 404', async () => {
    const res = await request(app).get('/api/v1/no-such-thing').expect(404);
    expect(res.type).to.equal('application/json');
    expect(res.body.error.code).to.equal('NOT_FOUND');
  });

  it('answers GET /jobs/{id} for an unknown job with 404', async () => {
    const res = await request(app).get('/api/v1/jobs/999999').set('Authorization', `Bearer ${adminToken}`).expect(404);
    expect(res.body.error.code).to.equal('NOT_FOUND');
    await request(app).get('/api/v1/jobs/abc').set('Authorization', `Bearer ${adminToken}`).expect(404);
  });

  it('renders page errors as themed HTML, not JSON', async () => {
    const missing = await request(app).get('/no/such/page').expect(404);
    expect(missing.type).to.equal('text/html');
    expect(missing.text).to.contain('<main').and.contain('404');
    const anonymous = await request(app).get('/test/mine').expect(401);
    expect(anonymous.type).to.equal('text/html');
    const mine = await request(app).get('/test/mine').set('Authorization', `Bearer ${userToken}`).expect(200);
    expect(mine.text).to.contain('Hello learner');
    const boom = await request(app).get('/test/page-boom').expect(500);
    expect(boom.type).to.equal('text/html');
    expect(boom.text).to.not.contain('/srv/secret');
    expect(boom.text).to.contain(boom.headers['x-request-id']);
  });
});

describe('HTTP app health check with the database down', () => {
  it('answers 503 when the database cannot be reached', async () => {
    const t = await createTestSite();
    try {
      const app = createApp(t.site);
      await request(app).get('/healthz').expect(200);
      await t.site.db.knex.destroy();
      const res = await request(app).get('/healthz').expect(503);
      expect(res.body.status).to.equal('unavailable');
    } finally {
      await t.close();
    }
  });
});

describe('HTTP app and plugin state', () => {
  let t: TestSite;
  let app: express.Express;
  let admin: string;

  before(async () => {
    t = await createTestSite({ pluginsDir: path.resolve(import.meta.dirname, '../fixtures/plugins') });
    app = createApp(t.site);
    admin = await createApiToken(t.site.db, await insertUser(t.site, 'operator', { is_admin: true }));
  });
  after(async () => {
    await t?.close();
  });

  it('turns a plugin’s routes off and on through the plugins API, without a restart', async () => {
    const auth = { Authorization: `Bearer ${admin}` };
    await request(app).get('/api/v1/local_hello/greeting').set(auth).expect(200, { message: 'Hello, operator', completedCourses: 0 });

    const disabled = await request(app).post('/api/v1/plugins/local_hello/disable').set(auth).expect(200);
    expect(disabled.body).to.include({ id: 'local_hello', enabled: false, state: 'disabled' });
    expect((await request(app).get('/api/v1/local_hello/greeting').set(auth).expect(404)).body.error.code).to.equal('NOT_FOUND');
    expect((await request(app).get('/api/v1/openapi.json')).body.paths).to.not.have.property('/local_hello/greeting');
    const listed = (await request(app).get('/api/v1/plugins').set(auth).expect(200)).body.plugins as Array<{ id: string; state: string }>;
    expect(listed.find((p) => p.id === 'local_hello')?.state).to.equal('disabled');

    await request(app).post('/api/v1/plugins/local_hello/enable').set(auth).expect(200);
    await request(app).get('/api/v1/local_hello/greeting').set(auth).expect(200);
    expect((await request(app).get('/api/v1/openapi.json')).body.paths['/local_hello/greeting'].get.tags).to.deep.equal(['local_hello']);
  });

  it('refuses plugin changes to non-administrators and leaves the plugin as it was', async () => {
    const learner = await createApiToken(t.site.db, await insertUser(t.site, 'learner2'));
    await request(app).post('/api/v1/plugins/local_hello/disable').set('Authorization', `Bearer ${learner}`).expect(403);
    await request(app).post('/api/v1/plugins/local_hello/disable').expect(401);
    await request(app).get('/api/v1/local_hello/greeting').set('Authorization', `Bearer ${learner}`).expect(200);
  });
});
