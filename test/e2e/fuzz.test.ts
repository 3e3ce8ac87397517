import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { idSegment, SchemaArbitraries } from '../utils/schema-arbitrary';

/** Requests per API operation (issue 10: at least 200). */
const CASES_PER_ROUTE = 200;
/** Tables whose rows change on any authenticated request (token last-used time, sessions, login throttling). */
const BOOKKEEPING_TABLES = new Set(['api_tokens', 'sessions', 'rate_limits']);

type Schema = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  parameters?: Array<{ name: string; in: 'path' | 'query'; schema: Schema }>;
  requestBody?: { content: { 'application/json': { schema: Schema } } };
}

/**
 * Counts committed writes to every table: triggers add one per inserted, updated or deleted row, and
 * roll back with the statement that fired them, so the counter moves only when something was stored.
 */
async function countWrites(site: Site): Promise<() => Promise<number>> {
  const { knex, dialect } = site.db;
  await knex.schema.createTable('fuzz_writes', (t) => t.integer('n').notNullable());
  await knex('fuzz_writes').insert({ n: 0 });
  const tables: string[] =
    dialect === 'mysql'
      ? ((await knex.raw('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()'))[0] as Array<{ name: string }>).map(
          (r) => r.name,
        )
      : ((await knex.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) as Array<{ name: string }>).map((r) => r.name);
  for (const table of tables) {
    if (table === 'fuzz_writes' || BOOKKEEPING_TABLES.has(table) || table.endsWith('_migrations') || table.endsWith('_migrations_lock')) continue;
    for (const event of ['INSERT', 'UPDATE', 'DELETE']) {
      const name = `fuzz_${table}_${event.toLowerCase()}`;
      await knex.raw(
        dialect === 'mysql'
          ? `CREATE TRIGGER ${name} AFTER ${event} ON ${table} FOR EACH ROW UPDATE fuzz_writes SET n = n + 1`
          : `CREATE TRIGGER ${name} AFTER ${event} ON ${table} BEGIN UPDATE fuzz_writes SET n = n + 1; END`,
      );
    }
  }
  return async () => Number(((await knex('fuzz_writes').first('n')) as { n: number }).n);
}

