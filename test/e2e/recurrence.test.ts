/**
 * Recurring programs (DOMAIN 9, issue 15 item 1), driven as an operator would see it: a yearly
 * program created through the REST API, learners launching and completing courses, and the
 * scheduled task run by the job queue's schedules at chosen moments (what `waymark cron --now`
 * does), on the database under test. Time is the database clock: Date is faked (nothing else).
 *
 * Ann always completes, Ben misses 2027 (and finishes it late, in 2028), Cat joins in mid-2027.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';
import { signIn, PASSWORD } from '../browser/scenario';
import { formEntries, formObject } from '../utils/forms';

const PLUGINS = ['notify_program', 'assign_individual', 'enrol_program', 'restrict_access'];
const at = (text: string): number => Date.parse(text);
const html = { Accept: 'text/html' };

interface Person {
  id: number;
  username: string;
  token: string;
}

interface HistoryItem {
  kind: string;
  fullname: string;
  completedAt: string;
  reason: string;
  period: string | null;
}

describe(`recurring programs (${testDialect})`, function () {
  this.timeout(180_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let clock: sinon.SinonFakeTimers;
  let pluginsDir: string;
  let admin: string;
  let ann: Person;
  let ben: Person;
  let cat: Person;
  let programId: number;
  let course2026: number;
  let course2027: number;
  let course2028: number;

  const api = (token: string) => ({
    get: (p: string) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
    post: (p: string, body: object) => request(app).post(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send(body),
    patch: (p: string, body: object) => request(app).patch(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send(body),
  });
  /** What `waymark cron --now <ms>` does: due schedules queued, then every job drained. */
  const cronAt = async (ms: number): Promise<void> => {
    clock.setSystemTime(ms);
    await site.jobs.runDueSchedules(new Date(ms));
    await site.jobs.drain();
  };
  const program = async () => (await api(admin).get(`/programs/${programId}`).expect(200)).body;
  const learner = async (who: Person) => (await api(admin).get(`/programs/${programId}/learners/${who.id}`).expect(200)).body;
  /** The learner launches the course through the real route: 302 into the course, or a refusal. */
  const launch = async (who: Person, courseId: number): Promise<number> => {
    const agent = request.agent(app);
    await signIn(agent, who.username);
    return (await agent.get(`/courses/${courseId}/launch`).set(html)).status;
  };
  const completeCourse = async (who: Person, courseId: number): Promise<void> => {
    const course = (await api(admin).get(`/courses/${courseId}`).expect(200)).body as { activities: Array<{ id: number; name: string }> };
    const module = course.activities.find((a) => a.name === 'Module')!;
    await api(admin)
      .post(`/activities/${module.id}/completions`, { userId: who.id })
      .expect((r) => expect(r.status, JSON.stringify(r.body)).to.be.oneOf([200, 201]));
  };
  const recurringMessages = async (who: Person): Promise<string[]> => {
    const inbox = (await api(who.token).get(`/users/${who.id}/notifications?limit=100`).expect(200)).body as {
      items: Array<{ type: string; subject: string }>;
    };
    return inbox.items
      .filter((n) => n.type === 'recurring_course')
      .map((n) => n.subject)
      .reverse();
  };
  const history = async (who: Person): Promise<HistoryItem[]> => {
    const record = (await api(who.token).get(`/users/${who.id}/record-of-learning`).expect(200)).body as { history: HistoryItem[] };
    return record.history.filter((h) => h.kind === 'program');
  };
  const enrolledCourses = async (who: Person): Promise<number[]> =>
    (await site.services.enrolments.list({ userId: who.id }))
      .filter((e) => e.status === 'active')
      .map((e) => e.courseId)
      .sort((a, b) => a - b);

  let seq = 0;
  async function person(fullname: string): Promise<Person> {
    const username = `rec${++seq}`;
    const { id } = await site.services.users.create({ username, email: `${username}@example.com`, fullname, password: PASSWORD });
    return { id, username, token: await createApiToken(site.db, id) };
  }

  before(async () => {
    clock = sinon.useFakeTimers({ now: at('2026-01-05T09:00:00Z'), toFake: ['Date'] });
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-recurrence-plugins-'));
    for (const id of PLUGINS) fs.symlinkSync(path.join(projectRoot, 'plugins', id), path.join(pluginsDir, id), 'dir');
    t = await createTestSite({ pluginsDir, sessionSecret: 'recurrence-test-secret-0123456789' });
    site = t.site;
    app = createApp(site);
    const { id: adminId } = await site.services.users.create({
      username: 'rec_admin',
      email: 'rec_admin@example.com',
      fullname: 'Ada Admin',
      isAdmin: true,
      password: PASSWORD,
    });
    admin = await createApiToken(site.db, adminId);
    ann = await person('Ann Always');
    ben = await person('Ben Behind');
    cat = await person('Cat Late');

    // Fire safety: a tracked module, and notes that open once the module is complete.
    const course = (await api(admin).post('/courses', { shortname: 'fire', fullname: 'Fire safety' }).expect(201)).body as { id: number };
    course2026 = course.id;
    const module = (await api(admin).post(`/courses/${course2026}/activities`, { type: 'page', name: 'Module', completionTracked: true }).expect(201)).body;
    await api(admin)
      .post(`/courses/${course2026}/activities`, {
        type: 'resource',
        name: 'Notes',
        availability: { op: '&', c: [{ type: 'completion', id: module.id, e: 'complete' }], showc: [true] },
      })
      .expect(201);
  });

  after(async () => {
    clock?.restore();
    await t?.close();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  });

  it('refuses a recurrence the program cannot have, naming the field', async () => {
    const other = (await api(admin).post('/courses', { shortname: 'fire_other', fullname: 'Other' }).expect(201)).body as { id: number };
    const two = await api(admin).post('/programs', {
      shortname: 'rec_bad',
      fullname: 'Bad',
      courseSets: [{ courseIds: [course2026, other.id], rule: 'all' }],
      recurrence: { period: 'P1Y', leadTime: 'P1M' },
    });
    expect(two.status).to.equal(422);
    expect(two.body.error.details[0]).to.include({ path: 'recurrence', code: 'RECURRENCE_NEEDS_ONE_COURSE' });
    const lead = await api(admin).post('/programs', {
      shortname: 'rec_bad',
      fullname: 'Bad',
      courseSets: [{ courseIds: [course2026], rule: 'all' }],
      recurrence: { period: 'P1M', leadTime: 'P2M' },
    });
    expect(lead.status).to.equal(422);
    expect(lead.body.error.details[0]).to.include({ path: 'recurrence.leadTime', code: 'RECURRENCE_LEAD_TOO_LONG' });
    const schema = await api(admin).post('/programs', {
      shortname: 'rec_bad',
      fullname: 'Bad',
      courseSets: [{ courseIds: [course2026], rule: 'all' }],
      recurrence: { period: 'P1Y' },
    });
    expect(schema.status).to.equal(400);
    expect((await api(admin).get('/programs?q=rec_bad').expect(200)).body.items).to.deep.equal([]);
  });

  it('2026: a yearly program whose first period is the calendar year; Ann and Ben complete it', async () => {
    const created = await api(admin).post('/programs', {
      shortname: 'rec_fire',
      fullname: 'Fire safety program',
      courseSets: [{ label: 'Fire safety', courseIds: [course2026], rule: 'all' }],
      recurrence: { period: 'P1Y', leadTime: 'P1M', startsAt: '2026-01-01' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    programId = created.body.id;
    expect(created.body.recurrence).to.deep.include({ period: 'P1Y', leadTime: 'P1M', startsAt: '2026-01-01T00:00:00.000Z', next: null });
    expect(created.body.recurrence.current).to.deep.include({
      label: '2026',
      courseId: course2026,
      startsAt: '2026-01-01T00:00:00.000Z',
      endsAt: '2027-01-01T00:00:00.000Z',
    });
    expect(created.body.recurrence.nextCopyAt).to.equal('2026-12-01T00:00:00.000Z');
    for (const who of [ann, ben]) await site.services.assignment.addRule(programId, { source: 'individual', instanceId: who.id, due: { date: '2026-06-30' } });
    await site.jobs.drain();
    // A reminder a week before the due date: it follows each period's new due date.
    await api(admin)
      .post(`/notify_program/programs/${programId}/messages`, { type: 'program_due', triggerOffset: 'P1W', subject: 'Due soon', body: 'Due {{due_date}}' })
      .expect(201);

    clock.setSystemTime(at('2026-03-01T10:00:00Z'));
    expect(await launch(ann, course2026)).to.equal(302);
    await completeCourse(ann, course2026);
    clock.setSystemTime(at('2026-04-01T10:00:00Z'));
    expect(await launch(ben, course2026)).to.equal(302);
    await completeCourse(ben, course2026);
    expect((await learner(ann)).status).to.equal('complete');
    expect((await learner(ben)).status).to.equal('complete');
  });

  it('a month ahead, the task copies the course for 2027, hidden, restrictions pointing at the copy; running it again changes nothing', async () => {
    await cronAt(at('2026-11-30T23:00:00Z'));
    expect((await program()).recurrence.next, 'not yet: the lead time has not come').to.equal(null);
    await cronAt(at('2026-12-01T00:10:00Z'));
    await cronAt(at('2026-12-01T00:20:00Z'));
    // Two runs at once find the copy made by whichever went first.
    await Promise.all([site.services.programs.advanceRecurrence(site.db.now()), site.services.programs.advanceRecurrence(site.db.now())]);
    const { recurrence, courseSets } = await program();
    expect(recurrence.next).to.deep.include({ label: '2027', startsAt: '2027-01-01T00:00:00.000Z', endsAt: '2028-01-01T00:00:00.000Z' });
    course2027 = recurrence.next.courseId;
    expect(courseSets[0].courseIds, 'the program still runs on the 2026 course').to.deep.equal([course2026]);
    const copies = (await api(admin).get('/courses?q=Fire safety&limit=100').expect(200)).body.items as Array<{ id: number }>;
    expect(copies.map((c) => c.id).sort()).to.deep.equal([course2026, course2027].sort());

    const copy = (await api(admin).get(`/courses/${course2027}`).expect(200)).body;
    expect(copy).to.include({ fullname: 'Fire safety 2027', shortname: 'fire-2027', visible: false, startDate: '2027-01-01T00:00:00.000Z' });
    const module = copy.activities.find((a: { name: string }) => a.name === 'Module');
    const notes = copy.activities.find((a: { name: string }) => a.name === 'Notes');
    expect(notes.availability.c[0]).to.deep.equal({ type: 'completion', id: module.id, e: 'complete' });
    expect(module.completionTracked).to.equal(true);
    expect(await launch(ann, course2027), 'hidden and not yet the program course').to.not.equal(302);
  });

  it('1 January 2027: the program switches to the copy; completions move to history with the period; a new cycle and due date for each learner', async () => {
    await cronAt(at('2027-01-01T00:05:00Z'));
    await cronAt(at('2027-01-01T00:20:00Z'));
    await site.services.programs.advanceRecurrence(site.db.now());
    const { recurrence, courseSets } = await program();
    expect(courseSets[0].courseIds).to.deep.equal([course2027]);
    expect(recurrence.current).to.deep.include({ label: '2027', courseId: course2027 });
    expect(recurrence.next).to.equal(null);
    expect((await api(admin).get(`/courses/${course2027}`).expect(200)).body.visible).to.equal(true);

    // A completion younger than a period carries the learner until it is a period old.
    expect(await learner(ann)).to.include({ status: 'incomplete', dueAt: '2027-03-01T10:00:00.000Z' });
    expect(await learner(ben)).to.include({ status: 'incomplete', dueAt: '2027-04-01T10:00:00.000Z' });
    for (const who of [ann, ben]) {
      expect((await history(who)).map((h) => [h.period, h.reason])).to.deep.equal([['2026', 'recurrence']]);
      expect(await recurringMessages(who)).to.deep.equal(['Time to renew Fire safety program: Fire safety 2027']);
    }
    const page = (await (await agentOf(ann.username)).get('/my/record-of-learning').set(html).expect(200)).text;
    expect(page).to.contain('period 2026');

    expect(await launch(ann, course2027)).to.equal(302);
    clock.setSystemTime(at('2027-02-15T10:00:00Z'));
    await completeCourse(ann, course2027);
    expect((await learner(ann)).status).to.equal('complete');
  });

  it('2027: the due reminder follows the new cycle; Cat joins in June and completes; Ben does nothing', async () => {
    await cronAt(at('2027-03-26T00:00:00Z'));
    const benInbox = (await api(ben.token).get(`/users/${ben.id}/notifications?limit=100`).expect(200)).body.items as Array<{ type: string; body: string }>;
    expect(benInbox.filter((n) => n.type === 'program_due').map((n) => n.body)).to.deep.equal(['Due April 1, 2027']);
    const annInbox = (await api(ann.token).get(`/users/${ann.id}/notifications?limit=100`).expect(200)).body.items as Array<{ type: string }>;
    expect(
      annInbox.filter((n) => n.type === 'program_due'),
      'Ann completed before her reminder',
    ).to.deep.equal([]);

    clock.setSystemTime(at('2027-06-01T10:00:00Z'));
    await site.services.assignment.addRule(programId, { source: 'individual', instanceId: cat.id, due: { within: 'P3M', event: 'assignment_date' } });
    await site.jobs.drain();
    expect((await learner(cat)).dueAt).to.equal('2027-09-01T10:00:00.000Z');
    expect(await launch(cat, course2026), 'the 2026 course was never hers').to.not.equal(302);
    expect(await launch(cat, course2027)).to.equal(302);
    clock.setSystemTime(at('2027-07-01T10:00:00Z'));
    await completeCourse(cat, course2027);
    expect((await learner(cat)).status).to.equal('complete');
  });

  it('1 January 2028: the copy of the 2027 copy takes over; Ben keeps the 2027 course until he finishes it, late', async () => {
    await cronAt(at('2027-12-01T00:05:00Z'));
    course2028 = (await program()).recurrence.next.courseId;
    const copy = (await api(admin).get(`/courses/${course2028}`).expect(200)).body;
    expect(copy).to.include({ fullname: 'Fire safety 2028', shortname: 'fire-2028', visible: false });
    const module = copy.activities.find((a: { name: string }) => a.name === 'Module');
    expect(copy.activities.find((a: { name: string }) => a.name === 'Notes').availability.c[0].id).to.equal(module.id);

    // The task did not run over new year: it catches up whenever it runs next.
    await cronAt(at('2028-01-03T08:00:00Z'));
    await cronAt(at('2028-01-03T08:00:00Z'));
    expect((await program()).courseSets[0].courseIds).to.deep.equal([course2028]);
    expect(await learner(ann)).to.include({ status: 'incomplete', dueAt: '2028-02-15T10:00:00.000Z' });
    expect(await learner(cat)).to.include({ status: 'incomplete', dueAt: '2028-07-01T10:00:00.000Z' });
    expect(await learner(ben), 'no completion for a period: due by the end of this one').to.include({
      status: 'incomplete',
      dueAt: '2029-01-01T00:00:00.000Z',
    });

    const benPage = (await (await agentOf(ben.username)).get(`/programs/${programId}`).set(html).expect(200)).text;
    expect(benPage).to.contain('Still to finish from an earlier period');
    expect(benPage).to.contain(`href="/courses/${course2027}/launch"`);
    expect(await launch(ben, course2027), 'Ben still owes 2027').to.equal(302);
    expect(await launch(cat, course2026)).to.not.equal(302);
    clock.setSystemTime(at('2028-02-01T10:00:00Z'));
    await completeCourse(ben, course2027);
    expect((await learner(ben)).status, 'finishing 2027 does not complete 2028').to.equal('incomplete');
    const after = (await (await agentOf(ben.username)).get(`/programs/${programId}`).set(html).expect(200)).text;
    expect(after).to.not.contain('Still to finish from an earlier period');
    for (const who of [ann, ben, cat]) expect(await launch(who, course2028)).to.equal(302);
  });

  it('ends with the right enrolments, history, messages and periods', async () => {
    expect(await enrolledCourses(ann)).to.deep.equal([course2026, course2027, course2028]);
    expect(await enrolledCourses(ben)).to.deep.equal([course2026, course2027, course2028]);
    expect(await enrolledCourses(cat)).to.deep.equal([course2027, course2028]);

    const rows = async (who: Person) => (await history(who)).map((h) => [h.period, h.reason, h.completedAt]).sort();
    expect(await rows(ann)).to.deep.equal([
      ['2026', 'recurrence', '2026-03-01T10:00:00.000Z'],
      ['2027', 'recurrence', '2027-02-15T10:00:00.000Z'],
    ]);
    expect(await rows(ben)).to.deep.equal([
      ['2026', 'recurrence', '2026-04-01T10:00:00.000Z'],
      ['2027', 'recurrence_late', '2028-02-01T10:00:00.000Z'],
    ]);
    expect(await rows(cat)).to.deep.equal([['2027', 'recurrence', '2027-07-01T10:00:00.000Z']]);

    const renew = (year: number) => `Time to renew Fire safety program: Fire safety ${year}`;
    expect(await recurringMessages(ann)).to.deep.equal([renew(2027), renew(2028)]);
    expect(await recurringMessages(ben)).to.deep.equal([renew(2027), renew(2028)]);
    expect(await recurringMessages(cat)).to.deep.equal([renew(2028)]);

    const periods = (await api(admin).get(`/programs/${programId}/periods`).expect(200)).body.items as Array<Record<string, unknown>>;
    expect(periods.map((p) => [p.label, p.status, (p.course as { id: number }).id, p.learners, p.completed])).to.deep.equal([
      ['2028', 'current', course2028, 0, 0],
      ['2027', 'past', course2027, 3, 3],
      ['2026', 'past', course2026, 2, 2],
    ]);
    const page = (await (await agentOf('rec_admin')).get(`/admin/programs/${programId}/periods`).set(html).expect(200)).text;
    expect(page).to.contain('Fire safety 2027');
    expect(page).to.contain('3 of 3 completed');
  });

  it('an operator changes the period on the edit form: the current period keeps its start and ends one new period later', async () => {
    const agent = await agentOf('rec_admin');
    const form = (await agent.get(`/admin/programs/${programId}/edit`).set(html).expect(200)).text;
    expect(form).to.contain('name="recurrencePeriod" value="P1Y"');
    expect(form).to.match(/Current period: <strong>2028<\/strong>/);
    expect(form).to.contain(`href="/admin/programs/${programId}/periods"`);
    const body = { ...formObject(formEntries(form, 'class="form program-form"')), recurrencePeriod: 'P6M', recurrenceLead: 'P2W', action: 'save' };
    const saved = await agent.post(`/admin/programs/${programId}/edit`).type('form').send(body);
    expect(saved.status, saved.text.slice(0, 2000)).to.equal(303);
    const { recurrence, courseSets } = await program();
    expect(courseSets[0].courseIds).to.deep.equal([course2028]);
    expect(recurrence).to.deep.include({ period: 'P6M', leadTime: 'P2W' });
    expect(recurrence.current).to.deep.include({ label: '2028', startsAt: '2028-01-01T00:00:00.000Z', endsAt: '2028-07-01T00:00:00.000Z' });
  });

  it('`waymark cron --now` runs the same task from the command line: the next half-year copy, then the switch, once', async () => {
    const cron = (when: string) => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'cron', '--now', when], {
        cwd: projectRoot,
        env: { ...process.env, DATABASE_URL: t.database.url, WAYMARK_PLUGINS_DIR: pluginsDir, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).to.equal(0);
      return run.stdout;
    };
    expect(cron('2028-06-20T00:00')).to.match(/Jobs done: \d+, dead: 0/);
    const { recurrence } = await program();
    expect(recurrence.next).to.deep.include({ label: '2028-07', startsAt: '2028-07-01T00:00:00.000Z', endsAt: '2029-01-01T00:00:00.000Z' });
    const copy = (await api(admin).get(`/courses/${recurrence.next.courseId}`).expect(200)).body;
    expect(copy).to.include({ fullname: 'Fire safety 2028-07', visible: false });

    cron('2028-07-01T00:05');
    cron('2028-07-01T00:05');
    const after = await program();
    expect(after.courseSets[0].courseIds).to.deep.equal([copy.id]);
    expect(after.recurrence.current).to.deep.include({ label: '2028-07', courseId: copy.id });
    const periods = (await api(admin).get(`/programs/${programId}/periods`).expect(200)).body.items as Array<{ label: string; status: string }>;
    expect(periods.map((p) => [p.label, p.status])).to.deep.equal([
      ['2028-07', 'current'],
      ['2028', 'past'],
      ['2027', 'past'],
      ['2026', 'past'],
    ]);
    expect(await recurringMessages(ann)).to.have.length(3);
  });

  it('unassigning a learner suspends their program enrolments in every period’s course; assigning them again brings them back', async () => {
    const [rule] = (await site.services.assignment.listRules(programId)).filter(
      (r) => r.instance.id === ben.id || (r.instance as { instanceId?: number }).instanceId === ben.id,
    );
    expect(rule, 'Ben’s rule').to.exist;
    await site.services.assignment.removeRule(programId, rule!.id);
    await site.jobs.drain();
    expect(await enrolledCourses(ben)).to.deep.equal([]);
    await site.services.assignment.addRule(programId, { source: 'individual', instanceId: ben.id });
    await site.jobs.drain();
    expect(await enrolledCourses(ben)).to.deep.equal([course2026, course2027, course2028]);
  });

  /** A signed-in browser session. */
  async function agentOf(username: string): Promise<ReturnType<typeof request.agent>> {
    const agent = request.agent(app);
    await signIn(agent, username);
    return agent;
  }
});
