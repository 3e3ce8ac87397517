import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createHttpServer } from '../../core/kernel/http/server';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import { paramsSchemaOf, querySchemaOf } from '../../core/kernel/http/routes';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';

/** The documented error shape, and nothing else. */
function expectError(res: request.Response, status: number, code?: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.type).to.equal('application/json');
  expect(res.body).to.have.keys('error');
  expect(res.body.error).to.include.keys('code', 'message', 'details');
  expect(res.body.error.details).to.be.an('array');
  if (code) expect(res.body.error.code).to.equal(code);
}

/** One raw HTTP GET against a listening server (supertest would not show what Node itself answers). */
function rawGet(port: number, urlPath: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
  });
}

describe('HTTP contract (ids, query bounds, input bounds, OpenAPI completeness)', function () {
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let courseId: number;
  let audienceId: number;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

  before(async function () {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'contract-test-secret-0123456789' });
    site = t.site;
    app = createApp(site);
    const root = await site.services.users.create({ username: 'root', email: 'root@example.com', fullname: 'Root', isAdmin: true });
    admin = await createApiToken(site.db, root.id);
    courseId = (await request(app).post('/api/v1/courses').set(auth(admin)).send({ shortname: 'c1', fullname: 'Course one' }).expect(201)).body.id;
    audienceId = (await request(app).post('/api/v1/audiences').set(auth(admin)).send({ name: 'Everyone' }).expect(201)).body.id;
    await request(app).put(`/api/v1/audiences/${audienceId}/members/${root.id}`).set(auth(admin)).expect(200);
  });

  after(async function () {
    await t?.close();
  });

  describe('ids', function () {
    it('reads a course by its plain id', async function () {
      const res = await request(app).get(`/api/v1/courses/${courseId}`).set(auth(admin)).expect(200);
      expect(res.body).to.include({ id: courseId, shortname: 'c1' });
    });

    it('answers every other spelling of an id with a JSON 404 on API routes', async function () {
      const hex = `0x${courseId.toString(16)}`;
      for (const id of [hex, '0x10', `${courseId}.0`, '1.5', '-1', 'abc', '0', `0${courseId}`, `${courseId}e0`, '99999999999999999999']) {
        expectError(await request(app).get(`/api/v1/courses/${id}`).set(auth(admin)), 404, 'NOT_FOUND');
      }
      expectError(await request(app).get(`/api/v1/programs/1/learners/0x1`).set(auth(admin)), 404, 'NOT_FOUND');
      expectError(await request(app).post(`/api/v1/plugins/NOT-A-PLUGIN/enable`).set(auth(admin)), 404, 'NOT_FOUND');
    });

    it('answers them with a 404 page on page routes', async function () {
      for (const id of [`0x${courseId.toString(16)}`, '0x10', '1.5', '-1', 'abc']) {
        const res = await request(app).get(`/courses/${id}`).set(auth(admin)).set('Accept', 'text/html');
        expect(res.status, id).to.equal(404);
        expect(res.type).to.equal('text/html');
      }
      const real = await request(app).get(`/courses/${courseId}`).set(auth(admin)).set('Accept', 'text/html');
      expect(real.status).to.equal(200);
      expect(real.text).to.contain('Course one');
    });
  });

  describe('query parameters', function () {
    it('rejects an unknown query parameter with 400 naming it', async function () {
      const res = await request(app).get(`/api/v1/courses/${courseId}?expand=all`).set(auth(admin));
      expectError(res, 400, 'QUERY_INVALID');
      expect(res.body.error.details[0]).to.include({ path: '/expand', code: 'unknown_parameter' });
      expectError(await request(app).get('/api/v1/openapi.json?x=1'), 400, 'QUERY_INVALID');
    });

    it('bounds limit to 1..1000 and offset, so a huge offset never reaches the database', async function () {
      const members = `/api/v1/audiences/${audienceId}/members`;
      expectError(await request(app).get(`${members}?limit=0`).set(auth(admin)), 400, 'QUERY_INVALID');
      expectError(await request(app).get(`${members}?limit=1001`).set(auth(admin)), 400, 'QUERY_INVALID');
      expectError(await request(app).get(`${members}?offset=99999999999999999999`).set(auth(admin)), 400, 'QUERY_INVALID');
      expectError(await request(app).get(`${members}?offset=-1`).set(auth(admin)), 400, 'QUERY_INVALID');
      expectError(await request(app).get(`${members}?limit=1&limit=2`).set(auth(admin)), 400, 'QUERY_INVALID');
      const page = await request(app).get(`${members}?limit=1000`).set(auth(admin)).expect(200);
      expect(page.body.items).to.have.length(1);
      expect(page.body.nextCursor).to.equal(null);
      // The record of learning still pages by offset: bounded the same way.
      const record = '/api/v1/users/me/record-of-learning';
      expectError(await request(app).get(`${record}?offset=99999999999999999999`).set(auth(admin)), 400, 'QUERY_INVALID');
      const beyond = await request(app).get(`${record}?offset=2147483647`).set(auth(admin)).expect(200);
      expect(beyond.body.programs).to.deep.equal([]);
    });

    it('rejects an unknown filter value instead of ignoring it', async function () {
      const program = await request(app)
        .post('/api/v1/programs')
        .set(auth(admin))
        .send({ shortname: 'p1', fullname: 'P1', courseSets: [{ courseIds: [courseId], rule: 'all' }] })
        .expect(201);
      const res = await request(app).get(`/api/v1/programs/${program.body.id}/exceptions?status=bogus`).set(auth(admin));
      expectError(res, 400, 'QUERY_INVALID');
      expect(res.body.error.details[0]).to.include({ path: '/status', code: 'enum' });
      const open = await request(app).get(`/api/v1/programs/${program.body.id}/exceptions?status=open`).set(auth(admin)).expect(200);
      expect(open.body).to.deep.equal({ items: [], nextCursor: null });
    });
  });

  describe('input bounds', function () {
    it('rejects an availability tree nested 20,000 deep with 400 and stores nothing', async function () {
      const depth = 20000;
      const json = `{"type":"quiz","name":"Deep","availability":${'{"c":'.repeat(depth)}1${'}'.repeat(depth)}}`;
      const res = await request(app).post(`/api/v1/courses/${courseId}/activities`).set(auth(admin)).set('Content-Type', 'application/json').send(json);
      expectError(res, 400, 'JSON_TOO_DEEP');
      const course = await request(app).get(`/api/v1/courses/${courseId}`).set(auth(admin)).expect(200);
      expect(course.body.activities).to.deep.equal([]);
    });

    it('bounds the size of a free-form JSON field', async function () {
      const availability = { op: '&', c: Array.from({ length: 3000 }, (_, i) => ({ type: 'date', d: '>=', t: i, note: 'xxxxxxxxxxxxxxxxxxxx' })) };
      const res = await request(app).post(`/api/v1/courses/${courseId}/activities`).set(auth(admin)).send({ type: 'quiz', name: 'Big', availability });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.error.details[0]).to.include({ path: '/availability' });
      const ok = await request(app)
        .post(`/api/v1/courses/${courseId}/activities`)
        .set(auth(admin))
        .send({ type: 'quiz', name: 'Small', availability: { op: '&', c: [] } })
        .expect(201);
      expect(ok.body.availability).to.deep.equal({ op: '&', c: [] });
    });

    it('rejects a lone UTF-16 surrogate with 422 naming the field, and stores nothing', async function () {
      const res = await request(app)
        .post('/api/v1/courses')
        .set(auth(admin))
        .set('Content-Type', 'application/json')
        .send('{"shortname":"sur","fullname":"bad \\ud800 name"}');
      expectError(res, 422, 'INVALID_UNICODE');
      expect(res.body.error.details[0]).to.include({ path: '/fullname' });
      expect(await site.db.knex('courses').where({ shortname: 'sur' }).first()).to.equal(undefined);
      const emoji = await request(app).post('/api/v1/courses').set(auth(admin)).send({ shortname: 'emoji', fullname: 'Good \ud83d\ude00 name' }).expect(201);
      expect(emoji.body.fullname).to.equal('Good 😀 name');
    });

    it('refuses a course score or a maximum grade too large for its column with 400 naming it, and stores nothing', async function () {
      // The fuzz suite found these on MariaDB, which answers an out-of-range value with an error (a 500).
      const score = await request(app).patch(`/api/v1/courses/${courseId}`).set(auth(admin)).send({ fullname: 'Renamed', score: 1111105461375465 });
      expectError(score, 400, 'VALIDATION_FAILED');
      expect(score.body.error.details[0]).to.include({ path: '/score' });
      const created = await request(app).post('/api/v1/courses').set(auth(admin)).send({ shortname: 'weighty', fullname: 'Weighty', score: -1 });
      expectError(created, 400, 'VALIDATION_FAILED');
      const grade = await request(app).post(`/api/v1/courses/${courseId}/activities`).set(auth(admin)).send({ type: 'quiz', name: 'Huge', maxGrade: 1e12 });
      expectError(grade, 400, 'VALIDATION_FAILED');
      expect(grade.body.error.details[0]).to.include({ path: '/maxGrade' });
      const course = (await request(app).get(`/api/v1/courses/${courseId}`).set(auth(admin)).expect(200)).body as {
        fullname: string;
        activities: Array<{ name: string }>;
      };
      expect(course.fullname).to.equal('Course one');
      expect(course.activities.map((a) => a.name)).to.not.include('Huge');
      expect(await site.db.knex('courses').where({ shortname: 'weighty' }).first()).to.equal(undefined);
      // The largest values the columns hold are stored as given.
      const top = await request(app).post('/api/v1/courses').set(auth(admin)).send({ shortname: 'top', fullname: 'Top', score: 1_000_000 }).expect(201);
      expect(top.body.score).to.equal(1_000_000);
      const big = await request(app).post(`/api/v1/courses/${top.body.id}/activities`).set(auth(admin)).send({ type: 'quiz', name: 'Big', maxGrade: 99999999 });
      expect(big.status, JSON.stringify(big.body)).to.equal(201);
      expect(big.body.maxGrade).to.equal(99999999);
    });

    it('answers an upper-case API prefix with a JSON 404, not an HTML page', async function () {
      for (const url of [`/API/v1/courses/${courseId}`, `/Api/V1/courses/${courseId}`, '/API/v1/openapi.json', `/api/v1/Courses/${courseId}`]) {
        expectError(await request(app).get(url).set(auth(admin)), 404, 'NOT_FOUND');
      }
    });

    it('answers over-long URLs with the JSON error shape on a real server', async function () {
      const server = createHttpServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const long = await rawGet(port, `/api/v1/courses/${courseId}?q=${'x'.repeat(17 * 1024)}`);
        expect(long.status).to.equal(414);
        expect(long.type).to.match(/application\/json/);
        expect(JSON.parse(long.body).error).to.include({ code: 'URI_TOO_LONG' });
        const page = await rawGet(port, `/courses/${courseId}?q=${'x'.repeat(17 * 1024)}`);
        expect(page.status).to.equal(414);
        const huge = await rawGet(port, `/api/v1/courses/${courseId}?q=${'x'.repeat(80 * 1024)}`);
        expect(huge.status).to.equal(431);
        expect(huge.type).to.match(/application\/json/);
        expect(JSON.parse(huge.body)).to.deep.equal({
          error: { code: 'HEADERS_TOO_LARGE', message: huge.body && JSON.parse(huge.body).error.message, details: [] },
        });
        const fine = await rawGet(port, '/healthz');
        expect(fine.status).to.equal(200);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('response checking', function () {
    it('turns a response that drifts from its declared schema into a 500 naming the route and the schema path', async function () {
      site.routes.registrarFor('local_drift').api({
        method: 'get',
        path: '/local_drift/:id',
        summary: 'Answers with a field its schema does not list',
        access: 'admin',
        response: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
        handler: (req) => ({ body: { id: req.params.id, internalNote: 'not documented' } }),
      });
      try {
        const checked = createApp(site, { validateResponses: true });
        const res = await request(checked).get('/api/v1/local_drift/3').set(auth(admin));
        expectError(res, 500, 'RESPONSE_SCHEMA_MISMATCH');
        expect(res.body.error.message).to.contain('GET /api/v1/local_drift/:id');
        expect(res.body.error.details[0]).to.include({ path: '/internalNote', code: '#/additionalProperties' });
        // Without the check (production), the same response goes out as the handler made it.
        const unchecked = await request(createApp(site, { validateResponses: false }))
          .get('/api/v1/local_drift/3')
          .set(auth(admin))
          .expect(200);
        expect(unchecked.body).to.deep.equal({ id: 3, internalNote: 'not documented' });
      } finally {
        site.routes.removeOwner('local_drift');
      }
    });
  });

  describe('OpenAPI completeness', function () {
    it('declares params, query and a non-empty response schema for every route, core and plugins', async function () {
      const routes = site.routes.api();
      expect(routes.length).to.be.greaterThan(40);
      const missing = routes.filter((r) => !r.params || !r.query || (r.successStatus !== 204 && (!r.response || Object.keys(r.response).length === 0)));
      expect(missing.map((r) => `${r.owner} ${r.method} ${r.path}`)).to.deep.equal([]);

      const doc = (await request(app).get('/api/v1/openapi.json').expect(200)).body;
      let operations = 0;
      for (const route of routes) {
        const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        const op = doc.paths[openApiPath][route.method];
        operations++;
        const pathNames = Object.keys(paramsSchemaOf(route).properties as object);
        const queryNames = Object.keys(querySchemaOf(route).properties as object);
        const listed = (op.parameters ?? []) as Array<{ name: string; in: string; schema: Record<string, unknown> }>;
        expect(
          listed.filter((p) => p.in === 'path').map((p) => p.name),
          openApiPath,
        ).to.deep.equal(pathNames);
        expect(
          listed.filter((p) => p.in === 'query').map((p) => p.name),
          openApiPath,
        ).to.deep.equal(queryNames);
        for (const p of listed) expect(Object.keys(p.schema), `${openApiPath} ${p.name}`).to.not.be.empty;
        const status = String(route.successStatus ?? 200);
        if (status !== '204') {
          const schema = op.responses[status].content['application/json'].schema;
          expect(Object.keys(schema), `${route.method} ${openApiPath}`).to.not.be.empty;
        }
      }
      expect(operations).to.equal(routes.length);
      // Named shapes are listed once and referenced.
      expect(doc.components.schemas).to.include.keys('Course', 'Program', 'User', 'AssignmentRule', 'JobStatus');
      expect(doc.paths['/courses/{id}'].get.responses['200'].content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/Course' });
    });
  });
});
