import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { projectRoot } from '../../core/kernel/config';
import { PickError, pickerOf, resolvePick } from '../../core/kernel/pickers';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { seedScenario, signIn, type Scenario } from '../browser/scenario';

const json = { Accept: 'application/json' };

describe('pick by name (the pickers extension point, resolvePick and GET /admin/pick/:picker)', () => {
  let t: TestSite;
  let site: Site;
  let s: Scenario;
  let app: express.Express;
  let admin: ReturnType<typeof request.agent>;
  let learner: ReturnType<typeof request.agent>;
  const ids: Record<string, number> = {};

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'pickers-secret-0123456789abcdef' });
    site = t.site;
    s = await seedScenario(site);
    for (const name of ['Sales', 'Sales EMEA', 'Salt miners', 'Marketing']) ids[name] = (await site.services.audiences.create({ name })).id;
    app = createApp(site);
    admin = request.agent(app);
    learner = request.agent(app);
    await signIn(admin, 'operator');
    await signIn(learner, 'lena');
  });
  after(async () => t?.close());

  const audiences = () => pickerOf(site.extensions, 'audiences');

  it('resolves a unique match, an exact name among several, and a previous choice while its text stands', async () => {
    expect(await resolvePick(audiences(), { audience_q: 'mark' }, 'audience')).to.include({ id: ids.Marketing, label: 'Marketing' });
    // "Sales" also starts "Sales EMEA": the exact name wins.
    expect(await resolvePick(audiences(), { audience_q: 'sales' }, 'audience')).to.include({ id: ids.Sales });
    const chosen = { audience_q: 'Sal', audience: String(ids['Salt miners']), audience_was: 'Sal' };
    expect(await resolvePick(audiences(), chosen, 'audience')).to.include({ id: ids['Salt miners'] });
    // Typed over: the old id no longer counts, the new text is searched.
    expect(await resolvePick(audiences(), { ...chosen, audience_q: 'Marketing' }, 'audience')).to.include({ id: ids.Marketing });
    expect(await resolvePick(audiences(), { audience_q: '  ' }, 'audience')).to.equal(null);
  });

  it('names the field when nothing or several match, and offers the candidates', async () => {
    const none = await resolvePick(audiences(), { audience_q: 'Finance' }, 'audience', { label: 'Audience' }).catch((e: unknown) => e);
    expect(none).to.be.instanceOf(PickError);
    expect((none as PickError).message).to.equal('Audience: no audience matches “Finance”');
    expect((none as PickError).details[0]).to.include({ path: 'audience', code: 'PICK_NONE' });

    const several = (await resolvePick(audiences(), { audience_q: 'sal' }, 'audience').catch((e: unknown) => e)) as PickError;
    expect(several.message).to.equal('3 audiences match “sal”: choose one');
    expect(several.state.candidates.map((c) => c.label)).to.deep.equal(['Sales', 'Sales EMEA', 'Salt miners']);

    const required = (await resolvePick(audiences(), {}, 'audience', { required: true, label: 'Audience' }).catch((e: unknown) => e)) as PickError;
    expect(required.message).to.equal('Audience: choose an audience');
  });

  it('finds users by name, email or username, and a manager by name with their job', async () => {
    const users = pickerOf(site.extensions, 'users');
    const quinn = await site.services.users.create({ username: 'qq-ops', email: 'someone@example.org', fullname: 'Quinn Quay' });
    expect((await users.search('QQ-', 20)).map((u) => u.id)).to.deep.equal([quinn.id]);
    const byName = await users.search('lena', 20);
    expect(byName.map((u) => u.id)).to.include(s.learnerId);
    const byEmail = await users.search('lena@', 20);
    expect(byEmail.map((u) => u.id)).to.deep.equal([s.learnerId]);
    const labels = await users.labelsOf([s.learnerId]);
    expect(labels.get(s.learnerId)?.hint).to.equal('lena@example.com');

    const lead = await site.services.hierarchy.create('position', { name: 'Team lead' });
    const sales = await site.services.hierarchy.create('organisation', { name: 'Sales' });
    const emea = await site.services.hierarchy.create('organisation', { name: 'EMEA', parentId: sales.id });
    const job = await site.services.jobAssignments.create(s.adminId, { positionId: lead.id, organisationId: emea.id });
    const managers = await pickerOf(site.extensions, 'managers').search('olive', 20);
    expect(managers.find((m) => m.id === job.id)?.label).to.match(/ — Team lead, EMEA$/);
    expect((await pickerOf(site.extensions, 'organisations').search('em', 20))[0]).to.deep.equal({ id: emea.id, label: 'EMEA', hint: 'in Sales' });
  });

  it('answers the type-ahead with at most 20 names, for administrators only', async () => {
    const res = await admin.get('/admin/pick/audiences').query({ q: 'sa' }).set(json).expect(200);
    expect(res.body.items.map((i: { label: string }) => i.label)).to.deep.equal(['Sales', 'Sales EMEA', 'Salt miners']);
    expect(res.body.items[0]).to.have.keys(['id', 'label', 'hint']);
    expect((await admin.get('/admin/pick/audiences').set(json).expect(200)).body.items).to.deep.equal([]);
    await admin.get('/admin/pick/nothing_here').query({ q: 'a' }).set(json).expect(404);
    await learner.get('/admin/pick/users').query({ q: 'a' }).set(json).expect(403);
    await request(app)
      .get('/admin/pick/users')
      .query({ q: 'a' })
      .set(json)
      .expect((r) => expect([302, 401, 403]).to.include(r.status));
  });
});
