import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import type { Site } from '../../core/site';
import type { TestSite } from '../utils/site';
import { csrfFrom, signIn, type Scenario, startScenarioSite } from '../browser/scenario';
import { decodeHtml } from '../utils/forms';

const html = { Accept: 'text/html' };
type Agent = ReturnType<typeof request.agent>;

/** The names in the users table of a list page, in order. */
function listedNames(page: string): string[] {
  return [...page.matchAll(/<th scope="row"><a href="\/admin\/users\/\d+">([^<]*)<\/a><\/th>/g)].map((m) => decodeHtml(m[1]!));
}

describe('people pages: users, job assignments, positions and organisations, static members, bulk changes', () => {
  let t: TestSite;
  let site: Site;
  let s: Scenario;
  let app: express.Express;
  let admin: Agent;
  let learner: Agent;
  let csrf: string;

  before(async () => {
    ({ t, site, s, app, admin, learner } = await startScenarioSite('people-pages-secret-0123456789ab'));
    csrf = csrfFrom((await admin.get('/admin/users/new').set(html).expect(200)).text);
    // 60 people of a "Crew" so that the list pages.
    for (let i = 0; i < 60; i++) {
      const n = String(i).padStart(2, '0');
      await site.services.users.create({ username: `crew${n}`, email: `crew${n}@crew.example`, fullname: `Crew Member ${n}` });
    }
  });
  after(async () => t?.close());

  it('refuses the people pages to a learner', async () => {
    for (const url of ['/admin/users', '/admin/users/new', `/admin/users/${s.learnerId}`, '/admin/positions', '/admin/organisations'])
      await learner.get(url).set(html).expect(403);
    await learner
      .post('/admin/users/bulk')
      .type('form')
      .send({ _csrf: csrf, action: 'suspend', userIds: String(s.otherId) })
      .expect(403);
  });

  it('lists users by name with search by name or email, and pages by keyset', async () => {
    const first = await admin.get('/admin/users').set(html).expect(200);
    expect(first.text).to.contain('aria-current="page">Users</a>');
    expect(listedNames(first.text)).to.have.length(50);
    const next = /rel="next" href="([^"]+)"/.exec(first.text)![1]!;
    const second = await admin.get(decodeHtml(next)).set(html).expect(200);
    const all = [...listedNames(first.text), ...listedNames(second.text)];
    expect(all).to.have.length(63);
    expect(all).to.deep.equal([...all].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));

    const byName = await admin.get('/admin/users').query({ q: 'lena' }).set(html).expect(200);
    expect(listedNames(byName.text)).to.deep.equal(['Lena Learner']);
    const byEmail = await admin.get('/admin/users').query({ q: 'crew07@' }).set(html).expect(200);
    expect(listedNames(byEmail.text)).to.deep.equal(['Crew Member 07']);
    const newest = await admin.get('/admin/users').query({ q: 'crew', sort: '-id' }).set(html).expect(200);
    expect(listedNames(newest.text)[0]).to.equal('Crew Member 59');
  });

  it('filters users by an audience picked by name, and names the filter when a name matches nothing', async () => {
    const club = await site.services.audiences.create({ name: 'Book club' });
    await site.services.audiences.addMember(club.id, s.otherId);
    const filtered = await admin.get('/admin/users').query({ audience_q: 'book' }).set(html).expect(200);
    expect(listedNames(filtered.text)).to.deep.equal(['Otto Other']);
    expect(filtered.text).to.contain('name="audience_q" value="Book club"');
    const none = await admin.get('/admin/users').query({ audience_q: 'Chess' }).set(html).expect(200);
    expect(decodeHtml(none.text)).to.contain('Audience: no audience matches “Chess”');
  });

  it('creates a user with a profile field through the form, names a bad field, and edits and suspends', async () => {
    await site.services.profileFields.create({ shortname: 'dept', name: 'Department', type: 'text' });
    const bad = await admin
      .post('/admin/users/new')
      .type('form')
      .send({ _csrf: csrf, fullname: 'Nia New', username: 'nia', email: 'x', password: 'correct horse battery', profile_dept: 'Sales' })
      .expect(422);
    expect(decodeHtml(bad.text)).to.contain('Email: must NOT have fewer than 3 characters');
    expect(bad.text).to.contain('value="Nia New"').and.to.contain('value="Sales"');
    const created = await admin
      .post('/admin/users/new')
      .type('form')
      .send({ _csrf: csrf, fullname: 'Nia New', username: 'nia', email: 'nia@example.com', password: 'correct horse battery', profile_dept: 'Sales' })
      .expect(303);
    const id = Number(/\/admin\/users\/(\d+)/.exec(created.headers.location!)![1]);
    const user = await site.services.users.get(id);
    expect(user).to.include({ fullname: 'Nia New', email: 'nia@example.com', suspended: false });
    expect(await site.services.profileFields.valuesOf(id)).to.deep.equal({ dept: 'Sales' });

    const page = await admin.get(`/admin/users/${id}`).set(html).expect(200);
    expect(page.text).to.contain('value="Sales"').and.to.contain('Not assigned to any program.');
    await admin
      .post(`/admin/users/${id}`)
      .type('form')
      .send({ _csrf: csrf, fullname: 'Nia Newer', email: 'nia@example.com', suspended: '1', profile_dept: '' })
      .expect(303);
    expect(await site.services.users.get(id)).to.include({ fullname: 'Nia Newer', suspended: true });
    expect(await site.services.profileFields.valuesOf(id)).to.deep.equal({});
    // An operator cannot lock themselves out.
    const self = await admin
      .post(`/admin/users/${s.adminId}`)
      .type('form')
      .send({ _csrf: csrf, fullname: 'Olive Operator', email: 'operator@example.com', suspended: '1' })
      .expect(422);
    expect(self.text).to.contain('You cannot suspend your own account');
    // A new password of your own ends your other sessions, not this one.
    const other = request.agent(app);
    await signIn(other, 'operator');
    await admin
      .post(`/admin/users/${s.adminId}`)
      .type('form')
      .send({ _csrf: csrf, fullname: 'Olive Operator', email: 'operator@example.com', password: 'correct horse battery' })
      .expect(303);
    await admin.get('/admin/users').set(html).expect(200);
    expect((await other.get('/admin/users').set(html)).status).to.not.equal(200);
  });

  it("shows a user's audiences and assigned programs, linked to their progress", async () => {
    const page = await admin.get(`/admin/users/${s.otherId}`).set(html).expect(200);
    expect(page.text).to.contain('>Book club</a>');
    expect(page.text).to.contain(`href="/admin/programs/${s.onboardingId}/learners/${s.otherId}"`);
    // The header still names who is signed in, not the person shown.
    expect(page.text).to.contain('Signed in as </span>Olive Operator');
  });

  it('builds position and organisation trees by name, refuses a move under its own descendant, and lists holders', async () => {
    const root = await admin.post('/admin/organisations').type('form').send({ _csrf: csrf, name: 'Sales' }).expect(303);
    const salesId = Number(/(\d+)\?/.exec(root.headers.location!)![1]);
    const child = await admin.post('/admin/organisations').type('form').send({ _csrf: csrf, name: 'EMEA', parent_q: 'sales' }).expect(303);
    const emeaId = Number(/(\d+)\?/.exec(child.headers.location!)![1]);
    expect((await site.services.hierarchy.get('organisation', emeaId)).parentId).to.equal(salesId);

    const refused = await admin.post(`/admin/organisations/${salesId}`).type('form').send({ _csrf: csrf, action: 'move', parent_q: 'EMEA' }).expect(422);
    expect(decodeHtml(refused.text)).to.contain('“Sales” cannot be moved under “EMEA”: “EMEA” is inside “Sales”');
    expect((await site.services.hierarchy.get('organisation', salesId)).parentId).to.equal(null);

    await admin.post(`/admin/organisations/${emeaId}`).type('form').send({ _csrf: csrf, action: 'move', parent_q: '' }).expect(303);
    expect((await site.services.hierarchy.get('organisation', emeaId)).parentId).to.equal(null);
    await admin.post(`/admin/organisations/${emeaId}`).type('form').send({ _csrf: csrf, action: 'rename', name: 'Europe' }).expect(303);
    await admin.post(`/admin/organisations/${salesId}`).type('form').send({ _csrf: csrf, action: 'add-child', childName: 'Inside sales' }).expect(303);

    const top = await admin.get('/admin/organisations').set(html).expect(200);
    expect(top.text).to.contain('>Europe</a>').and.to.contain('>Sales</a>').and.not.to.contain('>Inside sales</a>');
    const below = await admin.get(`/admin/organisations/${salesId}`).set(html).expect(200);
    expect(below.text).to.contain('>Inside sales</a>');

    // A job in Europe, with the position and manager picked by name.
    await site.services.hierarchy.create('position', { name: 'Team lead' });
    const bossJob = await site.services.jobAssignments.create(s.adminId, {});
    await admin
      .post(`/admin/users/${s.otherId}/jobs`)
      .type('form')
      .send({ _csrf: csrf, new_position_q: 'team', new_organisation_q: 'Europe', new_manager_q: 'Olive' })
      .expect(303);
    const [job] = await site.services.jobAssignments.listForUser(s.otherId);
    expect(job).to.include({ organisationId: emeaId, managerJobAssignmentId: bossJob.id });
    const holders = await admin.get(`/admin/organisations/${emeaId}`).query({ show: 'holders' }).set(html).expect(200);
    expect(listedNames(holders.text)).to.deep.equal(['Otto Other']);
    const reports = await admin.get('/admin/users').query({ manager_q: 'Olive' }).set(html).expect(200);
    expect(listedNames(reports.text)).to.deep.equal(['Otto Other']);
    const userPage = await admin.get(`/admin/users/${s.otherId}`).set(html).expect(200);
    expect(userPage.text).to.contain('value="Team lead"').and.to.contain('value="Europe"');
    const none = await admin
      .post(`/admin/users/${s.otherId}/jobs/${job!.id}`)
      .type('form')
      .send({ _csrf: csrf, [`j${job!.id}_position_q`]: 'Nobody' })
      .expect(422);
    expect(decodeHtml(none.text)).to.contain('Position: no position matches “Nobody”');
  });

  it('adds and removes static audience members found by name, offering namesakes as choices', async () => {
    const crew = await site.services.audiences.create({ name: 'Crew picks' });
    const several = await admin.post(`/admin/audiences/${crew.id}/members`).type('form').send({ _csrf: csrf, member_q: 'crew member 1' }).expect(422);
    expect(decodeHtml(several.text)).to.contain('10 users match “crew member 1”: choose one');
    const id = Number(new RegExp('type="radio" name="member" value="(\\d+)"').exec(several.text)![1]);
    await admin
      .post(`/admin/audiences/${crew.id}/members`)
      .type('form')
      .send({ _csrf: csrf, member_q: 'crew member 1', member_was: 'crew member 1', member: String(id) })
      .expect(303);
    const added = await admin.post(`/admin/audiences/${crew.id}/members`).type('form').send({ _csrf: csrf, member_q: 'crew03@' }).expect(303);
    // Back on the page, the box is empty and focused for the next person.
    const again = await admin.get(added.headers.location!).set(html).expect(200);
    expect(again.text).to.match(/name="member_q" value="" [^>]*autofocus/);
    const page = await admin.get(`/admin/audiences/${crew.id}`).set(html).expect(200);
    expect(listedNames(page.text)).to.deep.equal(['Crew Member 03', 'Crew Member 10']);
    await admin
      .post(`/admin/audiences/${crew.id}/members`)
      .type('form')
      .send({ _csrf: csrf, remove: String(id) })
      .expect(303);
    expect(await site.services.audiences.isMember(crew.id, id)).to.equal(false);

    // Several at once, one per line: those found are added, the others are named.
    const pasted = await admin
      .post(`/admin/audiences/${crew.id}/members`)
      .type('form')
      .send({ _csrf: csrf, members: 'crew05@crew.example\r\nCrew Member 06\r\n\r\nNobody here\r\ncrew member' })
      .expect(422);
    const text = decodeHtml(pasted.text);
    expect(text).to.contain('2 of 4 added; these lines were not:');
    expect(text).to.contain('Line 3: no user matches “Nobody here”').and.to.contain('Line 4: More than 20 users match “crew member”');
    expect(pasted.text).to.contain('Nobody here');
    const page2 = await admin.get(`/admin/audiences/${crew.id}`).set(html).expect(200);
    expect(listedNames(page2.text)).to.deep.equal(['Crew Member 03', 'Crew Member 05', 'Crew Member 06']);
  });

  it('suspends ticked users at once, and every user matching a filter as a job with progress', async () => {
    const ticked = await site.db.knex('users').whereIn('username', ['crew00', 'crew01']).pluck('id');
    await admin
      .post('/admin/users/bulk')
      .type('form')
      .send({ _csrf: csrf, scope: 'selected', action: 'suspend', userIds: ticked.map(String) })
      .expect(303);
    expect(await site.db.knex('users').whereIn('id', ticked).where('suspended', true).count({ n: '*' })).to.deep.equal([{ n: 2 }]);

    // "All matching" covers every page of the filter, not only the visible one.
    const list = await admin.get('/admin/users').query({ q: 'crew' }).set(html).expect(200);
    expect(list.text).to.contain('All 60 users matching this filter');
    const filter = decodeHtml(/name="filter" value="([^"]*)"/.exec(list.text)![1]!);
    const started = await admin.post('/admin/users/bulk').type('form').send({ _csrf: csrf, scope: 'all', action: 'suspend', filter }).expect(303);
    expect(started.headers.location).to.match(/^\/admin\/jobs\/\d+$/);
    await site.jobs.drain();
    const job = await admin.get(started.headers.location!).set(html).expect(200);
    expect(job.text).to.contain('Done').and.to.contain('60 of 60');
    expect(await site.db.knex('users').where('username', 'like', 'crew%').where('suspended', false).count({ n: '*' })).to.deep.equal([{ n: 0 }]);
    await admin.post('/admin/users/bulk').type('form').send({ _csrf: csrf, scope: 'all', action: 'unsuspend', filter }).expect(303);
    await site.jobs.drain();
    expect(await site.db.knex('users').where('username', 'like', 'crew%').where('suspended', true).count({ n: '*' })).to.deep.equal([{ n: 0 }]);
  });

  it('assigns a program picked by name to every user matching a filter, as individual rules', async () => {
    const list = await admin.get('/admin/users').query({ q: 'crew member 2' }).set(html).expect(200);
    const filter = decodeHtml(/name="filter" value="([^"]*)"/.exec(list.text)![1]!);
    await site.services.programs.create({
      shortname: 'compliance2',
      fullname: 'Compliance refresher',
      courseSets: [{ courseIds: [s.courses.e], rule: 'all' }],
    });
    const ambiguous = await admin.post('/admin/assign-program').type('form').send({ _csrf: csrf, scope: 'all', filter, programId_q: 'compl' }).expect(422);
    expect(decodeHtml(ambiguous.text)).to.contain('Program to assign: 2 programs match “compl”: choose one');
    expect(ambiguous.text).to.contain('name="filter" value=');
    // An impossible due date is refused before anything is written, with the program kept.
    const badDate = await admin
      .post('/admin/assign-program')
      .type('form')
      .send({ _csrf: csrf, scope: 'all', filter, programId_q: 'compliance', dueDate: '2027-02-30' })
      .expect(422);
    expect(decodeHtml(badDate.text)).to.contain('Due date is not a calendar date: "2027-02-30"');
    expect(badDate.text).to.contain('name="programId_q" value="Compliance"');
    const started = await admin
      .post('/admin/assign-program')
      .type('form')
      .send({ _csrf: csrf, scope: 'all', filter, programId_q: 'compliance', dueDate: '2027-03-31' })
      .expect(303);
    expect(started.headers.location).to.match(/^\/admin\/jobs\/\d+$/);
    await site.jobs.drain();
    const rules = await site.services.assignment.listRules(s.complianceId);
    const crew = await site.db.knex('users').where('username', 'like', 'crew2%').pluck('id');
    const crewRules = rules.filter((r) => r.source === 'individual' && crew.includes(r.instance.instanceId as number));
    expect(crewRules).to.have.length(10);
    // The end of that day in the site's time zone (UTC here).
    expect(crewRules.every((r) => r.due !== null && 'date' in r.due && r.due.date === '2027-03-31T23:59:59.999Z')).to.equal(true);
    const assigned = await site.db.knex('program_user_assignments').where('program_id', s.complianceId).whereIn('user_id', crew).count({ n: '*' });
    expect(Number((assigned[0] as { n: number }).n)).to.equal(10);
  });

  it('resolves every open exception matching the filter, not only the visible page', async () => {
    const crewAudience = await site.services.audiences.create({ name: 'Whole crew' });
    for (const id of await site.db.knex('users').where('username', 'like', 'crew%').pluck('id')) await site.services.audiences.addMember(crewAudience.id, id);
    const { program } = await site.services.programs.create({
      shortname: 'late',
      fullname: 'Late starters',
      courseSets: [{ courseIds: [s.courses.e], rule: 'all' }],
    });
    await site.services.assignment.addRule(program.id, { source: 'audience', instanceId: crewAudience.id, due: { date: '2026-01-15T12:00:00.000Z' } });
    await site.jobs.drain();
    const page = await admin
      .get('/admin/exceptions')
      .query({ program: String(program.id) })
      .set(html)
      .expect(200);
    expect(page.text).to.contain('All 60 open exceptions matching this filter');
    expect([...page.text.matchAll(/name="exceptionIds"/g)]).to.have.length(50);
    // The program filter is picked by name too.
    const byName = await admin.get('/admin/exceptions').query({ program_q: 'late starters' }).set(html).expect(200);
    expect(byName.text).to.contain('All 60 open exceptions matching this filter').and.to.contain('name="program_q" value="Late starters"');
    const unknown = await admin.get('/admin/exceptions').query({ program_q: 'Nothing like it' }).set(html).expect(200);
    expect(decodeHtml(unknown.text)).to.contain('Program: no program matches “Nothing like it”');
    expect(unknown.text).not.to.contain('name="exceptionIds"');
    await admin
      .post('/admin/exceptions/resolve')
      .type('form')
      .send({ _csrf: csrf, scope: 'all', action: 'assign', filter: `program=${program.id}` })
      .expect(303);
    const open = await site.services.assignment.listExceptions({ status: 'open', programId: program.id });
    expect(open.items).to.have.length(0);
    const assigned = await site.db.knex('program_user_assignments').where('program_id', program.id).count({ n: '*' });
    expect(Number((assigned[0] as { n: number }).n)).to.equal(60);
  });

  it('runs a large "all matching" exception resolution as a job, and shows jobs to administrators only', async () => {
    // More than the 100 resolved during the request: two programs' worth of the crew, then all types.
    const crew = (await site.db.knex('audiences').where({ name: 'Whole crew' }).first()) as { id: number };
    for (const shortname of ['late2', 'late3']) {
      const { program } = await site.services.programs.create({
        shortname,
        fullname: `Late ${shortname}`,
        courseSets: [{ courseIds: [s.courses.e], rule: 'all' }],
      });
      await site.services.assignment.addRule(program.id, { source: 'audience', instanceId: crew.id, due: { date: '2026-01-15T12:00:00.000Z' } });
    }
    await site.jobs.drain();
    const page = await admin.get('/admin/exceptions').set(html).expect(200);
    const count = Number(/All (\d+) open exceptions matching this filter/.exec(page.text)![1]);
    expect(count).to.be.greaterThan(100);
    const started = await admin.post('/admin/exceptions/resolve').type('form').send({ _csrf: csrf, scope: 'all', action: 'dismiss', filter: '' }).expect(303);
    expect(started.headers.location).to.match(/^\/admin\/jobs\/\d+$/);
    await learner.get(started.headers.location!).set(html).expect(403);
    await site.jobs.drain();
    const job = await admin.get(started.headers.location!).set(html).expect(200);
    expect(job.text).to.contain('Done').and.to.contain(`${count} of ${count}`);
    expect((await site.services.assignment.listExceptions({ status: 'open' })).items).to.have.length(0);
    await admin.get('/admin/jobs/999999').set(html).expect(404);
  });
});
