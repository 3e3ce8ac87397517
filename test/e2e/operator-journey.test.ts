/**
 * Issue 14, "Must show" 1, through the REST API: the operator's journey of
 * test/browser/operator-journey.test.ts (a course with an activity, an audience of two people found
 * by name, a program of two course sets, an audience rule due a month after first login), where a
 * script knows no id it did not find through a list route by name. Then the learner's first sign-in
 * sets the due date. Runs on SQLite and MariaDB (WAYMARK_TEST_DB).
 */
import path from 'node:path';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';
import { login } from './launch-fixtures';

const PASSWORD = 'journey horse battery';

interface Named {
  id: number;
  fullname?: string;
  name?: string;
}

describe(`operator journey over the REST API, by name only (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let app: express.Express;
  let operator: string;

  const call = (method: 'get' | 'post' | 'put', url: string, token: string, body?: object) => {
    const req = request(app)[method](`/api/v1${url}`).set('Authorization', `Bearer ${token}`);
    return body ? req.send(body) : req;
  };

  async function ok<T>(res: request.Test, status = 200): Promise<T> {
    const what = `${res.method} ${res.url}`;
    const r = await res;
    expect(r.status, `${what}: ${JSON.stringify(r.body)}`).to.equal(status);
    return r.body as T;
  }

  /** The one thing a list route finds by the start of its name whose full name is exactly `name`. */
  async function findByName(list: string, name: string, typed = name): Promise<number> {
    const page = await ok<{ items: Named[]; nextCursor: string | null }>(call('get', `${list}?q=${encodeURIComponent(typed)}`, operator));
    const matches = page.items.filter((item) => (item.fullname ?? item.name) === name);
    expect(matches, `${list}?q=${typed} finds ${name}`).to.have.length(1);
    return matches[0]!.id;
  }

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins') });
    app = createApp(t.site);
    const { users, courses } = t.site.services;
    const person = async (username: string, fullname: string, isAdmin = false) =>
      (await users.create({ username, email: `${username}@example.com`, fullname, password: PASSWORD, isAdmin })).id;
    operator = await createApiToken(t.site.db, await person('olive', 'Olive Operator', true));
    const priya = await person('priya', 'Priya Patel');
    await person('marco', 'Marco Rossi');
    await person('marcob', 'Marco Bianchi');
    // Priya has used the site before; Marco never has.
    await users.recordLogin(priya);
    const height = await courses.create({ shortname: 'HEIGHT', fullname: 'Working at height' });
    await courses.addActivity(height.id, { type: 'page', name: 'Ladders and scaffolds', completionTracked: true });
  });

  after(async () => t?.close());

  it('builds the program and its audience rule from names, and the first sign-in sets the due date', async () => {
    // A course with an activity.
    await ok(call('post', '/courses', operator, { shortname: 'FIRE101', fullname: 'Fire safety essentials' }), 201);
    const fire = await findByName('/courses', 'Fire safety essentials', 'fire');
    await ok(call('post', `/courses/${fire}/activities`, operator, { type: 'page', name: 'Evacuation routes', completionTracked: true }), 201);
    const course = await ok<{ activities: Array<{ name: string }> }>(call('get', `/courses/${fire}`, operator));
    expect(course.activities.map((a) => a.name)).to.deep.equal(['Evacuation routes']);

    // A static audience, its members found by name ("Marco" finds two: the script takes the one it means).
    await ok(call('post', '/audiences', operator, { name: 'Warehouse team' }), 201);
    const team = await findByName('/audiences', 'Warehouse team', 'ware');
    const priya = await findByName('/users', 'Priya Patel', 'pri');
    const marcos = await ok<{ items: Named[] }>(call('get', '/users?q=Marco', operator));
    expect(marcos.items.map((u) => u.fullname)).to.deep.equal(['Marco Bianchi', 'Marco Rossi']);
    const marco = marcos.items.find((u) => u.fullname === 'Marco Rossi')!.id;
    for (const member of [priya, marco]) {
      expect(await ok(call('put', `/audiences/${team}/members/${member}`, operator))).to.include({ member: true, changed: true });
    }
    const members = await ok<{ items: Array<{ fullname: string }> }>(call('get', `/audiences/${team}/members`, operator));
    expect(members.items.map((m) => m.fullname).sort()).to.deep.equal(['Marco Rossi', 'Priya Patel']);

    // A program of two course sets, the courses found by name.
    const height = await findByName('/courses', 'Working at height', 'working');
    await ok(
      call('post', '/programs', operator, {
        shortname: 'WH-IND',
        fullname: 'Warehouse induction',
        courseSets: [
          { label: 'Safety first', courseIds: [fire], rule: 'all', operator: 'then' },
          { label: 'On the floor', courseIds: [height], rule: 'all' },
        ],
      }),
      201,
    );
    const programId = await findByName('/programs', 'Warehouse induction', 'warehouse');
    const program = await ok<{ courseSets: Array<{ label: string; courseIds: number[] }> }>(call('get', `/programs/${programId}`, operator));
    expect(program.courseSets.map((s) => [s.label, s.courseIds])).to.deep.equal([
      ['Safety first', [fire]],
      ['On the floor', [height]],
    ]);

    // The audience rule, due within a month of first login; the sync runs in the background.
    const added = await ok<{ rule: { description: string }; jobId: number }>(
      call('post', `/programs/${programId}/assignments`, operator, { source: 'audience', instanceId: team, due: { within: 'P1M', event: 'first_login' } }),
      201,
    );
    expect(added.rule.description).to.equal('Members of audience Warehouse team, due within 1 month of first login');
    await t.site.jobs.drain();
    expect((await ok<{ state: string }>(call('get', `/jobs/${added.jobId}`, operator))).state).to.equal('done');
    const rules = await ok<{ rules: Array<{ description: string; memberCount: number; status: string }> }>(
      call('get', `/programs/${programId}/assignments`, operator),
    );
    expect(rules.rules.map((r) => [r.description, r.memberCount, r.status])).to.deep.equal([
      ['Members of audience Warehouse team, due within 1 month of first login', 2, 'active'],
    ]);

    // Priya, who has signed in before, is a learner with a due date; Marco waits for his first sign-in.
    const monthAfterFirstLogin = async (userId: number) =>
      DateTime.fromISO((await ok<{ firstLoginAt: string }>(call('get', `/users/${userId}`, operator))).firstLoginAt, { zone: 'utc' })
        .plus({ months: 1 })
        .toISO();
    type Learner = { userId: number; learner: string; dueAt: string | null; status: string };
    const learnersOf = async () => (await ok<{ items: Learner[] }>(call('get', `/programs/${programId}/learners`, operator))).items;
    const before = await learnersOf();
    expect(before.map((l) => [l.learner, l.dueAt])).to.deep.equal([['Priya Patel', await monthAfterFirstLogin(priya)]]);
    // The learners page says who the rule matches but is not listed yet, and why.
    const learnersPage = async () =>
      (await request(app).get(`/admin/programs/${programId}/learners`).set('Authorization', `Bearer ${operator}`).set('Accept', 'text/html').expect(200)).text;
    expect(await learnersPage()).to.contain('1 more learner will be assigned when the event their due date counts from happens');
    const marcoToken = (await ok<{ token: string }>(call('post', `/users/${marco}/tokens`, operator, { name: 'phone app' }), 201)).token;
    type Required = { programs: Array<{ id: number; fullname: string; dueAt: string | null }> };
    expect((await ok<Required>(call('get', '/users/me/required-learning', marcoToken))).programs).to.deep.equal([]);
    expect((await ok<{ firstLoginAt: string | null }>(call('get', '/users/me', marcoToken))).firstLoginAt).to.equal(null);

    // Marco signs in for the first time: the program is his, due a month later.
    await login(request.agent(app), 'marco', PASSWORD);
    const me = await ok<{ firstLoginAt: string }>(call('get', '/users/me', marcoToken));
    expect(me.firstLoginAt).to.be.a('string');
    const due = DateTime.fromISO(me.firstLoginAt, { zone: 'utc' }).plus({ months: 1 }).toISO();
    const required = await ok<Required>(call('get', '/users/me/required-learning', marcoToken));
    expect(required.programs.map((p) => [p.fullname, p.dueAt])).to.deep.equal([['Warehouse induction', due]]);
    const after = await learnersOf();
    expect(after.map((l) => [l.learner, l.dueAt]).sort()).to.deep.equal([
      ['Marco Rossi', due],
      ['Priya Patel', await monthAfterFirstLogin(priya)],
    ]);
    expect(await learnersPage()).to.not.contain('will be assigned when');
  });
});
