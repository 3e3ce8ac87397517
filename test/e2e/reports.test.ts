/**
 * Issue 14 items 3 and 4: reports (JSON pages, streamed CSV, the program learners list and page) and
 * the manager's team view, through the REST API and the pages on the database under test.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';
import { parseCsv } from '../utils/csv';
import { PASSWORD, signIn } from '../browser/scenario';

const DAY = 86_400_000;
const html = { Accept: 'text/html' };

type Row = Record<string, string | number | boolean | null>;
interface Page {
  items: Row[];
  nextCursor: string | null;
}

describe(`reports and the manager's team view, issue 14 (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let seq = 0;

  const get = (p: string, token = admin) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`);
  const post = (p: string, body: object) => request(app).post(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`).send(body);
  async function ok<T>(res: request.Test, status = 200): Promise<T> {
    const r = await res;
    expect(r.status, JSON.stringify(r.body)).to.equal(status);
    return r.body as T;
  }

  interface Person {
    id: number;
    username: string;
    token: string;
    agent: ReturnType<typeof request.agent>;
    job: number;
  }
  async function person(fullname: string, job: { organisationId?: number; managerJobAssignmentId?: number } = {}): Promise<Person> {
    const username = `u${++seq}`;
    const { id } = await site.services.users.create({ username, email: `${username}@example.com`, fullname, password: PASSWORD });
    const assignment = await site.services.jobAssignments.create(id, job);
    const agent = request.agent(app);
    await signIn(agent, username);
    return { id, username, token: await createApiToken(site.db, id), agent, job: assignment.id };
  }

  // North > North East; South. Mia manages Ann (North East), who manages Bob (North): Bob is Mia's
  // indirect report. Max manages Cat (South). Dan has no organisation and no manager.
  let north: number;
  let south: number;
  let mia: Person;
  let max: Person;
  let ann: Person;
  let bob: Person;
  let cat: Person;
  let dan: Person;
  let programId: number;
  let activityIds: number[];
  const past = '2020-01-15';

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'reports-test-secret-0123456789abcdef' });
    site = t.site;
    app = createApp(site);
    const ops = await site.services.users.create({ username: 'ops', email: 'ops@example.com', fullname: 'Olive Operator', password: PASSWORD, isAdmin: true });
    admin = await createApiToken(site.db, ops.id);

    north = (await site.services.hierarchy.createOrganisation({ name: 'North' })).id;
    const northEast = (await site.services.hierarchy.createOrganisation({ name: 'North East', parentId: north })).id;
    south = (await site.services.hierarchy.createOrganisation({ name: 'South' })).id;
    mia = await person('Mia Manager');
    max = await person('Max Manager');
    ann = await person('Ann Alder', { organisationId: northEast, managerJobAssignmentId: mia.job });
    bob = await person('Bob Birch', { organisationId: north, managerJobAssignmentId: ann.job });
    cat = await person('Cat Cedar', { organisationId: south, managerJobAssignmentId: max.job });
    dan = await person('Dan Dogwood');

    const course = await ok<{ id: number }>(post('/courses', { shortname: 'c1', fullname: 'Course one' }), 201);
    activityIds = [];
    for (const name of ['Read', 'Watch']) {
      activityIds.push((await ok<{ id: number }>(post(`/courses/${course.id}/activities`, { type: 'page', name, completionTracked: true }), 201)).id);
    }
    programId = (
      await ok<{ id: number }>(
        post('/programs', { shortname: 'safety', fullname: 'Safety <b>first</b>', courseSets: [{ courseIds: [course.id], rule: 'all' }] }),
        201,
      )
    ).id;

    // Ann and Cat get a due date already past: held by a time-allowance exception, which the
    // operator resolves with "assign" (found through the exceptions report), so they are overdue.
    for (const learner of [ann, cat])
      await ok(post(`/programs/${programId}/assignments`, { source: 'individual', instanceId: learner.id, due: { date: past } }), 201);
    for (const learner of [bob, dan]) {
      await ok(
        post(`/programs/${programId}/assignments`, {
          source: 'individual',
          instanceId: learner.id,
          due: { date: new Date(site.db.now() + 30 * DAY).toISOString() },
        }),
        201,
      );
    }
    await site.jobs.drain();
    const open = await ok<Page>(get(`/reports/exceptions?programId=${programId}&sort=learner`));
    expect(open.items.map((r) => r.learner)).to.deep.equal(['Ann Alder', 'Cat Cedar']);
    expect(open.items.map((r) => r.type)).to.deep.equal(['time_allowance', 'time_allowance']);
    await ok(post('/exceptions/resolve', { exceptionIds: open.items.map((r) => r.id), action: 'assign' }));
    await site.jobs.drain();
    // Ann has done half the course: her progress is what her own pages say, whatever it is.
    await site.services.completion.recordActivityCompletion(activityIds[0]!, ann.id);
  });
  after(async () => t?.close());

  const learnerProgress = async (who: Person): Promise<number> => {
    const rl = await ok<{ programs: Array<{ id: number; progress: number }> }>(get(`/users/${who.id}/required-learning`, who.token));
    return rl.programs.find((p) => p.id === programId)!.progress;
  };

  describe('reports', () => {
    it('lists the four built-in reports with their filter schemas, orders and columns', async () => {
      const { items } = await ok<{ items: Array<{ name: string; query: { properties: Record<string, unknown> }; orders: unknown[]; columns: unknown[] }> }>(
        get('/reports'),
      );
      expect(items.map((r) => r.name)).to.include.members(['program_completion', 'overdue', 'exceptions', 'course_completion']);
      const completion = items.find((r) => r.name === 'program_completion')!;
      expect(completion.query.properties).to.include.keys(
        'programId',
        'audienceId',
        'organisationId',
        'positionId',
        'managerId',
        'status',
        'dueFrom',
        'dueTo',
        'limit',
        'cursor',
        'sort',
      );
      expect(completion.columns).to.deep.include({ key: 'progress', label: 'Progress %' });
      // A learner may not read reports.
      await ok(get('/reports', ann.token), 403);
    });

    it('the overdue report filtered by organisation (and below) exports a CSV whose rows match the API pages', async () => {
      const api: Row[] = [];
      let cursor: string | null = null;
      do {
        const page: Page = await ok<Page>(get(`/reports/overdue?organisationId=${north}&limit=1${cursor ? `&cursor=${cursor}` : ''}`));
        api.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      // Ann (North East, below North) is overdue; Bob (North) is not; Cat is overdue but in the South.
      expect(api.map((r) => r.learner)).to.deep.equal(['Ann Alder']);
      expect(api[0]).to.include({ status: 'overdue', overdue: true, program: 'Safety <b>first</b>', userId: ann.id, progress: await learnerProgress(ann) });

      const res = await get(`/reports/overdue.csv?organisationId=${north}`).buffer(true).parse(textParser);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/csv/);
      expect(res.headers['content-disposition']).to.equal('attachment; filename="overdue.csv"');
      const [header, ...lines] = parseCsv(res.body as string);
      expect(header).to.deep.equal(['Program id', 'Program', 'User id', 'Username', 'Learner', 'Status', 'Progress %', 'Due date', 'Overdue']);
      const keys = ['programId', 'program', 'userId', 'username', 'learner', 'status', 'progress', 'dueAt', 'overdue'];
      expect(lines).to.deep.equal(api.map((row) => keys.map((k) => String(row[k]))));

      // Everyone overdue, across organisations: the same rows in CSV and JSON.
      // The CSV is in the export order (assignment order, which the database walks by index): the API's `id` order.
      const all = await ok<Page>(get('/reports/overdue?limit=1000&sort=id'));
      expect(all.items.map((r) => r.learner)).to.deep.equal(['Ann Alder', 'Cat Cedar']);
      const csv = parseCsv((await get('/reports/overdue.csv').buffer(true).parse(textParser)).body as string);
      expect(csv.slice(1)).to.deep.equal(all.items.map((row) => keys.map((k) => String(row[k]))));
    });

    it('an unknown filter, an unknown value, a value that names nothing or a foreign cursor is 400 and reads nothing', async () => {
      for (const query of ['status=late', 'colour=red', 'organisationId=999999', 'programId=999999', 'dueFrom=2026-02-30', 'sort=nonsense', 'cursor=abc']) {
        const res = await get(`/reports/program_completion?${query}`);
        expect(res.status, query).to.equal(400);
        expect(res.body.error.code, query).to.equal('QUERY_INVALID');
      }
      expect((await get('/reports/overdue.csv?status=late')).status).to.equal(400);
      // An export is the whole report in its export order: paging and sorting parameters are refused.
      expect((await get('/reports/overdue.csv?sort=learner')).status).to.equal(400);
      expect((await get('/reports/overdue.csv?limit=5')).status).to.equal(400);
      expect((await get('/reports/no_such_report')).status).to.equal(404);
    });

    it("GET /programs/{id}/learners is the program completion report for the program: status with overdue, the learner's own progress, search, filters and paging", async () => {
      const all = await ok<Page>(get(`/programs/${programId}/learners`));
      expect(all.items.map((r) => r.learner)).to.deep.equal(['Ann Alder', 'Bob Birch', 'Cat Cedar', 'Dan Dogwood']);
      const ann1 = all.items[0]!;
      expect(ann1).to.include({ status: 'overdue', overdue: true, completedAt: null });
      expect(ann1.progress)
        .to.equal(await learnerProgress(ann))
        .and.to.be.above(0);
      expect(all.items[1]).to.include({ status: 'in_progress', overdue: false });

      expect((await ok<Page>(get(`/programs/${programId}/learners?status=overdue`))).items.map((r) => r.learner)).to.deep.equal(['Ann Alder', 'Cat Cedar']);
      expect((await ok<Page>(get(`/programs/${programId}/learners?search=BIR`))).items.map((r) => r.learner)).to.deep.equal(['Bob Birch']);
      expect((await ok<Page>(get(`/programs/${programId}/learners?managerId=${mia.id}`))).items.map((r) => r.learner)).to.deep.equal([
        'Ann Alder',
        'Bob Birch',
      ]);
      expect((await ok<Page>(get(`/programs/${programId}/learners?dueTo=2021-01-01`))).items.map((r) => r.learner)).to.deep.equal(['Ann Alder', 'Cat Cedar']);
      const byDue = await ok<Page>(get(`/programs/${programId}/learners?sort=due`));
      expect(byDue.items.slice(0, 2).map((r) => r.learner)).to.have.members(['Ann Alder', 'Cat Cedar']);

      // The CSV (the assignment order, progress read with the rows) says what the API says, progress included.
      const byId = await ok<Page>(get(`/reports/program_completion?programId=${programId}&sort=id&limit=1000`));
      const exported = parseCsv((await get(`/reports/program_completion.csv?programId=${programId}`).buffer(true).parse(textParser)).body as string);
      const columns = ['programId', 'program', 'userId', 'username', 'learner', 'status', 'progress', 'dueAt', 'overdue', 'completedAt'];
      expect(exported.slice(1)).to.deep.equal(byId.items.map((row) => columns.map((k) => (row[k] === null ? '' : String(row[k])))));
      expect(byId.items.find((r) => r.userId === ann.id)!.progress).to.equal(await learnerProgress(ann));

      const first = await ok<Page>(get(`/programs/${programId}/learners?limit=3`));
      expect(first.items).to.have.length(3);
      const second = await ok<Page>(get(`/programs/${programId}/learners?limit=3&cursor=${first.nextCursor}`));
      expect(second.items.map((r) => r.learner)).to.deep.equal(['Dan Dogwood']);
      expect(second.nextCursor).to.equal(null);
      await ok(get(`/programs/${programId}/learners?programId=${programId}`), 400);
    });

    it('pages a program of more than a thousand learners by name (read from the name order of users): every learner once, in order, with the status filter', async () => {
      const now = site.db.now();
      const course = await ok<{ id: number }>(post('/courses', { shortname: 'crowd-c', fullname: 'Crowd course' }), 201);
      const crowd = (
        await ok<{ id: number }>(post('/programs', { shortname: 'crowd', fullname: 'Crowd', courseSets: [{ courseIds: [course.id], rule: 'all' }] }), 201)
      ).id;
      // 1,100 learners whose names are not in id order, seeded directly (the report reads what is stored).
      const people = Array.from({ length: 1100 }, (_, i) => ({
        username: `crowd${i}`,
        email: `crowd${i}@example.com`,
        fullname: `${String.fromCharCode(65 + ((i * 7) % 26))}${String.fromCharCode(97 + ((i * 11) % 26))} Crowd ${String(i).padStart(4, '0')}`,
        created_at: now,
        updated_at: now,
      }));
      for (let i = 0; i < people.length; i += 100) await site.db.knex('users').insert(people.slice(i, i + 100));
      const ids = new Map(
        ((await site.db.knex('users').where('username', 'like', 'crowd%').select('id', 'username')) as Array<{ id: number; username: string }>).map((r) => [
          r.username,
          Number(r.id),
        ]),
      );
      const learners = people.map((p, i) => ({ i, id: ids.get(p.username)!, fullname: p.fullname }));
      // Every 4th is past due, every 20th has completed; every 50th is no longer assigned (left out).
      const assignments = learners.map(({ i, id }) => ({
        program_id: crowd,
        user_id: id,
        status: i % 50 === 49 ? 'unassigned' : 'active',
        due_at: i % 4 === 0 ? now - (i + 1) * DAY : i % 4 === 1 ? null : now + (i + 1) * DAY,
        rule_state: 'known',
        assigned_at: now - 100 * DAY,
        created_at: now,
        updated_at: now,
      }));
      for (let i = 0; i < assignments.length; i += 100) await site.db.knex('program_user_assignments').insert(assignments.slice(i, i + 100));
      const done = learners
        .filter(({ i }) => i % 20 === 0)
        .map(({ id }) => ({ program_id: crowd, user_id: id, status: 'complete', completed_at: now - DAY, due_at: null, created_at: now, updated_at: now }));
      await site.db.knex('program_completions').insert(done);

      const readAll = async (query: string): Promise<Row[]> => {
        const rows: Row[] = [];
        let cursor: string | null = null;
        do {
          const page: Page = await ok<Page>(get(`/programs/${crowd}/learners?limit=300${query}${cursor ? `&cursor=${cursor}` : ''}`));
          rows.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        return rows;
      };
      const byName = (list: typeof learners) =>
        [...list].sort((a, b) => (a.fullname < b.fullname ? -1 : a.fullname > b.fullname ? 1 : 0)).map((l) => l.fullname);
      const assigned = learners.filter(({ i }) => i % 50 !== 49);
      const all = await readAll('');
      expect(all.map((r) => r.learner)).to.deep.equal(byName(assigned));
      expect(all.find((r) => r.userId === learners[20]!.id)).to.include({ status: 'complete', progress: 100, programId: crowd, program: 'Crowd' });
      expect(all.find((r) => r.userId === learners[4]!.id)).to.include({ status: 'overdue', overdue: true, completedAt: null });

      const overdue = await readAll('&status=overdue');
      expect(overdue.map((r) => r.learner)).to.deep.equal(byName(assigned.filter(({ i }) => i % 4 === 0 && i % 20 !== 0)));
      // The same rows as the assignment order gives them, whichever table the name order is read from.
      const byAssignment = await readAll('&status=overdue&sort=id');
      expect(overdue.map((r) => r.userId).sort((a, b) => Number(a) - Number(b))).to.deep.equal(
        byAssignment.map((r) => r.userId).sort((a, b) => Number(a) - Number(b)),
      );
      // A search narrows who the learners are: still their names in order.
      expect((await readAll('&search=crowd%200007')).map((r) => r.learner)).to.deep.equal([learners[7]!.fullname]);
      // Users who match the search but are not in the program are not rows of it: 1,000 more users
      // named "Crowd".
      const outsiders = Array.from({ length: 1000 }, (_, i) => ({
        username: `outsider${i}`,
        email: `outsider${i}@example.com`,
        fullname: `Zz Crowd outsider ${i}`,
        created_at: now,
        updated_at: now,
      }));
      for (let i = 0; i < outsiders.length; i += 100) await site.db.knex('users').insert(outsiders.slice(i, i + 100));
      expect((await readAll('&search=crowd')).map((r) => r.learner)).to.deep.equal(byName(assigned));
    });

    it("pages a large program by due date (its own, else the completion record's, none last), forward and back, with filters", async () => {
      const now = site.db.now();
      const course = await ok<{ id: number }>(post('/courses', { shortname: 'duecrowd-c', fullname: 'Due crowd course' }), 201);
      const crowd = (
        await ok<{ id: number }>(
          post('/programs', { shortname: 'duecrowd', fullname: 'Due crowd', courseSets: [{ courseIds: [course.id], rule: 'all' }] }),
          201,
        )
      ).id;
      // 2,100: more learners match "crowd" than a search lists (2,000), so that search is tested on
      // the rows as they are read.
      const people = Array.from({ length: 2100 }, (_, i) => ({
        username: `duecrowd${i}`,
        email: `duecrowd${i}@example.com`,
        fullname: `Due Crowd ${String(i).padStart(4, '0')}`,
        created_at: now,
        updated_at: now,
      }));
      for (let i = 0; i < people.length; i += 100) await site.db.knex('users').insert(people.slice(i, i + 100));
      const userIds = ((await site.db.knex('users').where('username', 'like', 'duecrowd%').select('id', 'username')) as Array<{ id: number; username: string }>)
        .map((r) => ({ i: Number(r.username.slice('duecrowd'.length)), id: Number(r.id) }))
        .sort((a, b) => a.i - b.i);
      // Due dates repeat (ties broken by the assignment), a quarter have none of their own, and a
      // third of those take the completion record's; every 50th is no longer assigned.
      const ownDue = (i: number) => (i % 4 === 1 ? null : now + ((i % 13) - 6) * DAY);
      const recordDue = (i: number) => (i % 4 === 1 && i % 3 === 0 ? now + ((i % 5) - 2) * DAY : null);
      const assignments = userIds.map(({ i, id }) => ({
        program_id: crowd,
        user_id: id,
        status: i % 50 === 49 ? 'unassigned' : 'active',
        due_at: ownDue(i),
        rule_state: 'known',
        assigned_at: now - 100 * DAY,
        created_at: now,
        updated_at: now,
      }));
      // Inserted in reverse so that the assignment order is not the user order.
      assignments.reverse();
      for (let i = 0; i < assignments.length; i += 100) await site.db.knex('program_user_assignments').insert(assignments.slice(i, i + 100));
      const records = userIds
        .filter(({ i }) => recordDue(i) !== null || i % 20 === 0)
        .map(({ i, id }) => ({
          program_id: crowd,
          user_id: id,
          status: i % 20 === 0 ? 'complete' : 'incomplete',
          completed_at: i % 20 === 0 ? now - DAY : null,
          due_at: recordDue(i),
          created_at: now,
          updated_at: now,
        }));
      await site.db.knex('program_completions').insert(records);
      const assignmentIds = new Map(
        ((await site.db.knex('program_user_assignments').where('program_id', crowd).select('id', 'user_id')) as Array<{ id: number; user_id: number }>).map(
          (r) => [Number(r.user_id), Number(r.id)],
        ),
      );
      const active = userIds.filter(({ i }) => i % 50 !== 49);
      const dueOf = (i: number) => ownDue(i) ?? recordDue(i);
      const inDueOrder = (list: typeof active) =>
        [...list]
          .sort((a, b) => (dueOf(a.i) ?? Infinity) - (dueOf(b.i) ?? Infinity) || assignmentIds.get(a.id)! - assignmentIds.get(b.id)!)
          .map(({ id }) => id);

      // Paged as the admin report page pages (its "Next" and "Previous" links carry these cursors).
      const reports = site.services.reports;
      const pageOf = async (query: Record<string, string>) =>
        reports.page('program_completion', await reports.parse('program_completion', { programId: String(crowd), sort: 'due', limit: '200', ...query }));
      const pages: Array<Awaited<ReturnType<typeof pageOf>>> = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof pageOf>> = await pageOf(cursor ? { cursor } : {});
        pages.push(page);
        cursor = page.nextCursor;
      } while (cursor);
      const read = pages.flatMap((p) => p.items);
      expect(read.map((r) => r.userId)).to.deep.equal(inDueOrder(active));
      expect(read.map((r) => (r.dueAt === null ? null : Date.parse(r.dueAt as string)))).to.deep.equal(
        inDueOrder(active).map((id) => dueOf(userIds.find((u) => u.id === id)!.i)),
      );
      // "Previous" from each page gives the page before it.
      for (let k = pages.length - 1; k > 0; k--) {
        const back = await pageOf({ before: pages[k]!.prevCursor! });
        expect(back.items.map((r) => r.userId)).to.deep.equal(pages[k - 1]!.items.map((r) => r.userId));
      }
      // Filters narrow each range: overdue (due by the time of the request, not complete), and a search.
      const overdue = (await ok<Page>(get(`/programs/${crowd}/learners?sort=due&limit=1000&status=overdue`))).items;
      expect(overdue.map((r) => r.userId)).to.deep.equal(inDueOrder(active.filter(({ i }) => i % 20 !== 0 && (dueOf(i) ?? Infinity) <= now)));
      const searched = (await ok<Page>(get(`/programs/${crowd}/learners?sort=due&limit=1000&search=crowd%2001`))).items;
      expect(searched.map((r) => r.userId)).to.deep.equal(inDueOrder(active.filter(({ i }) => String(i).padStart(4, '0').startsWith('01'))));
      const everyone = async (query: string): Promise<Array<string | number | boolean | null>> => {
        const ids: Array<string | number | boolean | null> = [];
        let next: string | null = null;
        do {
          const page: Page = await ok<Page>(get(`/programs/${crowd}/learners?limit=500${query}${next ? `&cursor=${next}` : ''}`));
          ids.push(...page.items.map((r) => r.userId));
          next = page.nextCursor;
        } while (next);
        return ids;
      };
      // Names are in index order here: "Due Crowd 0000", "Due Crowd 0001", ...
      expect(await everyone('&search=crowd')).to.deep.equal(active.map(({ id }) => id));
      expect(await everyone('&search=crowd&sort=due')).to.deep.equal(inDueOrder(active));
    });

    it('an export whose reader goes away stops, and the site goes on answering (every pooled connection usable)', async () => {
      const reports = site.services.reports;
      const programs = (await ok<{ items: Array<{ id: number; shortname: string }> }>(get('/programs?limit=100'))).items;
      const crowd = programs.find((p) => p.shortname === 'duecrowd')!.id;
      const request = await reports.parse('program_completion', { programId: String(crowd) }, 'export');
      const whole: string[] = [];
      const rows = await reports.exportCsv('program_completion', request, new Writable({ write: (chunk, _e, done) => (whole.push(String(chunk)), done()) }));
      expect(rows).to.be.greaterThan(1000);
      for (let i = 0; i < 12; i++) {
        // A reader that takes the header and fails on the rows (a socket closed by the client), on
        // MariaDB while the export holds its streaming connection.
        let writes = 0;
        const failing = new Writable({ write: (_chunk, _e, done) => done(++writes > 1 ? new Error('reader went away') : null) });
        let error: unknown = null;
        await reports.exportCsv('program_completion', request, failing).catch((e: unknown) => (error = e));
        expect(String(error)).to.contain('reader went away');
      }
      // More reads than the pool has connections, then the whole export again: the same text.
      for (let i = 0; i < 12; i++)
        expect((await reports.page('program_completion', await reports.parse('program_completion', { programId: String(crowd) }))).items).to.have.length(50);
      const again: string[] = [];
      await reports.exportCsv('program_completion', request, new Writable({ write: (chunk, _e, done) => (again.push(String(chunk)), done()) }));
      expect(again.join('')).to.equal(whole.join(''));
    });

    it('the admin pages: the learners page shows Overdue and the progress, filters and pages; the report page links its CSV', async () => {
      const opsAgent = request.agent(app);
      await signIn(opsAgent, 'ops');
      const page = (await opsAgent.get(`/admin/programs/${programId}/learners?limit=2`).set(html).expect(200)).text;
      expect(page).to.contain('Learners in Safety &lt;b&gt;first&lt;/b&gt;');
      expect(page).to.match(/badge-overdue">Overdue</);
      expect(page).to.contain(`${await learnerProgress(ann)}%`);
      // Things are picked by name (a search box, never a list capped at some length).
      expect(page).to.contain('name="search"').and.to.contain('data-pick="/admin/pick/organisations"');
      const searched = (await opsAgent.get(`/admin/programs/${programId}/learners?search=cedar&status=`).set(html).expect(200)).text;
      // (Ann's name is also in the manager picker: she manages Bob.)
      expect(searched).to.contain('>Cat Cedar</a>').and.not.to.contain('>Ann Alder</a>');
      expect((await opsAgent.get(`/admin/programs/${programId}/learners?status=late`).set(html).expect(400)).text).to.contain('role="alert"');

      const report = (await opsAgent.get(`/admin/reports/overdue?organisationId=${north}`).set(html).expect(200)).text;
      expect(report).to.contain('Ann Alder').and.not.to.contain('Cat Cedar');
      expect(report).to.contain('name="organisationId_q" value="North"');
      // Typed by name, the filter resolves to the same organisation, and the links carry its id.
      const byName = (await opsAgent.get('/admin/reports/overdue?organisationId_q=north').set(html).expect(200)).text;
      expect(byName).to.contain('Ann Alder').and.not.to.contain('Cat Cedar');
      expect(byName).to.contain(`href="/admin/reports/overdue/export.csv?organisationId&#x3D;${north}"`);
      const unknown = (await opsAgent.get('/admin/reports/overdue?organisationId_q=Atlantis').set(html).expect(400)).text;
      expect(unknown).to.contain('Organisation (and below): no organisation matches “Atlantis”');
      // Handlebars escapes "=" in attributes; the browser reads it back.
      expect(report).to.contain(`href="/admin/reports/overdue/export.csv?organisationId&#x3D;${north}"`);
      const csv = await opsAgent.get(`/admin/reports/overdue/export.csv?organisationId=${north}`).buffer(true).parse(textParser).expect(200);
      const viaApi = await get(`/reports/overdue.csv?organisationId=${north}`).buffer(true).parse(textParser);
      expect(csv.body).to.equal(viaApi.body);
      expect((await opsAgent.get('/admin/reports').set(html).expect(200)).text).to.contain('href="/admin/reports/course_completion"');
      // Not for learners.
      expect((await ann.agent.get('/admin/reports/overdue').set(html)).status).to.equal(403);
    });
  });

  describe('waymark report export', () => {
    const tsxLoader = import.meta.resolve('tsx');
    const cli = (args: string[]) =>
      spawnSync(process.execPath, ['--import', tsxLoader, path.join(projectRoot, 'scripts/cli.ts'), 'report', 'export', ...args], {
        cwd: projectRoot,
        env: { ...process.env, DATABASE_URL: t.database.url, WAYMARK_PLUGINS_DIR: path.join(projectRoot, 'plugins'), LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 60_000,
      });

    it('writes the same CSV as the API to a file or to stdout, with progress on stderr; a bad filter is refused', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-report-'));
      try {
        const file = path.join(dir, 'overdue.csv');
        const toFile = cli(['overdue', `organisationId=${north}`, '--format', 'csv', '--out', file]);
        expect(toFile.status, toFile.stderr).to.equal(0);
        const viaApi = await get(`/reports/overdue.csv?organisationId=${north}`).buffer(true).parse(textParser);
        expect(fs.readFileSync(file, 'utf8')).to.equal(viaApi.body);
        expect(toFile.stderr).to.contain('overdue.csv: 1/1').and.to.contain(`Wrote 1 rows to ${file}`);

        const toStdout = cli(['program_completion', `programId=${programId}`]);
        expect(toStdout.status, toStdout.stderr).to.equal(0);
        expect(toStdout.stdout).to.equal((await get(`/reports/program_completion.csv?programId=${programId}`).buffer(true).parse(textParser)).body);
        expect(parseCsv(toStdout.stdout)).to.have.length(5);

        const bad = cli(['overdue', 'colour=red']);
        expect(bad.status).to.not.equal(0);
        expect(bad.stderr).to.contain('colour');
        expect(bad.stdout).to.equal('');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("the manager's team view", () => {
    it('a manager sees their direct and indirect reports with their required learning, and the overdue learner', async () => {
      const team = await ok<{ items: Array<{ id: number; fullname: string; direct: boolean; programs: Row[] }>; nextCursor: null }>(
        get('/users/me/team', mia.token),
      );
      expect(team.items.map((m) => [m.fullname, m.direct])).to.deep.equal([
        ['Ann Alder', true],
        ['Bob Birch', false],
      ]);
      expect(team.items[0]!.programs).to.have.length(1);
      expect(team.items[0]!.programs[0]).to.include({ id: programId, status: 'overdue', overdue: true, progress: await learnerProgress(ann) });
      expect(team.items[1]!.programs[0]).to.include({ status: 'in_progress', overdue: false });
      // By id too, and an administrator may look; nobody else.
      expect((await ok<typeof team>(get(`/users/${mia.id}/team`, mia.token))).items).to.have.length(2);
      expect((await ok<typeof team>(get(`/users/${mia.id}/team`))).items).to.have.length(2);
      await ok(get(`/users/${max.id}/team`, mia.token), 403);
      await ok(get(`/users/${mia.id}/team`, ann.token), 403);
      // Someone with nobody to manage has an empty team.
      expect((await ok<typeof team>(get('/users/me/team', dan.token))).items).to.deep.equal([]);
      // Paging.
      const first = await ok<typeof team>(get('/users/me/team?limit=1', mia.token));
      expect(first.items.map((m) => m.fullname)).to.deep.equal(['Ann Alder']);
      const second = await ok<typeof team>(get(`/users/me/team?limit=1&cursor=${first.nextCursor}`, mia.token));
      expect(second.items.map((m) => m.fullname)).to.deep.equal(['Bob Birch']);
    });

    it("a manager opens their report's Record of Learning and gets 403 on another team's learner (page and API)", async () => {
      await ok(get(`/users/${bob.id}/record-of-learning`, mia.token));
      await ok(get(`/users/${ann.id}/required-learning`, mia.token));
      await ok(get(`/users/${cat.id}/record-of-learning`, mia.token), 403);
      await ok(get(`/users/${cat.id}/required-learning`, mia.token), 403);
      // Ann manages Bob but not her own manager.
      await ok(get(`/users/${mia.id}/record-of-learning`, ann.token), 403);

      const record = (await mia.agent.get(`/users/${ann.id}/record-of-learning`).set(html).expect(200)).text;
      expect(record).to.contain('Record of learning: Ann Alder').and.to.contain('Safety &lt;b&gt;first&lt;/b&gt;');
      expect(record).to.contain(`action="/users/${ann.id}/record-of-learning"`);
      expect((await mia.agent.get(`/users/${cat.id}/record-of-learning`).set(html)).status).to.equal(403);
      expect((await cat.agent.get(`/users/${ann.id}/record-of-learning`).set(html)).status).to.equal(403);
    });

    it('the team page lists the team with the overdue learner marked, and the header links it for managers only', async () => {
      const page = (await mia.agent.get('/my/team').set(html).expect(200)).text;
      expect(page).to.contain(`href="/users/${ann.id}/record-of-learning">Ann Alder</a>`);
      expect(page).to.contain('1 overdue').and.to.contain('Bob Birch').and.not.to.contain('Cat Cedar');
      expect(page).to.contain('<a href="/my/team" aria-current="page">My team</a>');
      const learnerPage = (await dan.agent.get('/my/required-learning').set(html).expect(200)).text;
      expect(learnerPage).not.to.contain('href="/my/team"');
      expect((await ann.agent.get('/my/required-learning').set(html).expect(200)).text).to.contain('href="/my/team"');
    });
  });
});

/** Reads a response body as text whatever its content type (supertest only buffers text/* and JSON by default). */
function textParser(res: request.Response, callback: (error: Error | null, body: string) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  stream.on('end', () => callback(null, text));
}
