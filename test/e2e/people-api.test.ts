import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { verifyPassword } from '../../core/kernel/auth/passwords';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';

describe('people REST API', function () {
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let learnerToken: string;
  let learnerId: number;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

  before(async function () {
    t = await createTestSite();
    site = t.site;
    app = createApp(site);
    const root = await site.services.users.create({ username: 'root', email: 'root@example.com', fullname: 'Root', isAdmin: true });
    admin = await createApiToken(site.db, root.id);
    const learner = await site.services.users.create({ username: 'learner', email: 'learner@example.com', fullname: 'Learner' });
    learnerId = learner.id;
    learnerToken = await createApiToken(site.db, learner.id);
    await request(app)
      .post('/api/v1/profile-fields')
      .set(auth(admin))
      .send({ shortname: 'site', name: 'Site', type: 'menu', options: ['paris', 'lyon'] })
      .expect(201);
    await request(app).post('/api/v1/profile-fields').set(auth(admin)).send({ shortname: 'hired', name: 'Hired', type: 'date' }).expect(201);
  });

  after(async function () {
    await t?.close();
  });

  it('documents the people endpoints in the OpenAPI document', async function () {
    const res = await request(app).get('/api/v1/openapi.json').expect(200);
    const paths = Object.keys(res.body.paths as Record<string, unknown>);
    for (const p of [
      '/users',
      '/users/{id}',
      '/organisations',
      '/positions/{id}',
      '/users/{id}/job-assignments',
      '/job-assignments/{id}',
      '/audiences',
      '/audiences/{id}/members/{userId}',
    ]) {
      expect(paths, p).to.include(p);
    }
  });

  it('creates a user with profile values and never shows the password hash', async function () {
    const res = await request(app)
      .post('/api/v1/users')
      .set(auth(admin))
      .send({
        username: 'amelie',
        email: 'amelie@example.com',
        fullname: 'Amélie',
        password: 'correct horse',
        lang: 'fr',
        timezone: 'Europe/Paris',
        profile: { site: 'paris', hired: '2024-03-01' },
      })
      .expect(201);
    expect(res.body).to.include({ username: 'amelie', fullname: 'Amélie', lang: 'fr', timezone: 'Europe/Paris', suspended: false, firstLoginAt: null });
    expect(res.body.profile).to.deep.equal({ site: 'paris', hired: '2024-03-01T00:00:00.000Z' });
    expect(res.body.createdAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(res.body)).to.not.match(/password|scrypt/i);
    expect(await verifyPassword('correct horse', await site.services.users.passwordHash(res.body.id))).to.equal(true);

    const read = await request(app).get(`/api/v1/users/${res.body.id}`).set(auth(admin)).expect(200);
    expect(read.body).to.deep.equal(res.body);
  });

  it('rejects a taken username, an unknown profile field and malformed bodies, writing nothing', async function () {
    const taken = await request(app)
      .post('/api/v1/users')
      .set(auth(admin))
      .send({ username: 'learner', email: 'l2@example.com', fullname: 'Again' })
      .expect(409);
    expect(taken.body.error.code).to.equal('USERNAME_TAKEN');
    const unknown = await request(app)
      .post('/api/v1/users')
      .set(auth(admin))
      .send({ username: 'ghost', email: 'g@example.com', fullname: 'Ghost', profile: { shoe: '42' } })
      .expect(422);
    expect(unknown.body.error.code).to.equal('USER_PROFILE_FIELD_UNKNOWN');
    expect(unknown.body.error.details[0].path).to.equal('profile/shoe');
    expect(await site.services.users.findByUsername('ghost')).to.equal(null);
    const extra = await request(app)
      .post('/api/v1/users')
      .set(auth(admin))
      .send({ username: 'x', email: 'x@example.com', fullname: 'X', isAdmin: true })
      .expect(400);
    expect(extra.body.error.code).to.equal('VALIDATION_FAILED');
  });

  it('lets a learner read only their own record, and only admins create users', async function () {
    await request(app).get(`/api/v1/users/${learnerId}`).set(auth(learnerToken)).expect(200);
    const other = await request(app).get(`/api/v1/users/1`).set(auth(learnerToken)).expect(403);
    expect(other.body.error.code).to.equal('FORBIDDEN');
    await request(app).post('/api/v1/users').set(auth(learnerToken)).send({ username: 'sneaky', email: 's@example.com', fullname: 'S' }).expect(403);
    await request(app).get('/api/v1/users/999999').set(auth(admin)).expect(404);
  });

  it('patches profile, lang and suspended', async function () {
    const res = await request(app)
      .patch(`/api/v1/users/${learnerId}`)
      .set(auth(admin))
      .send({ lang: 'fr', profile: { site: 'lyon' }, suspended: false })
      .expect(200);
    expect(res.body).to.include({ lang: 'fr' });
    expect(res.body.profile).to.deep.equal({ site: 'lyon' });
    const bad = await request(app)
      .patch(`/api/v1/users/${learnerId}`)
      .set(auth(admin))
      .send({ profile: { site: 'rome' }, lang: 'de' })
      .expect(422);
    expect(bad.body.error.code).to.equal('USER_PROFILE_VALUE_INVALID');
    expect((await site.services.users.get(learnerId)).lang).to.equal('fr');
  });

  it('refuses an administrator suspending their own account, which stays usable', async function () {
    const self = await request(app).patch('/api/v1/users/me').set(auth(admin)).send({ suspended: true, lang: 'fr' }).expect(409);
    expect(self.body.error.code).to.equal('USER_SUSPEND_SELF');
    const me = await request(app).get('/api/v1/users/me').set(auth(admin)).expect(200);
    expect(me.body).to.include({ suspended: false });
    expect(me.body.lang).to.not.equal('fr');
  });

  it('builds organisation and position trees and reads a node with its children', async function () {
    const top = await request(app).post('/api/v1/organisations').set(auth(admin)).send({ name: 'Acme' }).expect(201);
    const child = await request(app).post('/api/v1/organisations').set(auth(admin)).send({ name: 'Acme France', parentId: top.body.id }).expect(201);
    expect(child.body).to.include({ parentId: top.body.id, depth: 2, path: `/${top.body.id}/${child.body.id}/` });
    const read = await request(app).get(`/api/v1/organisations/${top.body.id}`).set(auth(admin)).expect(200);
    expect(read.body.children).to.deep.equal([{ id: child.body.id, name: 'Acme France' }]);
    const missing = await request(app).post('/api/v1/positions').set(auth(admin)).send({ name: 'Orphan', parentId: 999999 }).expect(422);
    expect(missing.body.error.code).to.equal('POSITION_NOT_FOUND');
    expect(missing.body.error.details[0].path).to.equal('parentId');
    await request(app).get(`/api/v1/positions/${top.body.id}`).set(auth(admin)).expect(404);
  });

  it('manages job assignments: defaults, unknown ids by field, manager cycles', async function () {
    const position = await request(app).post('/api/v1/positions').set(auth(admin)).send({ name: 'Engineer' }).expect(201);
    const boss = await site.services.users.create({ username: 'boss', email: 'boss@example.com', fullname: 'Boss' });
    const bossJob = await request(app).post(`/api/v1/users/${boss.id}/job-assignments`).set(auth(admin)).send({}).expect(201);
    const job = await request(app)
      .post(`/api/v1/users/${learnerId}/job-assignments`)
      .set(auth(admin))
      .send({ positionId: position.body.id, managerJobAssignmentId: bossJob.body.id, startDate: '2025-01-06' })
      .expect(201);
    expect(job.body).to.include({
      userId: learnerId,
      positionId: position.body.id,
      managerJobAssignmentId: bossJob.body.id,
      managerUserId: boss.id,
      startDate: '2025-01-06T00:00:00.000Z',
    });
    expect(Date.parse(job.body.positionAssignedDate)).to.be.closeTo(Date.now(), 60_000);

    const unknown = await request(app).post(`/api/v1/users/${learnerId}/job-assignments`).set(auth(admin)).send({ positionId: 999999 }).expect(422);
    expect(unknown.body.error.code).to.equal('POSITION_NOT_FOUND');
    expect(unknown.body.error.details[0].path).to.equal('positionId');
    const badDate = await request(app).post(`/api/v1/users/${learnerId}/job-assignments`).set(auth(admin)).send({ startDate: 'someday' }).expect(422);
    expect(badDate.body.error.code).to.equal('DATE_INVALID');

    const cycle = await request(app)
      .patch(`/api/v1/job-assignments/${bossJob.body.id}`)
      .set(auth(admin))
      .send({ managerJobAssignmentId: job.body.id })
      .expect(422);
    expect(cycle.body.error.code).to.equal('MANAGER_CYCLE');

    const list = await request(app).get(`/api/v1/users/${learnerId}/job-assignments`).set(auth(learnerToken)).expect(200);
    expect(list.body.jobAssignments.map((j: { id: number }) => j.id)).to.deep.equal([job.body.id]);

    await request(app).delete(`/api/v1/job-assignments/${bossJob.body.id}`).set(auth(admin)).expect(204);
    const after = await request(app).get(`/api/v1/job-assignments/${job.body.id}`).set(auth(admin)).expect(200);
    expect(after.body).to.include({ managerJobAssignmentId: null, managerUserId: null });
    await request(app).delete(`/api/v1/job-assignments/${bossJob.body.id}`).set(auth(admin)).expect(404);
  });

  it('manages static audience membership idempotently and refuses it on dynamic audiences', async function () {
    const audience = await request(app).post('/api/v1/audiences').set(auth(admin)).send({ name: 'Team ABC' }).expect(201);
    expect(audience.body).to.include({ type: 'static' });
    const first = await request(app).put(`/api/v1/audiences/${audience.body.id}/members/${learnerId}`).set(auth(admin)).expect(200);
    expect(first.body).to.include({ member: true, changed: true });
    const again = await request(app).put(`/api/v1/audiences/${audience.body.id}/members/${learnerId}`).set(auth(admin)).expect(200);
    expect(again.body).to.include({ member: true, changed: false });
    const members = await request(app).get(`/api/v1/audiences/${audience.body.id}/members`).set(auth(admin)).expect(200);
    expect(members.body.items).to.have.length(1);
    expect(members.body.nextCursor).to.equal(null);
    expect(members.body.items[0]).to.include({ userId: learnerId, username: 'learner', source: 'manual' });
    const found = await request(app).get(`/api/v1/audiences/${audience.body.id}/members?q=LEARN&sort=fullname`).set(auth(admin)).expect(200);
    expect(found.body.items.map((m: { userId: number }) => m.userId)).to.deep.equal([learnerId]);
    const none = await request(app).get(`/api/v1/audiences/${audience.body.id}/members?q=zzz`).set(auth(admin)).expect(200);
    expect(none.body.items).to.deep.equal([]);

    const dynamic = await request(app)
      .post('/api/v1/audiences')
      .set(auth(admin))
      .send({
        name: 'Lyon in ABC',
        rules: [
          { type: 'profile_field', field: 'site', value: 'lyon' },
          { type: 'audience', audienceId: audience.body.id },
        ],
      })
      .expect(201);
    expect(dynamic.body.type).to.equal('dynamic');
    const dynMembers = await request(app).get(`/api/v1/audiences/${dynamic.body.id}/members`).set(auth(admin)).expect(200);
    expect(dynMembers.body.items.map((m: { userId: number }) => m.userId)).to.deep.equal([learnerId]);
    const refused = await request(app).put(`/api/v1/audiences/${dynamic.body.id}/members/${learnerId}`).set(auth(admin)).expect(409);
    expect(refused.body.error.code).to.equal('AUDIENCE_DYNAMIC');
    await request(app).delete(`/api/v1/audiences/${dynamic.body.id}/members/${learnerId}`).set(auth(admin)).expect(409);

    // Leaving the static audience takes the learner out of the dynamic one that depends on it.
    await request(app).delete(`/api/v1/audiences/${audience.body.id}/members/${learnerId}`).set(auth(admin)).expect(200);
    const emptied = await request(app).get(`/api/v1/audiences/${dynamic.body.id}/members`).set(auth(admin)).expect(200);
    expect(emptied.body.items).to.deep.equal([]);

    const badRule = await request(app)
      .post('/api/v1/audiences')
      .set(auth(admin))
      .send({ name: 'Bad', rules: [{ type: 'organisation', organisationId: 999999 }] })
      .expect(422);
    expect(badRule.body.error.code).to.equal('ORGANISATION_NOT_FOUND');
  });
});
