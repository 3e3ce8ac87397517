import { expect } from 'chai';
import type { Site } from '../../core/site';
import { WaymarkError } from '../../core/kernel/errors';
import type { AssignmentChange } from '../../core/index';
import type { PeopleServices } from '../../core/modules/people/index';
import { createTestSite, type TestSite } from '../utils/site';

/** Runs `work` and returns the WaymarkError it throws (failing the test when it does not). */
async function rejection(work: () => Promise<unknown>): Promise<WaymarkError> {
  try {
    await work();
  } catch (error) {
    expect(error).to.be.instanceOf(WaymarkError);
    return error as WaymarkError;
  }
  throw new Error('expected an error');
}

describe('people services (integration)', function () {
  let t: TestSite;
  let site: Site;
  let people: PeopleServices;
  let changes: AssignmentChange[] = [];
  let seq = 0;
  const uname = (base: string) => `${base}${++seq}`;
  const newUser = (base: string, extra: Partial<Parameters<PeopleServices['users']['create']>[0]> = {}) =>
    people.users.create({ username: uname(base), email: `${base}@example.com`, fullname: base, ...extra });
  const ids = async (query: PromiseLike<unknown>) =>
    ((await query) as Array<Record<string, unknown>>).map((r) => Number(Object.values(r)[0])).sort((a, b) => a - b);

  before(async function () {
    t = await createTestSite();
    site = t.site;
    people = site.services;
    site.hooks.add('test', 'onAssignmentChange', ({ change }) => {
      changes.push(change);
    });
  });

  after(async function () {
    await t?.close();
  });

  beforeEach(() => {
    changes = [];
  });

  describe('users and profile fields', function () {
    before(async function () {
      await people.profileFields.create({ shortname: 'dept', name: 'Department', type: 'text' });
      await people.profileFields.create({ shortname: 'region', name: 'Region', type: 'menu', options: ['north', 'south'] });
      await people.profileFields.create({ shortname: 'hired', name: 'Hire date', type: 'date' });
      await people.profileFields.create({ shortname: 'mentor', name: 'Is a mentor', type: 'checkbox' });
    });

    it('stores and returns each profile field type with its own value type', async function () {
      const user = await newUser('typed', { profile: { dept: 'Sales', region: 'north', hired: '2024-03-01', mentor: true } });
      expect(await people.profileFields.valuesOf(user.id)).to.deep.equal({
        dept: 'Sales',
        region: 'north',
        hired: Date.UTC(2024, 2, 1),
        mentor: true,
      });
      const created = changes.filter((c) => c.userId === user.id);
      expect(created[0]).to.deep.include({ type: 'user', field: 'created', old: null });
      expect(created.filter((c) => c.type === 'profile_field')).to.have.length(4);
    });

    it('refuses an unknown field or a bad value and creates nothing', async function () {
      const username = uname('bad');
      const unknown = await rejection(() => people.users.create({ username, email: 'b@example.com', fullname: 'B', profile: { nosuch: 'x' } }));
      expect(unknown.code).to.equal('USER_PROFILE_FIELD_UNKNOWN');
      expect(unknown.status).to.equal(422);
      expect(unknown.details[0]!.path).to.equal('profile/nosuch');
      const badMenu = await rejection(() => people.users.create({ username, email: 'b@example.com', fullname: 'B', profile: { region: 'east' } }));
      expect(badMenu.code).to.equal('USER_PROFILE_VALUE_INVALID');
      const badDate = await rejection(() => people.users.create({ username, email: 'b@example.com', fullname: 'B', profile: { hired: 'soon' } }));
      expect(badDate.code).to.equal('USER_PROFILE_VALUE_INVALID');
      expect(await people.users.findByUsername(username)).to.equal(null);
      expect(changes).to.deep.equal([]);
    });

    it('refuses a duplicate username with USERNAME_TAKEN', async function () {
      const user = await newUser('dup');
      const error = await rejection(() => people.users.create({ username: user.username, email: 'x@example.com', fullname: 'Other' }));
      expect(error.code).to.equal('USERNAME_TAKEN');
      expect(error.status).to.equal(409);
    });

    it('reports profile and user changes with old and new values, and only real changes', async function () {
      const user = await newUser('patch', { profile: { dept: 'Sales' } });
      changes = [];
      await people.users.update(user.id, { profile: { dept: 'Support', mentor: false }, suspended: true, lang: 'fr' });
      expect(changes).to.deep.include.members([
        { type: 'profile_field', userId: user.id, field: 'dept', old: 'Sales', new: 'Support' },
        { type: 'profile_field', userId: user.id, field: 'mentor', old: null, new: false },
        { type: 'user', userId: user.id, field: 'suspended', old: false, new: true },
        { type: 'user', userId: user.id, field: 'lang', old: 'en', new: 'fr' },
      ]);
      changes = [];
      await people.users.update(user.id, { profile: { dept: 'Support' }, suspended: true });
      expect(changes).to.deep.equal([]);
      await people.users.update(user.id, { profile: { dept: null } });
      expect(changes).to.deep.equal([{ type: 'profile_field', userId: user.id, field: 'dept', old: 'Support', new: null }]);
      expect(await people.profileFields.valuesOf(user.id)).to.not.have.property('dept');
      const reread = await people.users.get(user.id);
      expect(reread).to.include({ suspended: true, lang: 'fr' });
    });

    it('records the first login once', async function () {
      const user = await newUser('login');
      const first = await people.users.recordLogin(user.id);
      expect(first.firstLoginAt).to.be.a('number');
      const again = await people.users.recordLogin(user.id);
      expect(again.firstLoginAt).to.equal(first.firstLoginAt);
      expect(changes.filter((c) => c.type === 'user' && c.field === 'first_login')).to.have.length(1);
    });
  });

  describe('hierarchy', function () {
    it('answers "this node and all below" with one query, also after a move', async function () {
      const root = await people.hierarchy.createPosition({ name: 'CEO' });
      const sales = await people.hierarchy.createPosition({ name: 'Sales', parentId: root.id });
      const rep = await people.hierarchy.createPosition({ name: 'Rep', parentId: sales.id });
      const junior = await people.hierarchy.createPosition({ name: 'Junior rep', parentId: rep.id });
      const ops = await people.hierarchy.createPosition({ name: 'Ops', parentId: root.id });
      const otherTree = await people.hierarchy.createOrganisation({ name: 'Org root' });

      expect(await ids(people.hierarchy.descendantsQuery('position', sales.id, true))).to.deep.equal([sales.id, rep.id, junior.id]);
      expect(await ids(people.hierarchy.descendantsQuery('position', sales.id, false))).to.deep.equal([rep.id, junior.id]);
      expect(await ids(people.hierarchy.descendantsQuery('position', root.id, true)))
        .to.include.members([root.id, ops.id, junior.id])
        .and.not.include(otherTree.id);

      await people.hierarchy.move('position', rep.id, ops.id);
      expect(await ids(people.hierarchy.descendantsQuery('position', sales.id, true))).to.deep.equal([sales.id]);
      expect(await ids(people.hierarchy.descendantsQuery('position', ops.id, false))).to.deep.equal([rep.id, junior.id]);
      const moved = await people.hierarchy.get('position', junior.id);
      expect(moved.path).to.equal(`/${root.id}/${ops.id}/${rep.id}/${junior.id}/`);
      expect(moved.depth).to.equal(4);
      const top = await people.hierarchy.move('position', rep.id, null);
      expect(top).to.include({ parentId: null, depth: 1, path: `/${rep.id}/` });
      expect((await people.hierarchy.get('position', junior.id)).depth).to.equal(2);
    });

    it('refuses a move below itself and an unknown parent, changing nothing', async function () {
      const a = await people.hierarchy.createOrganisation({ name: 'A' });
      const b = await people.hierarchy.createOrganisation({ name: 'B', parentId: a.id });
      const cycle = await rejection(() => people.hierarchy.move('organisation', a.id, b.id));
      expect(cycle.code).to.equal('HIERARCHY_CYCLE');
      expect(cycle.status).to.equal(422);
      const missing = await rejection(() => people.hierarchy.createOrganisation({ name: 'C', parentId: 999999 }));
      expect(missing.code).to.equal('ORGANISATION_NOT_FOUND');
      expect(missing.details[0]!.path).to.equal('parentId');
      // A position id is not an organisation.
      const pos = await people.hierarchy.createPosition({ name: 'P' });
      expect((await rejection(() => people.hierarchy.createOrganisation({ name: 'D', parentId: pos.id }))).code).to.equal('ORGANISATION_NOT_FOUND');
      expect((await people.hierarchy.get('organisation', a.id)).path).to.equal(`/${a.id}/`);
    });
  });

  describe('job assignments', function () {
    it('validates referenced ids by field and defaults the position assigned date', async function () {
      const user = await newUser('ja');
      const unknown = await rejection(() => people.jobAssignments.create(user.id, { positionId: 999999 }));
      expect(unknown).to.include({ code: 'POSITION_NOT_FOUND', status: 422 });
      expect(unknown.details[0]!.path).to.equal('positionId');
      const badManager = await rejection(() => people.jobAssignments.create(user.id, { managerJobAssignmentId: 999999 }));
      expect(badManager.code).to.equal('MANAGER_JOB_ASSIGNMENT_NOT_FOUND');
      expect(await people.jobAssignments.listForUser(user.id)).to.deep.equal([]);

      const position = await people.hierarchy.createPosition({ name: 'Analyst' });
      const before = Date.now();
      changes = [];
      const job = await people.jobAssignments.create(user.id, { positionId: position.id, startDate: Date.UTC(2025, 0, 6) });
      expect(job.positionAssignedDate).to.be.at.least(before);
      expect(job.startDate).to.equal(Date.UTC(2025, 0, 6));
      expect(changes).to.deep.equal([
        {
          type: 'job_assignment',
          userId: user.id,
          jobAssignmentId: job.id,
          old: null,
          new: {
            positionId: position.id,
            organisationId: null,
            managerJobAssignmentId: null,
            startDate: Date.UTC(2025, 0, 6),
            positionAssignedDate: job.positionAssignedDate,
          },
        },
      ]);

      changes = [];
      const other = await people.hierarchy.createPosition({ name: 'Lead' });
      const updated = await people.jobAssignments.update(job.id, { positionId: other.id, positionAssignedDate: Date.UTC(2025, 5, 1) });
      expect(updated.positionAssignedDate).to.equal(Date.UTC(2025, 5, 1));
      expect(changes).to.have.length(1);
      expect(changes[0]).to.deep.include({
        old: {
          positionId: position.id,
          organisationId: null,
          managerJobAssignmentId: null,
          startDate: Date.UTC(2025, 0, 6),
          positionAssignedDate: job.positionAssignedDate,
        },
        new: {
          positionId: other.id,
          organisationId: null,
          managerJobAssignmentId: null,
          startDate: Date.UTC(2025, 0, 6),
          positionAssignedDate: Date.UTC(2025, 5, 1),
        },
      });
    });

    it('keeps "direct team" and "all below" right when a middle manager changes manager', async function () {
      // boss <- middle <- lead <- worker ; other boss alone
      const [boss, middle, lead, worker, boss2] = await Promise.all(['boss', 'middle', 'lead', 'worker', 'bosstwo'].map((n) => newUser(n)));
      const jBoss = await people.jobAssignments.create(boss!.id, {});
      const jBoss2 = await people.jobAssignments.create(boss2!.id, {});
      const jMiddle = await people.jobAssignments.create(middle!.id, { managerJobAssignmentId: jBoss.id });
      const jLead = await people.jobAssignments.create(lead!.id, { managerJobAssignmentId: jMiddle.id });
      const jWorker = await people.jobAssignments.create(worker!.id, { managerJobAssignmentId: jLead.id });
      expect(jWorker.managerUserId).to.equal(lead!.id);

      expect(await ids(people.jobAssignments.teamQuery(jBoss.id, false))).to.deep.equal([middle!.id]);
      expect(await ids(people.jobAssignments.teamQuery(jBoss.id, true))).to.deep.equal([middle!.id, lead!.id, worker!.id].sort((a, b) => a - b));
      expect(await ids(people.jobAssignments.teamQuery(jLead.id, true))).to.deep.equal([worker!.id]);

      changes = [];
      await people.jobAssignments.update(jMiddle.id, { managerJobAssignmentId: jBoss2.id });
      expect(await ids(people.jobAssignments.teamQuery(jBoss.id, true))).to.deep.equal([]);
      expect(await ids(people.jobAssignments.teamQuery(jBoss2.id, false))).to.deep.equal([middle!.id]);
      expect(await ids(people.jobAssignments.teamQuery(jBoss2.id, true))).to.deep.equal([middle!.id, lead!.id, worker!.id].sort((a, b) => a - b));
      expect((await people.jobAssignments.get(jWorker.id)).managerPath).to.equal(`/${jBoss2.id}/${jMiddle.id}/${jLead.id}/${jWorker.id}/`);
      // The middle manager's own change, plus a notice for each person whose chain moved with them.
      expect(changes.map((c) => c.type === 'job_assignment' && c.jobAssignmentId)).to.have.members([jMiddle.id, jLead.id, jWorker.id]);
      expect(changes.find((c) => c.type === 'job_assignment' && c.jobAssignmentId === jMiddle.id)).to.deep.include({
        old: { positionId: null, organisationId: null, managerJobAssignmentId: jBoss.id, startDate: null, positionAssignedDate: null },
        new: { positionId: null, organisationId: null, managerJobAssignmentId: jBoss2.id, startDate: null, positionAssignedDate: null },
      });

      const cycle = await rejection(() => people.jobAssignments.update(jMiddle.id, { managerJobAssignmentId: jWorker.id }));
      expect(cycle).to.include({ code: 'MANAGER_CYCLE', status: 422 });
      expect((await people.jobAssignments.get(jMiddle.id)).managerJobAssignmentId).to.equal(jBoss2.id);

      // Removing the middle manager leaves the lead at the top of their own chain.
      await people.jobAssignments.remove(jMiddle.id);
      expect(await ids(people.jobAssignments.teamQuery(jBoss2.id, true))).to.deep.equal([]);
      expect(await ids(people.jobAssignments.teamQuery(jLead.id, true))).to.deep.equal([worker!.id]);
      expect(await people.jobAssignments.get(jLead.id)).to.include({ managerJobAssignmentId: null, managerUserId: null, managerPath: `/${jLead.id}/` });
    });
  });

  describe('audiences', function () {
    it('adds and removes static members idempotently, firing one event per real change', async function () {
      const audience = await people.audiences.create({ name: 'Static crew' });
      const user = await newUser('member');
      changes = [];
      expect(await people.audiences.addMember(audience.id, user.id)).to.equal(true);
      expect(await people.audiences.addMember(audience.id, user.id)).to.equal(false);
      expect(await ids(people.audiences.membersQuery(audience.id))).to.deep.equal([user.id]);
      expect(changes).to.deep.equal([{ type: 'audience_membership', userId: user.id, audienceId: audience.id, member: true }]);
      changes = [];
      expect(await people.audiences.removeMember(audience.id, user.id)).to.equal(true);
      expect(await people.audiences.removeMember(audience.id, user.id)).to.equal(false);
      expect(changes).to.deep.equal([{ type: 'audience_membership', userId: user.id, audienceId: audience.id, member: false }]);
      expect((await rejection(() => people.audiences.addMember(audience.id, 999999))).code).to.equal('USER_NOT_FOUND');
    });

    it('keeps dynamic membership current as profiles, positions and other audiences change', async function () {
      await people.profileFields.create({ shortname: 'site', name: 'Site', type: 'menu', options: ['paris', 'lyon'] });
      const region = await people.hierarchy.createPosition({ name: 'Region manager' });
      const branch = await people.hierarchy.createPosition({ name: 'Branch manager', parentId: region.id });
      const vip = await people.audiences.create({ name: 'VIP' });
      const early = await newUser('early', { profile: { site: 'paris' } });
      const earlyJob = await people.jobAssignments.create(early.id, { positionId: branch.id });

      const parisManagers = await people.audiences.create({
        name: 'Paris managers',
        rules: [
          { type: 'profile_field', field: 'site', value: 'paris' },
          { type: 'position', positionId: region.id, includeChildren: true },
        ],
      });
      const frenchVips = await people.audiences.create({
        name: 'French VIPs',
        rules: [
          { type: 'user_field', field: 'lang', value: 'fr' },
          { type: 'audience', audienceId: vip.id },
        ],
      });
      expect(parisManagers.type).to.equal('dynamic');
      // Existing users are members at once.
      expect(await ids(people.audiences.membersQuery(parisManagers.id))).to.deep.equal([early.id]);

      const late = await newUser('late', { profile: { site: 'lyon' } });
      const job = await people.jobAssignments.create(late.id, { positionId: branch.id });
      expect(await people.audiences.isMember(parisManagers.id, late.id)).to.equal(false);
      changes = [];
      await people.users.update(late.id, { profile: { site: 'paris' } });
      expect(await people.audiences.isMember(parisManagers.id, late.id)).to.equal(true);
      expect(changes).to.deep.include({ type: 'audience_membership', userId: late.id, audienceId: parisManagers.id, member: true });

      changes = [];
      await people.jobAssignments.update(job.id, { positionId: null });
      expect(await people.audiences.isMember(parisManagers.id, late.id)).to.equal(false);
      expect(changes).to.deep.include({ type: 'audience_membership', userId: late.id, audienceId: parisManagers.id, member: false });

      // Moving the branch position out of the region tree drops everyone holding it, and tells
      // assignment sources about each job assignment whose "position and below" answer moved.
      changes = [];
      await people.hierarchy.move('position', branch.id, null);
      expect(await people.audiences.isMember(parisManagers.id, early.id)).to.equal(false);
      const snapshot = {
        positionId: branch.id,
        organisationId: null,
        managerJobAssignmentId: null,
        startDate: null,
        positionAssignedDate: earlyJob.positionAssignedDate,
      };
      expect(changes).to.deep.include({ type: 'job_assignment', userId: early.id, jobAssignmentId: earlyJob.id, old: snapshot, new: snapshot });
      expect(changes).to.deep.include({ type: 'audience_membership', userId: early.id, audienceId: parisManagers.id, member: false });
      await people.hierarchy.move('position', branch.id, region.id);
      expect(await people.audiences.isMember(parisManagers.id, early.id)).to.equal(true);

      // Membership of another audience cascades in the same transaction.
      await people.users.update(late.id, { lang: 'fr' });
      expect(await people.audiences.isMember(frenchVips.id, late.id)).to.equal(false);
      changes = [];
      await people.audiences.addMember(vip.id, late.id);
      expect(await people.audiences.isMember(frenchVips.id, late.id)).to.equal(true);
      expect(changes).to.deep.equal([
        { type: 'audience_membership', userId: late.id, audienceId: vip.id, member: true },
        { type: 'audience_membership', userId: late.id, audienceId: frenchVips.id, member: true },
      ]);

      const manual = await rejection(() => people.audiences.addMember(parisManagers.id, late.id));
      expect(manual).to.include({ code: 'AUDIENCE_DYNAMIC', status: 409 });
    });

    it('adds learners who complete a course to a "completed course" audience in the completing transaction', async function () {
      const course = await site.services.courses.create({ shortname: uname('CA'), fullname: 'Course A' });
      const abc = await people.audiences.create({ name: 'ABC', rules: [{ type: 'course_completed', courseId: course.id }] });
      const learner = await newUser('completer');
      expect(await people.audiences.isMember(abc.id, learner.id)).to.equal(false);
      let memberInsideTrx = false;
      const untap = site.hooks.add(
        'test-observer',
        'onAssignmentChange',
        async ({ change }, trx) => {
          if (change.type === 'audience_membership' && change.audienceId === abc.id) {
            memberInsideTrx = !!(await trx('audience_members').where({ audience_id: abc.id, user_id: learner.id }).first('id'));
          }
        },
        { priority: 1 },
      );
      try {
        changes = [];
        await site.services.completion.recordCourseCompletion(course.id, learner.id);
      } finally {
        untap();
      }
      expect(await people.audiences.isMember(abc.id, learner.id)).to.equal(true);
      expect(memberInsideTrx).to.equal(true);
      expect(changes).to.deep.include({ type: 'audience_membership', userId: learner.id, audienceId: abc.id, member: true });
      expect((await rejection(() => people.audiences.create({ name: 'Nope', rules: [{ type: 'course_completed', courseId: 999999 }] }))).code).to.equal(
        'COURSE_NOT_FOUND',
      );
    });

    it('refuses rules that name unknown things', async function () {
      const error = await rejection(() => people.audiences.create({ name: 'Broken', rules: [{ type: 'position', positionId: 999999 }] }));
      expect(error).to.include({ code: 'POSITION_NOT_FOUND', status: 422 });
      expect(error.details[0]!.path).to.equal('rules/0/positionId');
      expect(
        (await rejection(() => people.audiences.create({ name: 'Broken', rules: [{ type: 'profile_field', field: 'nosuch', value: 'x' }] }))).code,
      ).to.equal('USER_PROFILE_FIELD_UNKNOWN');
      expect((await rejection(() => people.audiences.create({ name: 'Empty', rules: [] }))).code).to.equal('AUDIENCE_RULES_EMPTY');
    });
  });

  describe('onAssignmentChange and transactions', function () {
    it('runs handlers inside the writing transaction, so a rollback undoes what they wrote', async function () {
      const user = await newUser('trx');
      let sawNewValueInTrx = false;
      const untap = site.hooks.add('test-writer', 'onAssignmentChange', async ({ change }, trx) => {
        if (change.type !== 'user' || change.userId !== user.id) return;
        const row = (await trx('users').where({ id: user.id }).first('suspended')) as { suspended: number | boolean };
        sawNewValueInTrx = Boolean(Number(row.suspended));
        await trx('site_config').insert({ name: `seen-${user.id}`, value: String(change.new), updated_at: Date.now() });
      });
      try {
        const boom = new Error('later step failed');
        let caught: unknown;
        try {
          await site.db.transaction(async (trx) => {
            await people.users.update(user.id, { suspended: true }, trx);
            throw boom;
          });
        } catch (error) {
          caught = error;
        }
        expect(caught).to.equal(boom);
        expect(sawNewValueInTrx).to.equal(true);
        expect(
          await site.db
            .knex('site_config')
            .where({ name: `seen-${user.id}` })
            .first(),
        ).to.equal(undefined);
        expect((await people.users.get(user.id)).suspended).to.equal(false);

        await people.users.update(user.id, { suspended: true });
        expect(
          await site.db
            .knex('site_config')
            .where({ name: `seen-${user.id}` })
            .first(),
        ).to.deep.include({ value: 'true' });
      } finally {
        untap();
      }
    });
  });
});