/** One request over a kept-alive connection; the body is sent as given (already JSON text). */
function send(
  agent: http.Agent,
  port: number,
  method: string,
  url: string,
  token: string | null,
  body?: string,
): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port, method: method.toUpperCase(), path: url, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('API fuzzing from the OpenAPI document (no 5xx, the documented error shape, no write on a rejected request)', function () {
  this.timeout(20 * 60_000);
  let t: TestSite;
  let server: http.Server;
  let port: number;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let admin: string;
  let learner: string;
  let writes: () => Promise<number>;
  let operations: Operation[];
  let arbitraries: SchemaArbitraries;
  let pluginIds: string[];
  let names: string[];
  let enabledAtStart: string[];

  /**
   * Enables again every plugin the generated requests disabled (`POST /plugins/{id}/disable` is fuzzed
   * too): otherwise every later operation of that plugin would only ever meet a 404 and prove nothing.
   * Dependencies first: a plugin whose requirement is still off is retried on the next round.
   */
  let callers: Array<{ id: number; isAdmin: boolean }>;

  /**
   * Puts the callers back as they were. The targets are users and tokens 1..3, but a generated id
   * may still name a caller (`DELETE /tokens/4`, fast-check favours small numbers) and `me` always
   * does (`PATCH /users/me {"suspended": true}`): the rest of the run would then be 401s that prove
   * nothing.
   */
  async function restoreCallers(): Promise<void> {
    const users = t.site.services.users;
    for (const { id, isAdmin } of callers) {
      const user = await users.get(id);
      if (user.suspended || user.deleted || user.isAdmin !== isAdmin) await users.update(id, { suspended: false, deleted: false, isAdmin });
    }
    if ((await send(agent, port, 'get', '/api/v1/users/me', admin)).status !== 200) admin = await createApiToken(t.site.db, callers[0]!.id);
    if ((await send(agent, port, 'get', '/api/v1/users/me', learner)).status !== 200) learner = await createApiToken(t.site.db, callers[1]!.id);
  }

  async function enableAgain(): Promise<void> {
    for (let round = 0; round <= enabledAtStart.length; round++) {
      const off = (await t.site.plugins.list()).filter((p) => !p.enabled && enabledAtStart.includes(p.id));
      if (!off.length) return;
      for (const plugin of off) await t.site.plugins.enable(plugin.id).catch(() => undefined);
    }
    throw new Error('could not enable the plugins again');
  }

  before(async function () {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'fuzz-test-secret-0123456789abcdef' });
    const site = t.site;
    const users = site.services.users;
    // Users and tokens 1..3 are the fuzzer's targets (suspended, re-passworded, revoked at random);
    // the callers come after them, so the run keeps its credentials.
    const ann = await users.create({ username: 'ann', email: 'ann@example.com', fullname: 'Ann Learner' });
    for (const name of ['bob', 'cy']) await createApiToken(site.db, (await users.create({ username: name, email: `${name}@example.com`, fullname: name })).id);
    await createApiToken(site.db, ann.id);
    const root = await users.create({ username: 'root', email: 'root@example.com', fullname: 'Root', isAdmin: true });
    const lee = await users.create({ username: 'lee', email: 'lee@example.com', fullname: 'Lee Learner' });
    admin = await createApiToken(site.db, root.id);
    learner = await createApiToken(site.db, lee.id);
    callers = [
      { id: root.id, isAdmin: true },
      { id: lee.id, isAdmin: false },
    ];
    server = http.createServer(createApp(site)).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;

    // A little of everything, so ids 1..3 mostly exist and valid requests reach the handlers' depths.
    const post = async (url: string, body: unknown) => {
      const res = await send(agent, port, 'post', `/api/v1${url}`, admin, JSON.stringify(body));
      expect(res.status, `${url}: ${res.text}`).to.be.oneOf([200, 201]);
      return JSON.parse(res.text) as { id: number };
    };
    const courses = [];
    const positions = [];
    const organisations = [];
    for (const n of [1, 2, 3]) {
      const course = await post('/courses', { shortname: `c${n}`, fullname: `Course ${n}` });
      await post(`/courses/${course.id}/activities`, { type: 'quiz', name: `Quiz ${n}`, maxGrade: 10 });
      courses.push(course.id);
      await post('/audiences', { name: `Audience ${n}` });
      positions.push((await post('/positions', { name: `Position ${n}` })).id);
      organisations.push((await post('/organisations', { name: `Organisation ${n}` })).id);
      await post('/profile-fields', { shortname: `field${n}`, name: `Field ${n}`, type: 'text' });
    }
    for (const n of [1, 2, 3]) {
      const program = await post('/programs', { shortname: `p${n}`, fullname: `Program ${n}`, courseSets: [{ courseIds: courses.slice(0, n), rule: 'all' }] });
      await post(`/programs/${program.id}/assignments`, { source: 'audience', instanceId: n });
    }
    const boss = await post(`/users/${root.id}/job-assignments`, { positionId: positions[1], organisationId: organisations[0] });
    await post(`/users/${lee.id}/job-assignments`, { positionId: positions[0], organisationId: organisations[0], managerJobAssignmentId: boss.id });

    const doc = JSON.parse((await send(agent, port, 'get', '/api/v1/openapi.json', admin)).text) as {
      paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
      components: { schemas: Record<string, Schema> };
    };
    // Deletions last, so the things 1..3 that other operations read and change still exist for them.
    operations = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => ({ ...op, method, path: p })))
      .sort((a, b) => Number(a.method === 'delete') - Number(b.method === 'delete'));
    arbitraries = new SchemaArbitraries(doc.components.schemas);
    pluginIds = (await site.plugins.list()).map((p) => p.id);
    // Named path segments (a plugin id, a report name) are drawn from the names that exist too.
    names = [
      ...pluginIds,
      ...(JSON.parse((await send(agent, port, 'get', '/api/v1/reports', admin)).text) as { items: Array<{ name: string }> }).items.map((r) => r.name),
    ];
    enabledAtStart = (await site.plugins.list()).filter((p) => p.enabled).map((p) => p.id);
    writes = await countWrites(site);
  });

  after(async function () {
    agent.destroy();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  /** A request for `op`: path segments, query string, body and caller, each drawn from the operation's schemas. */
  function requestsFor(op: Operation): fc.Arbitrary<{ url: string; body?: string; token: string | null }> {
    const params = (op.parameters ?? []).filter((p) => p.in === 'path');
    const query = (op.parameters ?? []).filter((p) => p.in === 'query');
    // An id, or a user id that may also be `me` (`anyOf: [Id, {const: 'me'}]`), gets id-like segments.
    const isId = (schema: Schema): boolean =>
      schema.type === 'integer' ||
      Boolean((schema.pattern as string | undefined)?.includes('[1-9]')) ||
      ((schema.anyOf as Schema[] | undefined) ?? []).some(isId);
    const segment = (schema: Schema) => (isId(schema) ? idSegment : fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 }).map(encodeURIComponent)));
    const queryValue = (schema: Schema) =>
      fc.oneof(
        { weight: 3, arbitrary: arbitraries.value(schema).map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))) },
        { weight: 1, arbitrary: fc.constantFrom('', '-1', '99999999999999999999', 'x') },
      );
    const queryString = fc
      .tuple(
        fc.record(Object.fromEntries(query.map((p) => [p.name, queryValue(p.schema)])), { requiredKeys: [] }),
        fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('bogus', 'LIMIT', 'filter[x]') }),
      )
      .map(([values, unknown]) => {
        const search = new URLSearchParams(Object.entries(values as Record<string, string>).map(([k, v]): [string, string] => [k, v.slice(0, 200)]));
        if (unknown) search.set(unknown, '1');
        const text = search.toString();
        return text ? `?${text}` : '';
      });
    const bodySchema = op.requestBody?.content['application/json'].schema;
    const body = bodySchema
      ? fc.oneof(
          { weight: 9, arbitrary: arbitraries.value(bodySchema).map((v) => JSON.stringify(v) ?? 'null') },
          { weight: 1, arbitrary: fc.constantFrom('{', '[1,', '"\\ud800"', 'null', '', `${'{"c":['.repeat(20_000)}${']}'.repeat(20_000)}`) },
        )
      : fc.constant(undefined);
    const caller = fc.constantFrom<string | null>(admin, admin, admin, admin, admin, admin, learner, learner, null);
    return fc.record({
      url: fc.tuple(fc.tuple(...params.map((p) => segment(p.schema))), queryString).map(([segments, qs]) => {
        let i = 0;
        return `/api/v1${op.path.replace(/\{[^}]+\}/g, () => segments[i++]!)}${qs}`;
      }),
      body,
      token: caller,
    });
  }

  it(`sends ${CASES_PER_ROUTE} generated requests to every operation`, async function () {
    // Every route the site serves is in the document, plugins' included, so a new route is fuzzed
    // without touching this file.
    const served = t.site.routes.api().map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')}`);
    expect(operations.map((op) => `${op.method} ${op.path}`)).to.have.members(served);
    expect(operations.length).to.be.greaterThan(40);
    const statuses = new Map<number, number>();
    const sent = new Map<string, number>();
    for (const op of operations) {
      const key = `${op.method.toUpperCase()} ${op.path}`;
      await fc.assert(
        fc.asyncProperty(requestsFor(op), async ({ url, body, token }) => {
          const before = await writes();
          const res = await send(agent, port, op.method, url, token, body);
          sent.set(key, (sent.get(key) ?? 0) + 1);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const what = `${op.method.toUpperCase()} ${url} ${body?.slice(0, 300) ?? ''} -> ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, what).to.be.below(500);
          if (res.status >= 400) {
            expect(res.type, what).to.match(/^application\/json/);
            const error = (JSON.parse(res.text) as { error: { code: unknown; message: unknown; details: unknown } }).error;
            expect(error, what).to.include.keys('code', 'message', 'details');
            expect(error.code, what).to.be.a('string');
            expect(error.message, what).to.be.a('string');
            expect(error.details, what).to.be.an('array');
            expect(await writes(), `a rejected request wrote: ${what}`).to.equal(before);
          }
        }),
        { numRuns: CASES_PER_ROUTE, seed: Number(process.env.FUZZ_SEED ?? 20261130), endOnFailure: true },
      );
      await enableAgain();
      await restoreCallers();
    }
    const short = operations.map((op) => `${op.method.toUpperCase()} ${op.path}`).filter((key) => (sent.get(key) ?? 0) < CASES_PER_ROUTE);
    expect(short, `operations sent fewer than ${CASES_PER_ROUTE} requests`).to.deep.equal([]);
    // The generated requests were not all turned away at the door: many reached the handlers.
    const accepted = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    expect(accepted).to.be.greaterThan(operations.length * 10);
    // ...and the write counter saw what the accepted ones stored, so a silent write would show.
    expect(await writes()).to.be.greaterThan(0);
  });
});
