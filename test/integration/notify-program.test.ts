import { spawn } from 'node:child_process';
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
import { createSite, type Site } from '../../core/site';
import { testDialect } from '../utils/db';
import { createTestSite, silentLogger, type TestSite } from '../utils/site';
import { SmtpSink, type ReceivedMail } from '../utils/smtp-sink';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const PLUGINS = ['notify_program', 'assign_audience', 'assign_individual', 'enrol_program'];

/**
 * notify_program end to end on a real database and a real SMTP server (smtp-server on a loopback
 * port, messages parsed with mailparser): assignment through an audience, manager copies, timed
 * reminders found by the scheduled scan, exactly-once delivery, exceptions, unassignment, cycles,
 * template validation and escaping. Time is the database clock: Date is faked (nothing else), and
 * schedules run with runDueSchedules(at that moment) then a drain, as `waymark cron --now` does.
 */
describe(`notify_program: program notifications (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let sink: SmtpSink;
  let clock: sinon.SinonFakeTimers;
  let pluginsDir: string;
  let adminToken: string;
  let managerJob: number;
  let seq = 0;
  const env = { url: process.env.SMTP_URL, from: process.env.SMTP_FROM };
  /** The suite's clock: a fixed Monday morning, moved explicitly. */
  const T0 = Date.parse('2027-03-01T09:00:00Z');

  const api = {
    get: (url: string, token = adminToken) => request(app).get(`/api/v1${url}`).set('Authorization', `Bearer ${token}`),
    post: (url: string, body: unknown, token = adminToken) =>
      request(app)
        .post(`/api/v1${url}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    patch: (url: string, body: unknown) =>
      request(app)
        .patch(`/api/v1${url}`)
        .set('Authorization', `Bearer ${adminToken}`)
        .send(body as object),
  };

  const setTime = (ms: number): void => clock.setSystemTime(ms);
  /** The scheduled tasks at `ms`, then every job they queue (what `waymark cron --now` does). */
  const cronAt = async (ms: number): Promise<void> => {
    setTime(ms);
    await site.jobs.runDueSchedules(new Date(ms));
    await site.jobs.drain();
  };
  const mailTo = async (email: string): Promise<ReceivedMail[]> => (await sink.messages()).filter((m) => m.envelopeTo.includes(email));
  /** Mail about one program (every message names its program in a header). */
  const mailAbout = async (programId: number): Promise<ReceivedMail[]> =>
    (await sink.messages()).filter((m) => m.mail.headers.get('x-waymark-program') === String(programId));

  async function learner(options: { fullname?: string; lang?: string; timezone?: string; manager?: boolean } = {}): Promise<{ id: number; email: string }> {
    const n = ++seq;
    const email = `np_learner${n}@example.com`;
    const user = await site.services.users.create({
      username: `np_learner${n}`,
      email,
      fullname: options.fullname ?? `Learner ${n}`,
      password: 'correct horse battery',
      lang: options.lang,
      timezone: options.timezone,
    });
    if (options.manager !== false) await site.services.jobAssignments.create(user.id, { managerJobAssignmentId: managerJob });
    return { id: user.id, email };
  }

  async function program(options: { fullname?: string; minTime?: string } = {}): Promise<{ id: number; courseId: number }> {
    const n = ++seq;
    const course = await site.services.courses.create({ shortname: `np_c${n}`, fullname: `Course ${n}` });
    const { program: p } = await site.services.programs.create({
      shortname: `np_p${n}`,
      fullname: options.fullname ?? `Program ${n}`,
      courseSets: [{ label: 'Essentials', courseIds: [course.id], rule: 'all', ...(options.minTime ? { minTime: options.minTime } : {}) }],
    });
    return { id: p.id, courseId: course.id };
  }

  async function audienceOf(userIds: number[]): Promise<number> {
    const audience = await site.services.audiences.create({ name: `Audience ${++seq}` });
    for (const u of userIds) await site.services.audiences.addMember(audience.id, u);
    return audience.id;
  }

  /** Assigns an audience with a fixed due date and runs the sync and everything it queues. */
  async function assignAudience(programId: number, audienceId: number, due: number | null): Promise<void> {
    await site.services.assignment.addRule(programId, {
      source: 'audience',
      instanceId: audienceId,
      due: due === null ? null : { date: new Date(due).toISOString() },
    });
    await site.jobs.drain();
  }

  async function addMessage(programId: number, body: Record<string, unknown>): Promise<number> {
    const res = await api.post(`/notify_program/programs/${programId}/messages`, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as number;
  }

  before(async () => {
    sink = new SmtpSink();
    process.env.SMTP_URL = await sink.start();
    process.env.SMTP_FROM = 'Waymark Learning <noreply@waymark.test>';
    clock = sinon.useFakeTimers({ now: T0, toFake: ['Date'] });
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-notify-plugins-'));
    for (const id of PLUGINS) fs.symlinkSync(path.join(projectRoot, 'plugins', id), path.join(pluginsDir, id), 'dir');
    t = await createTestSite({ pluginsDir, sessionSecret: 'notify-test-secret-0123456789' });
    site = t.site;
    app = createApp(site);
    const admin = await site.services.users.create({
      username: 'np_admin',
      email: 'np_admin@example.com',
      fullname: 'Ada Admin',
      isAdmin: true,
      password: 'correct horse battery',
    });
    adminToken = await createApiToken(site.db, admin.id);
    const manager = await site.services.users.create({ username: 'np_manager', email: 'np_manager@example.com', fullname: 'Max Manager' });
    managerJob = (await site.services.jobAssignments.create(manager.id, {})).id;
  });

  after(async () => {
    clock?.restore();
    await t?.close();
    await sink?.close();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
    for (const [key, value] of [
      ['SMTP_URL', env.url],
      ['SMTP_FROM', env.from],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  beforeEach(() => {
    sink.clear();
    // The clock only moves forward, as it does on a real site.
    setTime(site.db.now() + HOUR);
  });

  it('a learner assigned through an audience gets one assigned email and one in-app notification, the manager one copy, in their own language', async () => {
    const p = await program({ fullname: 'Fire <Safety> & "First Aid"' });
    const ann = await learner({ fullname: 'Ann <b>O’Neil</b> & co', lang: 'fr', timezone: 'Europe/Paris' });
    const due = Date.parse('2027-06-01T22:30:00Z'); // 2 June in Paris, 1 June in UTC
    await assignAudience(p.id, await audienceOf([ann.id]), due);

    const toAnn = await mailTo(ann.email);
    const toManager = await mailTo('np_manager@example.com');
    expect(sink.count).to.equal(2);
    expect(toAnn).to.have.length(1);
    expect(toManager).to.have.length(1);

    const mail = toAnn[0]!.mail;
    expect(mail.subject).to.equal('You have been enrolled on Fire <Safety> & "First Aid"');
    expect(mail.from?.text).to.equal('"Waymark Learning" <noreply@waymark.test>');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]!.address : null).to.equal(ann.email);
    expect(mail.messageId).to.match(/^<np-\d+-\d+-0-\d+-\d+@waymark\.test>$/);
    expect(mail.headers.get('x-waymark-notification')).to.equal('assigned');
    // Placeholders rendered, the due date in the learner's language and time zone.
    expect(mail.text).to.contain('Hello Ann <b>O’Neil</b> & co');
    expect(mail.text).to.contain('Please complete it by 2 juin 2027');
    expect(mail.text).to.contain('Essentials: all of Course');
    // The HTML part escapes everything a user typed: no markup from a name or a program title.
    expect(mail.html).to.contain('Ann &lt;b&gt;O’Neil&lt;/b&gt; &amp; co');
    expect(mail.html).to.contain('Fire &lt;Safety&gt; &amp; &quot;First Aid&quot;');
    expect(mail.html).not.to.contain('<b>');

    const copy = toManager[0]!.mail;
    expect(copy.subject).to.equal('Ann <b>O’Neil</b> & co has been enrolled on Fire <Safety> & "First Aid"');
    expect(copy.text).to.contain('Hello Max Manager');
    expect(copy.text).to.contain('It is due on June 1, 2027');

    const inbox = await api.get(`/users/${ann.id}/notifications`).expect(200);
    expect(inbox.body.items).to.have.length(1);
    expect(inbox.body.items[0]).to.include({ type: 'assigned', programId: p.id, readAt: null, subject: mail.subject });
    expect(inbox.body.nextCursor).to.equal(null);

    // Nothing more, however often the task and the queue run again.
    await site.jobs.enqueue('notify_program.scan');
    await site.jobs.enqueue('notify_program.scan');
    await site.jobs.drain();
    await cronAt(site.db.now() + 10 * 60_000);
    expect(sink.count).to.equal(2);
    expect((await api.get(`/users/${ann.id}/notifications`).expect(200)).body.items).to.have.length(1);
  });

  it('sends a batch over a few pooled SMTP connections, not one per message', async () => {
    const p = await program({ fullname: 'Pooled' });
    const crowd = [];
    for (let i = 0; i < 12; i++) crowd.push(await learner({ fullname: `Pooled ${i}`, manager: false }));
    const before = sink.connections;
    await assignAudience(p.id, await audienceOf(crowd.map((c) => c.id)), null);
    expect(await mailAbout(p.id)).to.have.length(12);
    expect(sink.connections - before).to.be.within(1, 5);
  });

  it('a due reminder three days before the due date arrives once, when the schedule passes that moment', async () => {
    const p = await program({ fullname: 'Data Protection' });
    const ben = await learner({ fullname: 'Ben Brown' });
    const due = site.db.now() + 20 * DAY;
    await assignAudience(p.id, await audienceOf([ben.id]), due);
    await addMessage(p.id, { type: 'program_due', triggerOffset: 'P3D', subject: 'Due on {{due_date}}: {{program_fullname}}', body: 'Hi {{user_fullname}}' });
    sink.clear();

    await cronAt(due - 3 * DAY - HOUR);
    expect(await mailAbout(p.id), 'an hour before the trigger').to.deep.equal([]);
    await cronAt(due - 3 * DAY + 5 * 60_000);
    const reminders = await mailTo(ben.email);
    expect(reminders).to.have.length(1);
    expect(reminders[0]!.mail.subject).to.equal(
      `Due on ${new Date(due).toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' })}: Data Protection`,
    );
    expect(reminders[0]!.mail.headers.get('x-waymark-notification')).to.equal('program_due');

    // The task twice more at the same moment, then later: nothing is sent twice.
    await site.jobs.enqueue('notify_program.scan');
    await site.jobs.enqueue('notify_program.scan');
    await site.jobs.drain();
    await cronAt(due - 2 * DAY);
    await cronAt(due - DAY);
    expect(await mailAbout(p.id)).to.have.length(1);
  });

  it('an overdue message arrives after the due date, except to a learner who completed the program', async () => {
    const p = await program({ fullname: 'Ethics' });
    const late = await learner({ fullname: 'Lena Late' });
    const done = await learner({ fullname: 'Dora Done' });
    const due = site.db.now() + 10 * DAY;
    await assignAudience(p.id, await audienceOf([late.id, done.id]), due);
    await addMessage(p.id, {
      type: 'program_overdue',
      triggerOffset: 'P1D',
      subject: '{{program_fullname}} is overdue',
      body: 'It was due on {{due_date}}.',
      managerCopy: true,
    });
    await site.services.completion.recordCourseCompletion(p.courseId, done.id, { completedAt: due - 2 * DAY });
    await site.jobs.drain();
    sink.clear();

    await cronAt(due + 12 * HOUR);
    expect(await mailAbout(p.id), 'before the overdue moment').to.deep.equal([]);
    await cronAt(due + DAY + 10 * 60_000);
    expect((await mailTo(late.email)).map((m) => m.mail.subject)).to.deep.equal(['Ethics is overdue']);
    expect(await mailTo(done.email)).to.deep.equal([]);
    // The manager's copy, for the late learner only.
    const copies = (await mailAbout(p.id)).filter((m) => m.envelopeTo.includes('np_manager@example.com'));
    expect(copies).to.have.length(1);
    expect(copies[0]!.mail.text).to.contain(
      `It was due on ${new Date(due).toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' })}.`,
    );
  });

  it('course-set reminders follow each set: due its minimum time after its group opened, never for a locked or completed set', async () => {
    const a = await site.services.courses.create({ shortname: `np_c${++seq}`, fullname: 'Induction' });
    const b = await site.services.courses.create({ shortname: `np_c${++seq}`, fullname: 'On the job' });
    const { program: p } = await site.services.programs.create({
      shortname: `np_p${++seq}`,
      fullname: 'Onboarding',
      courseSets: [
        { label: 'First week', courseIds: [a.id], rule: 'all', minTime: 'P1W', operator: 'then' },
        { label: 'First month', courseIds: [b.id], rule: 'all', minTime: 'P4W' },
      ],
    });
    const [first, second] = (await site.services.programs.get(p.id)).courseSets.map((s) => s.id) as [number, number];
    const cora = await learner({ fullname: 'Cora Sets' });
    const assignedAt = site.db.now();
    await assignAudience(p.id, await audienceOf([cora.id]), assignedAt + 60 * DAY);
    await addMessage(p.id, { type: 'courseset_due', triggerOffset: 'P2D', subject: '{{courseset_label}} is due on {{due_date}}', body: 'Hi' });
    await addMessage(p.id, { type: 'courseset_overdue', triggerOffset: 'P1D', subject: '{{courseset_label}} is overdue', body: 'Hi', managerCopy: true });
    const setDue = async () =>
      Object.fromEntries(
        ((await api.get(`/programs/${p.id}/learners/${cora.id}`).expect(200)).body.courseSets as Array<{ id: number; dueAt: string | null }>).map((s) => [
          s.id,
          s.dueAt,
        ]),
      );
    // Only the open group is dated: the second set is locked until the first is done.
    expect(await setDue()).to.deep.equal({ [first]: new Date(assignedAt + 7 * DAY).toISOString(), [second]: null });
    sink.clear();

    await cronAt(assignedAt + 5 * DAY + HOUR);
    expect((await mailTo(cora.email)).map((m) => m.mail.subject)).to.deep.equal([
      `First week is due on ${new Date(assignedAt + 7 * DAY).toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' })}`,
    ]);
    // Finishing the first set opens the second, which is then due four weeks later.
    const doneAt = assignedAt + 6 * DAY;
    setTime(doneAt);
    await site.services.completion.recordCourseCompletion(a.id, cora.id, { completedAt: doneAt });
    await site.jobs.drain();
    expect(await setDue()).to.deep.equal({ [first]: new Date(assignedAt + 7 * DAY).toISOString(), [second]: new Date(doneAt + 28 * DAY).toISOString() });
    sink.clear();
    // The first set is complete: no overdue message for it after its due date.
    await cronAt(assignedAt + 8 * DAY + HOUR);
    expect(await mailAbout(p.id)).to.deep.equal([]);
    await cronAt(doneAt + 26 * DAY + HOUR);
    expect((await mailTo(cora.email)).map((m) => m.mail.subject)).to.deep.equal([
      `First month is due on ${new Date(doneAt + 28 * DAY).toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' })}`,
    ]);
    sink.clear();
    await cronAt(doneAt + 29 * DAY + HOUR);
    expect((await mailTo(cora.email)).map((m) => m.mail.subject)).to.deep.equal(['First month is overdue']);
    expect((await mailTo('np_manager@example.com')).map((m) => m.mail.subject)).to.deep.equal(['First month is overdue']);
  });

  it('a learner with an open exception gets nothing, and the site administrators get the exception report', async () => {
    const p = await program({ fullname: 'Leadership', minTime: 'P4W' });
    const eve = await learner({ fullname: 'Eve Early' });
    await assignAudience(p.id, await audienceOf([eve.id]), site.db.now() + 10 * DAY);
    const view = await api.get(`/programs/${p.id}/learners/${eve.id}`).expect(200);
    expect(view.body.assigned).to.equal(false);

    expect(await mailTo(eve.email)).to.deep.equal([]);
    expect((await api.get(`/users/${eve.id}/notifications`).expect(200)).body.items).to.deep.equal([]);
    const reports = await mailTo('np_admin@example.com');
    expect(reports).to.have.length(1);
    expect(reports[0]!.mail.subject).to.equal('Assignment exceptions in Leadership');
    expect(reports[0]!.mail.text).to.contain('1 learner(s) could not be assigned');
    expect(reports[0]!.mail.text).to.contain('- Eve Early: not enough time before the due date');
    // A reminder message added later still skips her while the exception is open.
    await addMessage(p.id, { type: 'program_due', triggerOffset: 'P3D', subject: 'Reminder', body: 'Due soon' });
    await cronAt(site.db.now() + 7 * DAY + HOUR);
    expect(await mailTo(eve.email)).to.deep.equal([]);
  });

  it('an unassigned learner stops getting reminders, gets the unassigned message, and a re-assignment starts a new cycle', async () => {
    const p = await program({ fullname: 'Security Basics' });
    const uma = await learner({ fullname: 'Uma Unassigned', manager: false });
    const stay = await learner({ fullname: 'Sam Stays', manager: false });
    const audience = await audienceOf([uma.id, stay.id]);
    const due = site.db.now() + 30 * DAY;
    await addMessage(p.id, { type: 'program_due', triggerOffset: 'P1W', subject: 'A week left', body: '{{user_fullname}}, a week left' });
    await addMessage(p.id, { type: 'unassigned', subject: 'You left {{program_fullname}}', body: 'Bye' });
    await assignAudience(p.id, audience, due);
    expect((await mailTo(uma.email)).map((m) => m.mail.subject)).to.deep.equal(['You have been enrolled on Security Basics']);

    await site.services.audiences.removeMember(audience, uma.id);
    await site.jobs.drain();
    expect((await mailTo(uma.email)).map((m) => m.mail.subject)).to.deep.equal(['You have been enrolled on Security Basics', 'You left Security Basics']);

    sink.clear();
    await cronAt(due - 7 * DAY + 60_000);
    expect(await mailTo(uma.email)).to.deep.equal([]);
    expect((await mailTo(stay.email)).map((m) => m.mail.subject)).to.deep.equal(['A week left']);

    // Back in the audience: a new cycle, so the assigned message is sent again (once).
    setTime(site.db.now() + HOUR);
    await site.services.audiences.addMember(audience, uma.id);
    await site.jobs.drain();
    await site.jobs.enqueue('notify_program.scan');
    await site.jobs.drain();
    // The new cycle's week-before reminder passed an hour ago, inside the catch-up window: it comes too.
    expect((await mailTo(uma.email)).map((m) => m.mail.subject)).to.deep.equal(['You have been enrolled on Security Basics', 'A week left']);
  });

  it('adding a reminder to a live program sends only the reminders inside the catch-up window', async () => {
    const p = await program({ fullname: 'Live Program' });
    const long = await learner({ fullname: 'Long Past', manager: false });
    const recent = await learner({ fullname: 'Recent Past', manager: false });
    const ahead = await learner({ fullname: 'Still Ahead', manager: false });
    const now = site.db.now();
    // Ten-day reminders whose moments were 5 days ago, 2 hours ago, and are 2 days ahead.
    for (const [who, due] of [
      [long, now + 10 * DAY - 5 * DAY],
      [recent, now + 10 * DAY - 2 * HOUR],
      [ahead, now + 10 * DAY + 2 * DAY],
    ] as const) {
      await site.services.assignment.addRule(p.id, { source: 'individual', instanceId: who.id, due: { date: new Date(due).toISOString() } });
    }
    await site.jobs.drain();
    sink.clear();
    await addMessage(p.id, { type: 'program_due', triggerOffset: 'P10D', subject: 'Ten days left', body: 'x' });
    await cronAt(now + 10 * 60_000);
    expect((await mailAbout(p.id)).flatMap((m) => m.envelopeTo)).to.deep.equal([recent.email]);
    await cronAt(now + 2 * DAY + HOUR);
    expect((await mailAbout(p.id)).flatMap((m) => m.envelopeTo)).to.deep.equal([recent.email, ahead.email]);
  });

  it('prunes old delivery records nightly, never younger than 30 days, and nothing is sent twice afterwards', async () => {
    const p = await program({ fullname: 'Long Program' });
    const liv = await learner({ fullname: 'Liv Long', manager: false });
    const start = site.db.now();
    const due = start + 120 * DAY;
    await addMessage(p.id, { type: 'program_due', triggerOffset: 'P3D', subject: 'Three days left', body: 'x' });
    await assignAudience(p.id, await audienceOf([liv.id]), due);
    const records = () => site.db.knex('notify_program_deliveries').where({ program_id: p.id }).orderBy('id');
    expect((await records()).map((r: { state: string }) => r.state)).to.deep.equal(['sent']);
    const prune = async (at: number) => {
      setTime(at);
      await site.jobs.enqueue('notify_program.prune');
      await site.jobs.drain();
    };
    try {
      // Asked to keep a day: a record still lives 30 days.
      await site.plugins.setSettings('notify_program', { keepDeliveries: 'P1D' });
      await prune(start + 29 * DAY);
      expect(await records()).to.have.length(1);
      await prune(start + 31 * DAY);
      expect(await records(), 'the assigned record, 31 days old').to.deep.equal([]);

      // The scan after pruning sends the reminder once and does not resend the enrolment message.
      sink.clear();
      await cronAt(due - 3 * DAY + 10 * 60_000);
      await cronAt(due - 3 * DAY + 20 * 60_000);
      expect((await mailTo(liv.email)).map((m) => m.mail.subject)).to.deep.equal(['Three days left']);
      expect((await records()).map((r: { state: string }) => r.state)).to.deep.equal(['sent']);
    } finally {
      await site.plugins.setSettings('notify_program', {});
    }
  });

  it('a crash between sending and marking sent resends only that message, with the same Message-ID, and the inbox keeps one copy', async () => {
    const p = await program({ fullname: 'Crash Course' });
    const cy = await learner({ fullname: 'Cy Crash', manager: false });
    const dee = await learner({ fullname: 'Dee Done', manager: false });
    await assignAudience(p.id, await audienceOf([cy.id, dee.id]), null);
    const first = await mailTo(cy.email);
    expect(first).to.have.length(1);
    // The worker died after the SMTP server accepted Cy's message but before the row said so.
    const crashedAt = site.db.now();
    const rows = await site.db.knex('notify_program_deliveries').where({ program_id: p.id, recipient_id: cy.id });
    expect(rows.map((r: { state: string }) => r.state)).to.deep.equal(['sent']);
    await site.db.knex('notify_program_deliveries').where({ id: rows[0].id }).update({ state: 'sending', claimed_at: crashedAt, sent_at: null });

    await cronAt(crashedAt + 5 * 60_000);
    expect(await mailTo(cy.email), 'a claim younger than the stale limit is left alone').to.have.length(1);
    await cronAt(crashedAt + 20 * 60_000);
    const again = await mailTo(cy.email);
    expect(again).to.have.length(2);
    expect(again[1]!.mail.messageId).to.equal(first[0]!.mail.messageId);
    expect(await mailTo(dee.email)).to.have.length(1);
    expect((await api.get(`/users/${cy.id}/notifications`).expect(200)).body.items).to.have.length(1);
    expect((await site.db.knex('notify_program_deliveries').where({ id: rows[0].id }).first()).state).to.equal('sent');
  });

  it('re-checks eligibility at send time: a queued delivery is skipped for a learner suspended or completed since', async () => {
    const p = await program({ fullname: 'Late Check' });
    const sus = await learner({ fullname: 'Sue Suspended', manager: false });
    const fin = await learner({ fullname: 'Finn Finished', manager: false });
    const due = site.db.now() + 10 * DAY;
    await assignAudience(p.id, await audienceOf([sus.id, fin.id]), due);
    await addMessage(p.id, { type: 'program_due', triggerOffset: 'P3D', subject: 'Reminder', body: 'x' });
    sink.clear();
    await cronAt(due - 3 * DAY + 60_000);
    expect(await mailAbout(p.id)).to.have.length(2);
    // As if the send job had never run: the rows wait, and meanwhile one learner is suspended and the other completes.
    const ids = (
      await site.db
        .knex('notify_program_deliveries as d')
        .join('notify_program_messages as m', 'm.id', 'd.message_id')
        .where({ 'd.program_id': p.id, 'm.type': 'program_due' })
        .select('d.id')
    ).map((r: { id: number }) => r.id);
    expect(ids).to.have.length(2);
    await site.db
      .knex('notify_program_deliveries')
      .whereIn('id', ids)
      .update({ state: 'pending', sent_at: null, claimed_at: null, claimed_by: null, created_at: site.db.now() - HOUR });
    await site.services.users.update(sus.id, { suspended: true });
    await site.services.completion.recordCourseCompletion(p.courseId, fin.id);
    await site.jobs.drain();
    sink.clear();
    await cronAt(site.db.now() + 5 * 60_000);
    expect(await mailAbout(p.id)).to.deep.equal([]);
    const states = await site.db.knex('notify_program_deliveries').whereIn('id', ids).orderBy('recipient_id').select('recipient_id', 'state', 'skip_reason');
    expect(states).to.deep.equal([
      { recipient_id: sus.id, state: 'skipped', skip_reason: 'recipient_inactive' },
      { recipient_id: fin.id, state: 'skipped', skip_reason: 'completed' },
    ]);
  });

  it('rejects an unknown placeholder when the message is saved (422 naming it) and stores nothing', async () => {
    const p = await program();
    const before = (await api.get(`/notify_program/programs/${p.id}/messages`).expect(200)).body.items;
    expect(before.map((m: { type: string }) => m.type)).to.deep.equal([
      'assigned',
      'exception_report',
      'extension_request',
      'extension_decided',
      'recurring_course',
    ]);

    const res = await api.post(`/notify_program/programs/${p.id}/messages`, {
      type: 'assigned',
      subject: 'Hi {{user_fullname}}',
      body: 'Due {{due_dat}} for {{programme}}',
    });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('TEMPLATE_PLACEHOLDER_UNKNOWN');
    expect(res.body.error.message).to.contain('{{due_dat}}');
    expect(res.body.error.details.map((d: { message: string }) => d.message).join(' ')).to.contain('{{programme}}');
    expect(res.body.error.details[0]).to.include({ path: 'body', code: 'TEMPLATE_PLACEHOLDER_UNKNOWN' });

    for (const body of [
      '{{{program_fullname}}}',
      '{{#each x}}{{/each}}',
      '{{> partial}}',
      '{{lookup user_fullname "x"}}',
      '{{#if}}',
      '{{user.fullname}}',
      '{{@root.x}}',
    ]) {
      const bad = await api.post(`/notify_program/programs/${p.id}/messages`, { type: 'assigned', subject: 'x', body });
      expect(bad.status, body).to.equal(422);
      expect(bad.body.error.details).to.be.an('array').that.is.not.empty;
    }
    const unclosed = await api.post(`/notify_program/programs/${p.id}/messages`, { type: 'assigned', subject: '{{#if due_date}}x', body: 'y' });
    expect(unclosed.status).to.equal(422);
    expect(unclosed.body.error.code).to.equal('TEMPLATE_SYNTAX');
    const id = before[0].id as number;
    expect((await api.patch(`/notify_program/messages/${id}`, { managerBody: '{{boss_name}}' })).status).to.equal(422);
    expect((await api.post(`/notify_program/programs/${p.id}/messages`, { type: 'program_due', subject: 'x', body: 'y' })).body.error.code).to.equal(
      'TRIGGER_REQUIRED',
    );
    expect((await api.post(`/notify_program/programs/${p.id}/messages`, { type: 'assigned', subject: 'x', body: 'y', triggerOffset: 'P1D' })).status).to.equal(
      422,
    );
    expect((await api.get(`/notify_program/programs/${p.id}/messages`).expect(200)).body.items).to.deep.equal(before);
    expect((await api.post(`/notify_program/programs/999999/messages`, { type: 'assigned', subject: 'x', body: 'y' })).status).to.equal(404);
  });

  it('edits, previews for a learner and deletes messages through the API', async () => {
    const p = await program({ fullname: 'Preview Program' });
    const pia = await learner({ fullname: 'Pia <i>Preview</i>' });
    await assignAudience(p.id, await audienceOf([pia.id]), Date.parse('2027-12-24T12:00:00Z'));
    const [assigned] = (await api.get(`/notify_program/programs/${p.id}/messages`).expect(200)).body.items;
    const changed = await api.patch(`/notify_program/messages/${assigned.id}`, { subject: 'Welcome to {{program_fullname}}, {{user_fullname}}' }).expect(200);
    expect(changed.body.subject).to.equal('Welcome to {{program_fullname}}, {{user_fullname}}');
    const preview = await api.post(`/notify_program/messages/${assigned.id}/preview`, { userId: pia.id }).expect(200);
    expect(preview.body.learner.subject).to.equal('Welcome to Preview Program, Pia <i>Preview</i>');
    expect(preview.body.learner.text).to.contain('Please complete it by December 24, 2027');
    expect(preview.body.learner.html).to.contain('Pia &lt;i&gt;Preview&lt;/i&gt;');
    expect(preview.body.manager.text).to.contain('Hello Max Manager');
    expect((await api.post(`/notify_program/messages/${assigned.id}/preview`, { userId: 999999 })).status).to.equal(404);
    await request(app).delete(`/api/v1/notify_program/messages/${assigned.id}`).set('Authorization', `Bearer ${adminToken}`).expect(204);
    expect((await api.get(`/notify_program/messages/${assigned.id}`)).status).to.equal(404);
    // Deleting every message does not bring the defaults back.
    for (const other of (await api.get(`/notify_program/programs/${p.id}/messages`).expect(200)).body.items as Array<{ id: number }>) {
      await request(app).delete(`/api/v1/notify_program/messages/${other.id}`).set('Authorization', `Bearer ${adminToken}`).expect(204);
    }
    expect((await api.get(`/notify_program/programs/${p.id}/messages`).expect(200)).body.items).to.deep.equal([]);
  });

  it('pages the in-app inbox by keyset for the user or an admin, and only the owner marks one read', async () => {
    const p = await program();
    const ivy = await learner({ fullname: 'Ivy Inbox', manager: false });
    const other = await learner({ fullname: 'Otto Other', manager: false });
    for (const type of ['courseset_completed', 'program_completed'] as const)
      await addMessage(p.id, { type, subject: `${type} {{program_fullname}}`, body: 'Well done' });
    await assignAudience(p.id, await audienceOf([ivy.id]), null);
    await site.services.completion.recordCourseCompletion(p.courseId, ivy.id);
    await site.jobs.drain();
    const ivyToken = await createApiToken(site.db, ivy.id);
    const otherToken = await createApiToken(site.db, other.id);

    const all = (await api.get(`/users/${ivy.id}/notifications`, ivyToken).expect(200)).body.items as Array<{ id: number; type: string }>;
    expect(all.map((i) => i.type)).to.have.members(['assigned', 'courseset_completed', 'program_completed']);
    const first = await api.get(`/users/${ivy.id}/notifications?limit=2`, ivyToken).expect(200);
    expect(first.body.items).to.have.length(2);
    const second = await api.get(`/users/${ivy.id}/notifications?limit=2&cursor=${first.body.nextCursor}`, ivyToken).expect(200);
    expect(second.body.nextCursor).to.equal(null);
    expect([...first.body.items, ...second.body.items].map((i: { id: number }) => i.id)).to.deep.equal(all.map((i) => i.id));

    expect((await api.get(`/users/${ivy.id}/notifications`, otherToken)).status).to.equal(403);
    expect((await api.post(`/notifications/${all[0]!.id}/read`, {}, otherToken)).status).to.equal(403);
    expect((await api.post(`/notifications/${all[0]!.id}/read`, {}, adminToken)).status).to.equal(403);
    expect((await api.post(`/notifications/999999/read`, {}, ivyToken)).status).to.equal(404);
    expect((await api.get(`/users/999999/notifications`)).status).to.equal(404);
    const read = await api.post(`/notifications/${all[0]!.id}/read`, {}, ivyToken).expect(200);
    expect(read.body.readAt).to.be.a('string');
    expect((await api.get(`/users/${ivy.id}/notifications?unread=true`, ivyToken).expect(200)).body.items).to.have.length(2);
  });

  it('honours a user switching a channel off for a message type', async () => {
    const p = await program();
    const quinn = await learner({ fullname: 'Quinn Quiet', manager: false });
    const token = await createApiToken(site.db, quinn.id);
    const prefs = await request(app)
      .put(`/api/v1/notify_program/users/${quinn.id}/preferences`)
      .set('Authorization', `Bearer ${token}`)
      .send({ items: [{ type: 'assigned', channel: 'email', enabled: false }] })
      .expect(200);
    expect(prefs.body.items).to.deep.include({ type: 'assigned', channel: 'email', enabled: false });
    expect(prefs.body.items).to.deep.include({ type: 'assigned', channel: 'inapp', enabled: true });
    await assignAudience(p.id, await audienceOf([quinn.id]), null);
    expect(await mailTo(quinn.email)).to.deep.equal([]);
    expect((await api.get(`/users/${quinn.id}/notifications`, token).expect(200)).body.items).to.have.length(1);
  });

  it('shows the operator page (programs by name, CSRF forms, email status, preview) and the inbox with its unread count in the header', async () => {
    const p = await program({ fullname: 'Page <Program>' });
    const lou = await learner({ fullname: 'Lou <script>x</script>', manager: false });
    await assignAudience(p.id, await audienceOf([lou.id]), null);

    const admin = request.agent(app);
    const form = await admin.get('/login').set('Accept', 'text/html').expect(200);
    const csrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    await admin
      .post('/login')
      .type('form')
      .send({ username: 'np_admin', password: 'correct horse battery', _csrf: csrf(form.text), next: '/' })
      .expect(303);
    const list = await admin.get('/admin/notifications').set('Accept', 'text/html').expect(200);
    // The program is picked by name (no list of every program on the page).
    expect(list.text).to.contain('data-pick="/admin/pick/programs"');
    const picked = await admin.get('/admin/notifications').query({ program_q: 'Page <Program>' }).set('Accept', 'text/html').expect(200);
    expect(picked.text).to.contain('Messages of Page &lt;Program&gt;');
    expect(list.text).to.contain('Sent through smtp://mailer:****@127.0.0.1');
    const page = await admin.get(`/admin/notifications?program=${p.id}`).set('Accept', 'text/html').expect(200);
    expect(page.text).to.contain('Enrolment (assigned)');
    const bad = await admin
      .post(`/admin/notifications/programs/${p.id}/messages`)
      .type('form')
      .send({ _csrf: csrf(page.text), type: 'followup', triggerOffset: 'P1W', subject: 'Hi {{nobody}}', body: 'x' })
      .expect(422);
    expect(bad.text).to.contain('unknown placeholder {{nobody}}');
    await admin
      .post(`/admin/notifications/programs/${p.id}/messages`)
      .type('form')
      .send({ type: 'followup', triggerOffset: 'P1W', subject: 'Hi', body: 'x' })
      .expect(403);
    await admin
      .post(`/admin/notifications/programs/${p.id}/messages`)
      .type('form')
      .send({ _csrf: csrf(page.text), type: 'followup', triggerOffset: 'p1w', subject: 'How was {{program_fullname}}?', body: 'Tell us' })
      .expect(303);
    const messages = (await api.get(`/notify_program/programs/${p.id}/messages`).expect(200)).body.items as Array<{
      id: number;
      type: string;
      triggerOffset: string;
    }>;
    expect(messages.find((m) => m.type === 'followup')).to.include({ triggerOffset: 'P1W' });
    const edit = await admin.get(`/admin/notifications/messages/${messages[0]!.id}?preview=${lou.id}`).set('Accept', 'text/html').expect(200);
    expect(edit.text).to.contain('You have been enrolled on Page &lt;Program&gt;');
    expect(edit.text).to.contain('Lou &lt;script&gt;x&lt;/script&gt;');
    expect(edit.text).not.to.contain('<script>x');
    // The learner is picked by name; someone not assigned to the program is named, not previewed.
    const byName = await admin.get(`/admin/notifications/messages/${messages[0]!.id}`).query({ preview_q: 'Lou' }).set('Accept', 'text/html').expect(200);
    expect(byName.text).to.contain('You have been enrolled on Page &lt;Program&gt;');
    const notAssigned = await admin
      .get(`/admin/notifications/messages/${messages[0]!.id}`)
      .query({ preview_q: 'Max Manager' })
      .set('Accept', 'text/html')
      .expect(200);
    expect(notAssigned.text).to.contain('For learner: Max Manager is not assigned to this program');
    // The form shows the stored template exactly (a resubmitted form must not change it).
    expect(edit.text).to.contain(
      'aria-describedby="np-placeholders">Hello {{user_fullname}},\n\nYou have been enrolled on the program {{program_fullname}}.\n{{#if due_date}}',
    );

    const learnerAgent = request.agent(app);
    const login = await learnerAgent.get('/login').set('Accept', 'text/html').expect(200);
    await learnerAgent
      .post('/login')
      .type('form')
      .send({ username: `np_learner${lou.email.match(/\d+/)![0]}`, password: 'correct horse battery', _csrf: csrf(login.text), next: '/' })
      .expect(303);
    const home = await learnerAgent.get('/my/required-learning').set('Accept', 'text/html').expect(200);
    expect(home.text).to.match(/href="\/my\/notifications">Notifications <span class="badge badge-open">1<span class="sr-only"> unread/);
    const inbox = await learnerAgent.get('/my/notifications').set('Accept', 'text/html').expect(200);
    expect(inbox.text).to.contain('Hello Lou &lt;script&gt;x&lt;/script&gt;');
    await learnerAgent
      .post('/my/notifications/read-all')
      .type('form')
      .send({ _csrf: csrf(inbox.text) })
      .expect(303);
    const after = await learnerAgent.get('/my/required-learning').set('Accept', 'text/html').expect(200);
    expect(after.text).to.match(/href="\/my\/notifications">Notifications<\/a>/);
  });

  it('`waymark cron --now` at the moment three days before the due date sends the reminder, once', async function () {
    this.timeout(120_000);
    const p = await program({ fullname: 'Cron Program' });
    const cal = await learner({ fullname: 'Cal Cron', manager: false });
    const due = Math.ceil((site.db.now() + 40 * DAY) / DAY) * DAY + 12 * HOUR;
    await assignAudience(p.id, await audienceOf([cal.id]), due);
    await addMessage(p.id, { type: 'program_due', triggerOffset: 'P3D', subject: 'Three days: {{program_fullname}}', body: 'Due {{due_date}}' });
    sink.clear();
    const cron = (at: number): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve, reject) => {
        // Asynchronous: this process's SMTP server must keep answering while the CLI sends.
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts/cli.ts'), 'cron', '--now', new Date(at).toISOString()], {
          cwd: projectRoot,
          env: { ...process.env, DATABASE_URL: t.database.url, WAYMARK_PLUGINS_DIR: pluginsDir, LOG_LEVEL: 'error', LOG_FORMAT: 'json' },
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code, out }));
      });
    const before = await cron(due - 3 * DAY - HOUR);
    expect(before.code, before.out).to.equal(0);
    expect(await mailAbout(p.id)).to.deep.equal([]);
    const at = await cron(due - 3 * DAY + 5 * 60_000);
    expect(at.code, at.out).to.equal(0);
    expect(at.out).to.contain('notify_program.scan_every_5_minutes');
    const again = await cron(due - 3 * DAY + 10 * 60_000);
    expect(again.code, again.out).to.equal(0);
    const mails = await mailAbout(p.id);
    expect(mails.map((m) => [m.envelopeTo, m.mail.subject])).to.deep.equal([[[cal.email], 'Three days: Cron Program']]);
    setTime(due + DAY);
  });

  if (testDialect === 'mysql') {
    it('two workers (two site processes on one MariaDB) scanning and sending at once send each message once', async () => {
      const other = createSite({ config: { databaseUrl: t.database.url, pluginsDir, pluginPollMs: 50 }, logger: silentLogger() });
      await other.start();
      try {
        const p = await program({ fullname: 'Concurrent' });
        const people = [];
        for (let i = 0; i < 12; i++) people.push(await learner({ fullname: `Crowd ${i}`, manager: i % 2 === 0 }));
        const due = site.db.now() + 12 * DAY;
        await assignAudience(p.id, await audienceOf(people.map((x) => x.id)), due);
        await addMessage(p.id, { type: 'program_due', triggerOffset: 'P3D', subject: 'Soon', body: 'x', managerCopy: true });
        sink.clear();
        setTime(due - 3 * DAY + HOUR);
        for (let i = 0; i < 3; i++) {
          await site.jobs.enqueue('notify_program.scan');
          await other.jobs.enqueue('notify_program.scan');
        }
        await Promise.all([site.jobs.drain(), other.jobs.drain(), site.jobs.drain(), other.jobs.drain()]);
        const received = await mailAbout(p.id);
        expect(received).to.have.length(12 + 6);
        expect(new Set(received.map((m) => m.mail.messageId)).size).to.equal(18);
        expect(received.filter((m) => m.envelopeTo.includes('np_manager@example.com'))).to.have.length(6);
      } finally {
        await other.stop();
      }
    });
  }
});
