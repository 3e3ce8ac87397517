import path from 'node:path';
import { expect } from 'chai';
import { Ajv } from 'ajv';
import { addFormKeywords } from '../../core/kernel/http/schema-form';
import type { Knex } from 'knex';
import { projectRoot } from '../../core/kernel/config';
import type { AssignmentSource, RuleInstance, SourceContext, SourceRule } from '../../core/modules/assignment/types';
import type { AssignmentChange } from '../../core/index';
import type { Site } from '../../core/site';
import type { User } from '../../core/modules/people/types';
import { createTestSite, type TestSite } from '../utils/site';

/**
 * The five shipped assignment sources and the third-party example, loaded through the plugin
 * manager from the real plugins/ folder, on a small site: two trees with children, a management
 * chain two deep, a static and a dynamic audience, profile values.
 */
describe('assignment source plugins', function () {
  let test: TestSite;
  let site: Site;
  let ctx: SourceContext;
  const ids: Record<string, number> = {};
  const users: Record<string, User> = {};

  const source = (type: string): AssignmentSource => {
    const found = site.extensions.get('assignmentSources', type);
    if (!found) throw new Error(`no assignment source "${type}" is registered`);
    return found.value;
  };

  const names = (userIds: number[]): string[] => userIds.map((id) => Object.values(users).find((u) => u.id === id)?.username ?? `#${id}`).sort();

  /** The member set, read both on its own and as a subquery inside another query (as the core uses it). */
  async function members(type: string, instance: RuleInstance): Promise<string[]> {
    const rows = (await source(type).members(instance, ctx)) as Array<{ user_id: number | string }>;
    expect(
      rows.every((r) => Object.keys(r).length === 1 && 'user_id' in r),
      'one column named user_id',
    ).to.equal(true);
    // A source may list a user once per matching row (the core de-duplicates, see AssignmentSource.members).
    const direct = [...new Set(names(rows.map((r) => Number(r.user_id))))];
    const nested = (await site.db
      .knex('users')
      .whereIn('id', source(type).members(instance, ctx) as Knex.QueryBuilder)
      .select('id')) as Array<{ id: number }>;
    expect(names(nested.map((r) => Number(r.id)))).to.deep.equal(direct);
    return direct;
  }

  /** Rule ids the source reports affected by the real change events `action` fires, per user, computed inside the writing transaction. */
  async function affected(type: string, rules: Array<SourceRule>, action: () => Promise<unknown>): Promise<Record<string, number[]>> {
    const hits: Record<string, Set<number>> = {};
    const errors: unknown[] = [];
    const off = site.hooks.add('test_probe', 'onAssignmentChange', async ({ change }: { change: AssignmentChange }, trx: Knex.Transaction) => {
      try {
        const found = await source(type).affectedRules(change, rules, { db: trx });
        const who = names([change.userId])[0];
        hits[who] ??= new Set();
        for (const id of found) hits[who].add(id);
      } catch (error) {
        errors.push(error);
      }
    });
    try {
      await action();
    } finally {
      off();
    }
    if (errors.length) throw errors[0];
    return Object.fromEntries(Object.entries(hits).map(([who, set]) => [who, [...set].sort((a, b) => a - b)]));
  }

  const rule = (id: number, instance: RuleInstance): SourceRule => ({ id, programId: 1, instance });

  async function user(username: string, fullname: string, profile?: Record<string, string>): Promise<User> {
    users[username] = await site.services.users.create({ username, fullname, email: `${username}@example.invalid`, profile });
    return users[username];
  }

  before(async function () {
    this.timeout(60_000);
    test = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins') });
    site = test.site;
    ctx = { db: site.db.knex };
    const s = site.services;

    ids.department = (
      await s.profileFields.create({ shortname: 'department', name: 'Department', type: 'menu', options: ['Sales', 'Support', 'Engineering'] })
    ).id;
    ids.nickname = (await s.profileFields.create({ shortname: 'nickname', name: 'Nickname', type: 'text' })).id;
    ids.birthday = (await s.profileFields.create({ shortname: 'birthday', name: 'Birthday', type: 'date' })).id;

    ids.analyst = (await s.hierarchy.createPosition({ name: 'Analyst' })).id;
    ids.senior = (await s.hierarchy.createPosition({ name: 'Senior Analyst', parentId: ids.analyst })).id;
    ids.lead = (await s.hierarchy.createPosition({ name: 'Lead Analyst', parentId: ids.senior })).id;
    ids.managerPos = (await s.hierarchy.createPosition({ name: 'Manager' })).id;
    ids.sales = (await s.hierarchy.createOrganisation({ name: 'Sales' })).id;
    ids.emea = (await s.hierarchy.createOrganisation({ name: 'Sales EMEA', parentId: ids.sales })).id;
    ids.support = (await s.hierarchy.createOrganisation({ name: 'Support' })).id;

    await user('jane', 'Jane Smith', { department: 'Sales' });
    await user('mark', 'Mark Brown');
    await user('alice', 'Alice Green', { department: 'Sales', nickname: 'Al' });
    await user('bob', 'Bob White', { department: 'Support' });
    await user('carol', 'Carol Black', { department: 'Engineering' });
    await user('dave', 'Dave Jones', { nickname: 'D' });

    const job = s.jobAssignments;
    ids.jJane = (await job.create(users.jane.id, { positionId: ids.managerPos, organisationId: ids.sales })).id;
    ids.jMark = (await job.create(users.mark.id, { positionId: ids.senior, organisationId: ids.emea, managerJobAssignmentId: ids.jJane })).id;
    ids.jAlice = (await job.create(users.alice.id, { positionId: ids.analyst, organisationId: ids.emea, managerJobAssignmentId: ids.jMark })).id;
    ids.jBob = (await job.create(users.bob.id, { positionId: ids.lead, organisationId: ids.support, managerJobAssignmentId: ids.jMark })).id;
    ids.jCarol = (await job.create(users.carol.id, { positionId: ids.analyst, organisationId: ids.sales, managerJobAssignmentId: ids.jJane })).id;
    // Carol's second job sits in the subtree too: she must still be listed once.
    ids.jCarol2 = (await job.create(users.carol.id, { positionId: ids.senior })).id;

    ids.supportAnalysts = (await s.audiences.create({ name: 'Support Analysts' })).id;
    await s.audiences.addMember(ids.supportAnalysts, users.alice.id);
    await s.audiences.addMember(ids.supportAnalysts, users.dave.id);
    ids.supportDept = (await s.audiences.create({ name: 'Support department', rules: [{ type: 'profile_field', field: 'department', value: 'Support' }] })).id;
    ids.empty = (await s.audiences.create({ name: 'Nobody yet' })).id;
  });

  after(async () => {
    await test?.close();
  });

  it('registers all six sources through the plugin manager', () => {
    const registered = site.extensions
      .list('assignmentSources')
      .map((c) => `${c.key}:${c.plugin}`)
      .sort();
    expect(registered).to.include.members([
      'audience:assign_audience',
      'individual:assign_individual',
      'manager:assign_manager',
      'organisation:assign_organisation',
      'position:assign_position',
      'profile:assign_profile',
    ]);
  });

  it('declares instance schemas that Ajv compiles strictly and that reject unknown properties', () => {
    // Strict, knowing only the form annotations (title, x-picker ...) that generated forms read.
    const ajv = new Ajv({ strict: true, allErrors: true });
    addFormKeywords(ajv);
    const cases: Array<[string, object, object]> = [
      ['individual', { instanceId: 1 }, { instanceId: 1, includeChildren: true }],
      ['audience', { instanceId: 1 }, { instanceId: '1' }],
      ['position', { instanceId: 1, includeChildren: true }, { instanceId: 1, includeChildren: 'yes' }],
      ['organisation', { instanceId: 1, includeChildren: false }, { instanceId: 1, depth: 2 }],
      ['manager', { instanceId: 1, includeChildren: true }, { includeChildren: true }],
      ['profile', { instanceId: 1, values: ['Sales', 'Support'], operator: 'in' }, { instanceId: 1, values: [] }],
    ];
    for (const [type, good, bad] of cases) {
      const validate = ajv.compile(source(type).instanceSchema);
      expect(validate(good), `${type} accepts ${JSON.stringify(good)}`).to.equal(true);
      expect(validate(bad), `${type} rejects ${JSON.stringify(bad)}`).to.equal(false);
    }
  });

  describe('members', () => {
    it('individual: exactly the named user', async () => {
      expect(await members('individual', { instanceId: users.dave.id })).to.deep.equal(['dave']);
    });

    it('audience: the members of a static audience, of a dynamic one, and of an empty one', async () => {
      expect(await members('audience', { instanceId: ids.supportAnalysts })).to.deep.equal(['alice', 'dave']);
      expect(await members('audience', { instanceId: ids.supportDept })).to.deep.equal(['bob']);
      expect(await members('audience', { instanceId: ids.empty })).to.deep.equal([]);
    });

    it('position: holders of the position, or of it and every position below', async () => {
      expect(await members('position', { instanceId: ids.analyst })).to.deep.equal(['alice', 'carol']);
      expect(await members('position', { instanceId: ids.analyst, includeChildren: true })).to.deep.equal(['alice', 'bob', 'carol', 'mark']);
      expect(await members('position', { instanceId: ids.senior, includeChildren: true })).to.deep.equal(['bob', 'carol', 'mark']);
      expect(await members('position', { instanceId: ids.lead, includeChildren: true })).to.deep.equal(['bob']);
    });

    it('organisation: members of the organisation, or of it and every organisation below', async () => {
      expect(await members('organisation', { instanceId: ids.sales })).to.deep.equal(['carol', 'jane']);
      expect(await members('organisation', { instanceId: ids.sales, includeChildren: true })).to.deep.equal(['alice', 'carol', 'jane', 'mark']);
      expect(await members('organisation', { instanceId: ids.support, includeChildren: true })).to.deep.equal(['bob']);
    });

    it('manager: the direct team, or everyone below through a chain two deep', async () => {
      expect(await members('manager', { instanceId: ids.jJane })).to.deep.equal(['carol', 'mark']);
      expect(await members('manager', { instanceId: ids.jJane, includeChildren: true })).to.deep.equal(['alice', 'bob', 'carol', 'mark']);
      expect(await members('manager', { instanceId: ids.jMark, includeChildren: true })).to.deep.equal(['alice', 'bob']);
      expect(await members('manager', { instanceId: ids.jAlice, includeChildren: true })).to.deep.equal([]);
    });

    it('profile: users whose field is one of the values, and nobody for a value nobody has', async () => {
      expect(await members('profile', { instanceId: ids.department, values: ['Sales', 'Support'] })).to.deep.equal(['alice', 'bob', 'jane']);
      expect(await members('profile', { instanceId: ids.department, values: ['Engineering'], operator: 'equals' })).to.deep.equal(['carol']);
      expect(await members('profile', { instanceId: ids.nickname, values: ['Nobody'] })).to.deep.equal([]);
    });
  });

  describe('describe', () => {
    it('names each instance the way an operator reads it', async () => {
      const text = (type: string, instance: RuleInstance) => source(type).describe(instance, ctx);
      expect(await text('individual', { instanceId: users.dave.id })).to.equal('User Dave Jones (dave)');
      expect(await text('audience', { instanceId: ids.supportAnalysts })).to.equal('Members of audience Support Analysts');
      expect(await text('position', { instanceId: ids.analyst, includeChildren: true })).to.equal('Position Analyst and all below');
      expect(await text('position', { instanceId: ids.senior })).to.equal('Position Senior Analyst');
      expect(await text('organisation', { instanceId: ids.sales, includeChildren: true })).to.equal('Organisation Sales and all below');
      expect(await text('manager', { instanceId: ids.jJane })).to.equal('Direct team of Jane Smith (Manager)');
      expect(await text('manager', { instanceId: ids.jJane, includeChildren: true })).to.equal('Everyone below Jane Smith (Manager)');
      expect(await text('profile', { instanceId: ids.department, values: ['Sales', 'Support'] })).to.equal('Users whose Department is Sales or Support');
      expect(await text('profile', { instanceId: ids.department, values: ['Sales', 'Support', 'Engineering'] })).to.equal(
        'Users whose Department is Sales, Support or Engineering',
      );
    });

    it('still describes a rule whose referenced thing has gone', async () => {
      expect(await source('audience').describe({ instanceId: 99_999 }, ctx)).to.equal('Members of audience 99999 (deleted)');
    });
  });

  describe('validate', () => {
    it('accepts instances that reference existing things', async () => {
      const ok: Array<[string, RuleInstance]> = [
        ['individual', { instanceId: users.dave.id }],
        ['audience', { instanceId: ids.supportAnalysts }],
        ['position', { instanceId: ids.analyst, includeChildren: true }],
        ['organisation', { instanceId: ids.sales }],
        ['manager', { instanceId: ids.jJane }],
        ['profile', { instanceId: ids.department, values: ['Sales'] }],
      ];
      for (const [type, instance] of ok) expect(await source(type).validate!(instance, ctx), type).to.deep.equal([]);
    });

    it('reports a missing referenced thing against instanceId with a stable code', async () => {
      const missing: Array<[string, string, RuleInstance]> = [
        ['individual', 'USER_NOT_FOUND', { instanceId: 99_999 }],
        ['audience', 'AUDIENCE_NOT_FOUND', { instanceId: 99_999 }],
        ['position', 'POSITION_NOT_FOUND', { instanceId: 99_999 }],
        // An organisation id is not a position id, though both live in one table.
        ['position', 'POSITION_NOT_FOUND', { instanceId: ids.sales }],
        ['organisation', 'ORGANISATION_NOT_FOUND', { instanceId: ids.analyst }],
        ['manager', 'JOB_ASSIGNMENT_NOT_FOUND', { instanceId: 99_999 }],
        ['profile', 'PROFILE_FIELD_NOT_FOUND', { instanceId: 99_999, values: ['x'] }],
      ];
      for (const [type, code, instance] of missing) {
        const details = await source(type).validate!(instance, ctx);
        expect(
          details.map((d) => [d.path, d.code]),
          type,
        ).to.deep.equal([['instanceId', code]]);
      }
    });

    it('profile: rejects date fields, values that are not menu options, and "equals" with several values', async () => {
      const check = (instance: RuleInstance) => source('profile').validate!(instance, ctx).then((ds) => ds.map((d) => [d.path, d.code]));
      expect(await check({ instanceId: ids.birthday, values: ['2000-01-01'] })).to.deep.equal([['instanceId', 'PROFILE_FIELD_TYPE_UNSUPPORTED']]);
      expect(await check({ instanceId: ids.department, values: ['Sales', 'Marketing'] })).to.deep.equal([['values/1', 'PROFILE_VALUE_NOT_AN_OPTION']]);
      expect(await check({ instanceId: ids.department, values: ['Sales', 'Support'], operator: 'equals' })).to.deep.equal([
        ['values', 'PROFILE_VALUES_EQUALS_ONE'],
      ]);
      // Free text fields take any value.
      expect(await check({ instanceId: ids.nickname, values: ['Anything at all'] })).to.deep.equal([]);
    });
  });

  describe('affectedRules (real change events, inside the writing transaction)', () => {
    it('individual: suspending or deleting the named user, not other users or other fields', async () => {
      const erin = await user('erin', 'Erin Gray');
      const rules = [rule(1, { instanceId: erin.id }), rule(2, { instanceId: users.dave.id })];
      expect(await affected('individual', rules, () => site.services.users.update(erin.id, { suspended: true }))).to.deep.equal({ erin: [1] });
      expect(await affected('individual', rules, () => site.services.users.update(erin.id, { lang: 'fr' }))).to.deep.equal({ erin: [] });
      expect(await affected('individual', rules, () => site.services.users.update(erin.id, { deleted: true }))).to.deep.equal({ erin: [1] });
      expect(await affected('individual', rules, () => site.services.jobAssignments.create(users.dave.id, { positionId: ids.lead }))).to.deep.equal({
        dave: [],
      });
    });

    it('audience: joining or leaving that audience (static or dynamic), nothing else', async () => {
      const fred = await user('fred', 'Fred Blue');
      const rules = [rule(1, { instanceId: ids.supportAnalysts }), rule(2, { instanceId: ids.supportDept }), rule(3, { instanceId: ids.empty })];
      const a = site.services.audiences;
      expect(await affected('audience', rules, () => a.addMember(ids.supportAnalysts, fred.id))).to.deep.equal({ fred: [1] });
      expect(await affected('audience', rules, () => a.removeMember(ids.supportAnalysts, fred.id))).to.deep.equal({ fred: [1] });
      // The dynamic audience flips because of a profile change: its membership event picks rule 2.
      expect(await affected('audience', rules, () => site.services.users.update(fred.id, { profile: { department: 'Support' } }))).to.deep.equal({ fred: [2] });
      expect(await affected('audience', rules, () => site.services.users.update(fred.id, { profile: { nickname: 'F' } }))).to.deep.equal({ fred: [] });
    });

    it('position: old or new position, including ancestors for "and all below" rules', async () => {
      const gina = await user('gina', 'Gina Red');
      const rules = [
        rule(1, { instanceId: ids.analyst }),
        rule(2, { instanceId: ids.analyst, includeChildren: true }),
        rule(3, { instanceId: ids.senior }),
        rule(4, { instanceId: ids.lead }),
        rule(5, { instanceId: ids.managerPos, includeChildren: true }),
      ];
      const job = site.services.jobAssignments;
      let jobId = 0;
      expect(await affected('position', rules, async () => (jobId = (await job.create(gina.id, { positionId: ids.lead })).id))).to.deep.equal({ gina: [2, 4] });
      expect(await affected('position', rules, () => job.update(jobId, { positionId: ids.managerPos }))).to.deep.equal({ gina: [2, 4, 5] });
      expect(await affected('position', rules, () => job.update(jobId, { startDate: Date.UTC(2026, 0, 1), organisationId: ids.sales }))).to.deep.equal({
        gina: [],
      });
      expect(await affected('position', rules, () => job.remove(jobId))).to.deep.equal({ gina: [5] });
    });

    it('position: moving a subtree rechecks the "and all below" rules of the people in it', async () => {
      const h = site.services.hierarchy;
      const liam = await user('liam', 'Liam Stone');
      const top = (await h.createPosition({ name: 'Engineer' })).id;
      const mid = (await h.createPosition({ name: 'Staff Engineer', parentId: top })).id;
      await site.services.jobAssignments.create(liam.id, { positionId: mid });
      const rules = [
        rule(1, { instanceId: top, includeChildren: true }),
        rule(2, { instanceId: mid }),
        rule(3, { instanceId: ids.analyst, includeChildren: true }),
      ];
      expect(await members('position', { instanceId: top, includeChildren: true })).to.deep.equal(['liam']);
      // Staff Engineer leaves Engineer for Analyst: Liam leaves rule 1's set and joins rule 3's.
      expect(await affected('position', rules, () => h.move('position', mid, ids.analyst))).to.deep.equal({ liam: [1, 3] });
      expect(await members('position', { instanceId: top, includeChildren: true })).to.deep.equal([]);
    });

    it('organisation: old or new organisation, including ancestors for "and all below" rules', async () => {
      const hugo = await user('hugo', 'Hugo Black');
      const rules = [rule(1, { instanceId: ids.sales }), rule(2, { instanceId: ids.sales, includeChildren: true }), rule(3, { instanceId: ids.support })];
      const job = site.services.jobAssignments;
      let jobId = 0;
      expect(await affected('organisation', rules, async () => (jobId = (await job.create(hugo.id, { organisationId: ids.emea })).id))).to.deep.equal({
        hugo: [2],
      });
      expect(await affected('organisation', rules, () => job.update(jobId, { organisationId: ids.support }))).to.deep.equal({ hugo: [2, 3] });
      expect(await affected('organisation', rules, () => job.update(jobId, { positionId: ids.analyst }))).to.deep.equal({ hugo: [] });
    });

    it('manager: old or new manager for direct teams; the chain that changed for "all below"', async () => {
      const job = site.services.jobAssignments;
      const boss = await user('boss', 'Bea Boss');
      const mid = await user('mid', 'Max Mid');
      const other = await user('other', 'Olga Other');
      const ivan = await user('ivan', 'Ivan Leaf');
      const jBoss = (await job.create(boss.id, {})).id;
      const jMid = (await job.create(mid.id, { managerJobAssignmentId: jBoss })).id;
      const jOther = (await job.create(other.id, {})).id;
      const rules = [
        rule(1, { instanceId: jBoss }),
        rule(2, { instanceId: jBoss, includeChildren: true }),
        rule(3, { instanceId: jMid }),
        rule(4, { instanceId: jMid, includeChildren: true }),
        rule(5, { instanceId: jOther }),
        rule(6, { instanceId: jOther, includeChildren: true }),
      ];
      let jIvan = 0;
      // Joins Max's team: direct team of Max, and below both Max and Bea.
      expect(await affected('manager', rules, async () => (jIvan = (await job.create(ivan.id, { managerJobAssignmentId: jMid })).id))).to.deep.equal({
        ivan: [2, 3, 4],
      });
      // Moves straight under Bea: still below Bea, so Bea's "all below" is not rechecked.
      expect(await affected('manager', rules, () => job.update(jIvan, { managerJobAssignmentId: jBoss }))).to.deep.equal({ ivan: [1, 3, 4] });
      // A change that is not about the manager affects no manager rule.
      expect(await affected('manager', rules, () => job.update(jIvan, { positionId: ids.analyst }))).to.deep.equal({ ivan: [] });
      expect(await affected('manager', rules, () => job.update(jIvan, { managerJobAssignmentId: jMid }))).to.deep.equal({ ivan: [1, 3, 4] });
      // Max moves under Olga: Max's own rules change; Ivan, below him, hears "your chain moved"
      // and every "all below" rule is rechecked for him (his old chain is no longer readable).
      expect(await affected('manager', rules, () => job.update(jMid, { managerJobAssignmentId: jOther }))).to.deep.equal({
        mid: [1, 2, 5, 6],
        ivan: [2, 4, 6],
      });
      // Max's job assignment is deleted: Ivan loses his manager (rule 3) and, with Max's chain
      // gone, every "all below" rule is rechecked for him.
      expect(await affected('manager', rules, () => job.remove(jMid))).to.deep.equal({ mid: [5, 6], ivan: [2, 3, 4, 6] });
    });

    it('profile: a change of that field entering or leaving a rule value, nothing else', async () => {
      const kim = await user('kim', 'Kim Lane');
      const rules = [
        rule(1, { instanceId: ids.department, values: ['Sales', 'Support'] }),
        rule(2, { instanceId: ids.department, values: ['Engineering'] }),
        rule(3, { instanceId: ids.nickname, values: ['D'] }),
      ];
      const set = (profile: Record<string, string | null>) => () => site.services.users.update(kim.id, { profile });
      expect(await affected('profile', rules, set({ department: 'Sales' }))).to.deep.equal({ kim: [1] });
      expect(await affected('profile', rules, set({ department: 'Engineering' }))).to.deep.equal({ kim: [1, 2] });
      expect(await affected('profile', rules, set({ nickname: 'K' }))).to.deep.equal({ kim: [] });
      expect(await affected('profile', rules, set({ nickname: 'D' }))).to.deep.equal({ kim: [3] });
      expect(await affected('profile', rules, set({ nickname: null }))).to.deep.equal({ kim: [3] });
      expect(await affected('profile', rules, () => site.services.jobAssignments.create(kim.id, { positionId: ids.analyst }))).to.deep.equal({ kim: [] });
    });
  });

  describe('plugin state', () => {
    it('disabling a source plugin withdraws its source at once; enabling brings it back', async () => {
      await site.plugins.disable('assign_profile');
      expect(site.extensions.get('assignmentSources', 'profile')).to.equal(undefined);
      expect(site.extensions.get('assignmentSources', 'audience')?.plugin).to.equal('assign_audience');
      await site.plugins.enable('assign_profile');
      expect(site.extensions.get('assignmentSources', 'profile')?.plugin).to.equal('assign_profile');
    });
  });
});
