/**
 * Due-date extension requests (DOMAIN 9, issue 15 item 3) through the REST API and the pages, with
 * notify_program's extension messages caught by a real SMTP server, on the database under test.
 * Time is the database clock: Date is faked (nothing else) and moved forward explicitly.
 */
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
import { SmtpSink, type ReceivedMail } from '../utils/smtp-sink';
import { PASSWORD, csrfFrom, signIn } from '../browser/scenario';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const html = { Accept: 'text/html' };
const PLUGINS = ['notify_program', 'assign_individual', 'enrol_program'];

interface RequestView {
  id: number;
  status: string;
  requestedDueAt: string;
  reason: string;
  decision: { by: { id: number; fullname: string } | null; approvedDueAt: string | null; reason: string | null } | null;
}

describe(`extension requests (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let sink: SmtpSink;
  let clock: sinon.SinonFakeTimers;
  let pluginsDir: string;
  let admin: string;
  const env = { url: process.env.SMTP_URL, from: process.env.SMTP_FROM };
  const T0 = Date.parse('2027-05-03T09:00:00Z');

  const api = (token: string) => ({
    get: (p: string) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
    post: (p: string, body: object) => request(app).post(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send(body),
  });
  const mailTo = async (email: string): Promise<ReceivedMail[]> => (await sink.messages()).filter((m) => m.envelopeTo.includes(email));
  const cronAt = async (ms: number): Promise<void> => {
    clock.setSystemTime(ms);
    await site.jobs.runDueSchedules(new Date(ms));
    await site.jobs.drain();
  };
  /** The end of the day `ms` falls on, in the site zone (UTC here): what a date alone means. */
  const endOfDay = (ms: number): number => Math.floor(ms / DAY) * DAY + DAY - 1;
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

  interface Person {
    id: number;
    email: string;
    username: string;
    token: string;
    agent: ReturnType<typeof request.agent>;
    job: number;
  }
  let seq = 0;
  async function person(fullname: string, managerJob?: number): Promise<Person> {
    const username = `ext${++seq}`;
    const email = `${username}@example.com`;
    const { id } = await site.services.users.create({ username, email, fullname, password: PASSWORD });
    const job = (await site.services.jobAssignments.create(id, managerJob === undefined ? {} : { managerJobAssignmentId: managerJob })).id;
    const agent = request.agent(app);
    await signIn(agent, username);
    return { id, email, username, token: await createApiToken(site.db, id), agent, job };
  }

  let mia: Person; // manages Leo directly, and Kit through Leo
  let leo: Person;
  let kit: Person;
  let oz: Person; // manages Ola: another team
  let nina: Person; // no manager
  let programId: number;
  let due: number;

  before(async () => {
    sink = new SmtpSink();
    process.env.SMTP_URL = await sink.start();
    process.env.SMTP_FROM = 'Waymark <noreply@waymark.test>';
    clock = sinon.useFakeTimers({ now: T0, toFake: ['Date'] });
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-extension-plugins-'));
    for (const id of PLUGINS) fs.symlinkSync(path.join(projectRoot, 'plugins', id), path.join(pluginsDir, id), 'dir');
    t = await createTestSite({ pluginsDir, sessionSecret: 'extension-test-secret-0123456789' });
    site = t.site;
    app = createApp(site);
    const { id: adminId } = await site.services.users.create({ username: 'ext_admin', email: 'ext_admin@example.com', fullname: 'Ada Admin', isAdmin: true });
    admin = await createApiToken(site.db, adminId);

    mia = await person('Mia Manager');
    leo = await person('Leo Learner', mia.job);
    kit = await person('Kit Junior', leo.job);
    oz = await person('Oz Other');
    await person('Ola Other', oz.job);
    nina = await person('Nina Nomanager');

    const course = await site.services.courses.create({ shortname: 'ext_c', fullname: 'Safety basics' });
    const created = await api(admin).post('/programs', {
      shortname: 'ext_p',
      fullname: 'Site Safety',
      allowExtensionRequests: true,
      courseSets: [{ label: 'Basics', courseIds: [course.id], rule: 'all' }],
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.allowExtensionRequests).to.equal(true);
    programId = created.body.id;
    due = T0 + 20 * DAY;
    for (const who of [leo, kit, nina]) {
      await site.services.assignment.addRule(programId, { source: 'individual', instanceId: who.id, due: { date: new Date(due).toISOString() } });
    }
    await site.jobs.drain();
    const overdue = await api(admin).post(`/notify_program/programs/${programId}/messages`, {
      type: 'program_overdue',
      triggerOffset: 'P1D',
      subject: '{{program_fullname}} is overdue',
      body: 'It was due on {{due_date}}.',
    });
    expect(overdue.status, JSON.stringify(overdue.body)).to.equal(201);
    sink.clear();
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

  const dueOf = async (userId: number): Promise<string | null> => (await api(admin).get(`/programs/${programId}/learners/${userId}`).expect(200)).body.dueAt;
  const count = async () => Number((await site.db.knex('program_extension_requests').count({ n: '*' }))[0]!.n);

  it('refuses what cannot be asked, and stores nothing: a date not after the due date, no manager, a program that does not take requests', async () => {
    const early = await api(leo.token).post(`/programs/${programId}/extension-requests`, { dueAt: day(due - 2 * DAY), reason: 'Busy' });
    expect(early.status).to.equal(422);
    expect(early.body.error.code).to.equal('EXTENSION_DATE_NOT_LATER');
    expect(early.body.error.details[0].path).to.equal('dueAt');
    const impossible = await api(leo.token).post(`/programs/${programId}/extension-requests`, { dueAt: '2027-02-30', reason: 'Busy' });
    expect(impossible.status).to.equal(422);

    const alone = await api(nina.token).post(`/programs/${programId}/extension-requests`, { dueAt: day(due + 5 * DAY), reason: 'Busy' });
    expect(alone.status).to.equal(409);
    expect(alone.body.error.code).to.equal('NO_MANAGER');
    const page = (await nina.agent.get(`/programs/${programId}/extension`).set(html).expect(200)).text;
    expect(page).to.contain('You have no manager to decide on a request');

    const other = await site.services.programs.create({
      shortname: 'ext_closed',
      fullname: 'Closed',
      courseSets: [{ courseIds: [(await site.services.courses.create({ shortname: 'ext_c2', fullname: 'Other' })).id], rule: 'all' }],
    });
    const closed = await api(leo.token).post(`/programs/${other.program.id}/extension-requests`, { dueAt: day(due + 5 * DAY), reason: 'Busy' });
    expect(closed.status).to.equal(409);
    expect(closed.body.error.code).to.equal('EXTENSIONS_NOT_ALLOWED');
    expect(await count()).to.equal(0);
  });

  it("a request reaches the learner's manager; only that team's managers decide; an approval moves the due date and the overdue message follows it", async () => {
    const programPage = (await leo.agent.get(`/programs/${programId}`).set(html).expect(200)).text;
    expect(programPage).to.contain(`href="/programs/${programId}/extension"`);

    const asked = await api(leo.token).post(`/programs/${programId}/extension-requests`, { dueAt: day(due + 14 * DAY), reason: 'Night shifts until June' });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(201);
    const req = asked.body as RequestView;
    expect(req).to.include({ status: 'pending', reason: 'Night shifts until June', requestedDueAt: new Date(endOfDay(due + 14 * DAY)).toISOString() });
    await site.jobs.drain();
    const toMia = await mailTo(mia.email);
    expect(toMia.map((m) => m.mail.subject)).to.deep.equal(['Leo Learner asks for more time in Site Safety']);
    expect(toMia[0]!.mail.text).to.contain('Night shifts until June');
    expect(await mailTo(leo.email)).to.deep.equal([]);

    const again = await api(leo.token).post(`/programs/${programId}/extension-requests`, { dueAt: day(due + 30 * DAY), reason: 'More' });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('REQUEST_PENDING');

    // Not Oz (another team), not Leo himself; Kit's requests would be Leo's and Mia's to decide.
    const byOz = await api(oz.token).post(`/extension-requests/${req.id}/decision`, { decision: 'approve' });
    expect(byOz.status).to.equal(403);
    expect((await api(oz.token).get(`/users/${leo.id}/extension-requests`)).status).to.equal(403);
    expect((await api(oz.token).get(`/extension-requests/${req.id}`)).status).to.equal(403);
    expect((await api(leo.token).post(`/extension-requests/${req.id}/decision`, { decision: 'approve' })).status).to.equal(403);
    expect(await dueOf(leo.id)).to.equal(new Date(due).toISOString());

    // Mia's page lists it; she approves a week less than asked, through the form.
    const team = (await mia.agent.get('/my/team/extension-requests').set(html).expect(200)).text;
    expect(team).to.contain('Leo Learner').and.to.contain('Night shifts until June');
    expect((await oz.agent.get('/my/team/extension-requests').set(html).expect(200)).text).to.not.contain('Leo Learner');
    const approved = await mia.agent
      .post(`/extension-requests/${req.id}/decide`)
      .type('form')
      .send({ _csrf: csrfFrom(team), decision: 'approve', dueAt: day(due + 7 * DAY), reason: 'A week is what we can do' });
    expect(approved.status, approved.text).to.equal(303);
    await site.jobs.drain();
    const newDue = endOfDay(due + 7 * DAY);
    expect(await dueOf(leo.id)).to.equal(new Date(newDue).toISOString());
    const decided = (await mailTo(leo.email)).map((m) => m.mail);
    expect(decided.map((m) => m.subject)).to.deep.equal(['Your extension request in Site Safety was approved']);
    expect(decided[0]!.text).to.contain('Your due date is now').and.to.contain('A week is what we can do');

    // A second decision is refused; the history says who decided what.
    expect((await api(mia.token).post(`/extension-requests/${req.id}/decision`, { decision: 'decline', reason: 'No' })).status).to.equal(409);
    const history = (await api(leo.token).get(`/users/${leo.id}/extension-requests`).expect(200)).body.items as RequestView[];
    expect(history).to.have.length(1);
    expect(history[0]!.decision).to.deep.include({ by: { id: mia.id, fullname: 'Mia Manager' }, approvedDueAt: new Date(newDue).toISOString() });

    // Overdue counts from the new date: nothing a day after the old one, the message a day after the new one.
    sink.clear();
    await cronAt(due + DAY + HOUR);
    expect(await mailTo(leo.email), 'a day after the old due date').to.deep.equal([]);
    expect((await mailTo(kit.email)).map((m) => m.mail.subject)).to.deep.equal(['Site Safety is overdue']);
    await cronAt(newDue + DAY + HOUR);
    expect((await mailTo(leo.email)).map((m) => m.mail.subject)).to.deep.equal(['Site Safety is overdue']);
  });

  it('a decline needs a reason, which the learner gets; a manager higher up decides for the whole team', async () => {
    const asked = await api(kit.token).post(`/programs/${programId}/extension-requests`, { dueAt: day(clock.now + 40 * DAY), reason: 'Exams' });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(201);
    await site.jobs.drain();
    // Kit reports to Leo, who reports to Mia: both hear of it, both may decide.
    expect((await mailTo(leo.email)).map((m) => m.mail.subject)).to.include('Kit Junior asks for more time in Site Safety');
    const teamOfMia = (await api(mia.token).get(`/users/${mia.id}/team/extension-requests?status=pending`).expect(200)).body.items as RequestView[];
    expect(teamOfMia.map((r) => r.id)).to.deep.equal([asked.body.id]);

    const bare = await api(mia.token).post(`/extension-requests/${asked.body.id}/decision`, { decision: 'decline' });
    expect(bare.status).to.equal(422);
    expect(bare.body.error.code).to.equal('REASON_REQUIRED');
    sink.clear();
    const declined = await api(mia.token).post(`/extension-requests/${asked.body.id}/decision`, {
      decision: 'decline',
      reason: 'Exams end before the due date',
    });
    expect(declined.status, JSON.stringify(declined.body)).to.equal(200);
    expect(declined.body.decision).to.deep.include({ approvedDueAt: null, reason: 'Exams end before the due date' });
    await site.jobs.drain();
    const mail = (await mailTo(kit.email)).map((m) => m.mail);
    expect(mail.map((m) => m.subject)).to.deep.equal(['Your extension request in Site Safety was declined']);
    expect(mail[0]!.text).to.contain('Exams end before the due date');

    // Weeks have passed on the site clock: sign in afresh.
    const agent = request.agent(app);
    await signIn(agent, kit.username);
    const page = (await agent.get(`/programs/${programId}/extension`).set(html).expect(200)).text;
    expect(page).to.contain('Declined').and.to.contain('Mia Manager').and.to.contain('Exams end before the due date');
  });
});
