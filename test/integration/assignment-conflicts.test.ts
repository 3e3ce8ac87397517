import { expect } from 'chai';
import type { Knex } from 'knex';

import type { AssignmentSource, RuleInstance } from '../../core/modules/assignment/types';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

/**
 * `already_assigned` (DOMAIN 4.1): a source reports learners who already have the program through a
 * conflicting route; they get that exception first, before any due-date check, and are not assigned.
 */
describe(`assignment exceptions: already_assigned (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;

  before(async () => {
    t = await createTestSite();
  });
  after(() => t.close());

  it('raises already_assigned for the learners a source reports as conflicting, and assigns the others', async () => {
    const { site } = t;
    const users = await Promise.all(
      ['ann', 'bob', 'cyd'].map((name) => site.services.users.create({ username: name, email: `${name}@example.com`, fullname: name.toUpperCase() })),
    );
    const [ann, bob, cyd] = users.map((u) => u.id) as [number, number, number];
    // A learning-plan-like source: members are a fixed list; "bob" already has the program through the plan.
    const planSource: AssignmentSource<RuleInstance & { userIds: number[] }> = {
      type: 'test_plan',
      name: 'Learning plan',
      instanceSchema: {
        type: 'object',
        properties: { instanceId: { type: 'integer' }, userIds: { type: 'array', items: { type: 'integer' } } },
        required: ['instanceId', 'userIds'],
      },
      describe: async () => 'Learners on plan 1',
      members: (instance, ctx) => ctx.db('users').whereIn('id', instance.userIds).select({ user_id: 'id' }) as Knex.QueryBuilder,
      affectedRules: () => [],
      conflicts: (_programId, _instance, ctx) => ctx.db('users').where('id', bob).select({ user_id: 'id' }) as Knex.QueryBuilder,
    };
    site.extensions.contribute('core', 'assignmentSources', 'test_plan', planSource as unknown as AssignmentSource);

    const course = await site.services.courses.create({ shortname: 'C1', fullname: 'Course 1' });
    const { program } = await site.services.programs.create({ shortname: 'P1', fullname: 'Program 1', courseSets: [{ courseIds: [course.id], rule: 'all' }] });
    const assignments = site.services.assignment;
    await assignments.addRule(program.id, { source: 'test_plan', instanceId: 1, userIds: [ann, bob, cyd], due: { date: '2030-01-01T00:00:00Z' } });
    await site.jobs.drain();

    const state = async (userId: number) => assignments.learnerAssignment(program.id, userId);
    expect((await state(ann)).assigned).to.equal(true);
    expect((await state(cyd)).assigned).to.equal(true);
    const conflicted = await state(bob);
    expect(conflicted.assigned).to.equal(false);
    expect(conflicted.exception?.type).to.equal('already_assigned');

    const { items: report } = await assignments.listExceptions({ programId: program.id, status: 'open' });
    expect(report.map((e) => e.type)).to.deep.equal(['already_assigned']);
    await assignments.resolveExceptions(
      report.map((e) => e.id),
      'assign',
    );
    expect((await state(bob)).assigned).to.equal(true);
  });
});
