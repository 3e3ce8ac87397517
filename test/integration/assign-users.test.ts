import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../core/kernel/config';
import { statementTrace } from '../../core/kernel/db/statements';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

/**
 * "Assign a program" to many users at once (the user list's bulk action, `AssignmentService.assignUsers`):
 * one individual rule per user written in one transaction and synced by one job, set-based, skipping
 * users who already have such a rule and suspended or deleted ones.
 */
describe(`assigning a program to many users (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let pluginsDir: string;

  before(async () => {
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-assign-users-'));
    fs.symlinkSync(path.join(projectRoot, 'plugins', 'assign_individual'), path.join(pluginsDir, 'assign_individual'), 'dir');
    t = await createTestSite({ pluginsDir });
  });
  after(async () => {
    await t?.close();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  });

  it('assigns every active user named, once, with the due date given, in a bounded number of statements', async () => {
    const { site } = t;
    const { assignment } = site.services;
    const ids: number[] = [];
    for (let i = 0; i < 300; i++) {
      ids.push((await site.services.users.create({ username: `many${i}`, email: `many${i}@example.com`, fullname: `Many ${i}` })).id);
    }
    const [suspended, deleted, ...rest] = ids as [number, number, ...number[]];
    await site.services.users.update(suspended, { suspended: true });
    await site.services.users.update(deleted, { deleted: true });
    const course = await site.services.courses.create({ shortname: 'many_c', fullname: 'Course' });
    const { program } = await site.services.programs.create({ shortname: 'MANY', fullname: 'Many', courseSets: [{ courseIds: [course.id], rule: 'all' }] });
    // Five already have an individual rule, with a due date of their own that must stay theirs.
    for (const userId of rest.slice(0, 5)) await assignment.addRule(program.id, { source: 'individual', instanceId: userId, due: { date: '2031-01-01' } });
    await site.jobs.drain();

    // Every statement: Knex's, and the raw ones of the sync's store (runStatement, queryRows).
    let statements = 0;
    const count = () => statements++;
    site.db.knex.on('query', count);
    statementTrace.listener = count;
    let result: { added: number; jobId: number | null };
    try {
      result = await assignment.assignUsers(program.id, [...ids, 999_999, rest[0]!], { date: '2030-06-30' });
      await site.jobs.drain();
    } finally {
      site.db.knex.off('query', count);
      statementTrace.listener = null;
    }
    expect(result.added).to.equal(rest.length - 5);
    expect(result.jobId).to.be.a('number');
    // One rule per user, one job for all of them: a handful of statements per hundred users, not one per user.
    expect(statements).to.be.below(100);

    const rules = await assignment.listRules(program.id);
    expect(rules).to.have.length(rest.length);
    const assigned = (await site.db.knex('program_user_assignments').where({ program_id: program.id, status: 'active' }).select('user_id', 'due_at')) as Array<{
      user_id: number;
      due_at: number | string;
    }>;
    expect(assigned.map((a) => Number(a.user_id)).sort((a, b) => a - b)).to.deep.equal([...rest].sort((a, b) => a - b));
    const dueOf = new Map(assigned.map((a) => [Number(a.user_id), new Date(Number(a.due_at)).toISOString().slice(0, 10)]));
    expect(dueOf.get(rest[0]!)).to.equal('2031-01-01');
    expect(dueOf.get(rest[10]!)).to.equal('2030-06-30');

    // The nightly reconcile compares these hundreds of rules with what they list (together, on
    // MariaDB) and repairs only what drifted: a membership lost out of band comes back, once.
    await site.db.knex('program_rule_members').where({ program_id: program.id, user_id: rest[20]! }).delete();
    const repaired = await assignment.reconcile();
    expect(repaired.membersInserted).to.equal(1);
    const quiet = await assignment.reconcile();
    expect([quiet.membersInserted, quiet.membersDeleted, quiet.membersUpdated, quiet.assignmentsWritten]).to.deep.equal([0, 0, 0, 0]);

    // Asking again adds nothing and queues nothing.
    expect(await assignment.assignUsers(program.id, ids, null)).to.deep.equal({ added: 0, jobId: null });
    // The suspended user got no rule: reactivating them later does not assign them this program.
    await site.services.users.update(suspended, { suspended: false });
    await site.jobs.drain();
    expect((await assignment.learnerAssignment(program.id, suspended)).assigned).to.equal(false);
  });

  it('refuses an unknown program and a bad due date, writing nothing', async () => {
    const { site } = t;
    const user = await site.services.users.create({ username: 'lonely', email: 'lonely@example.com', fullname: 'Lonely' });
    const before = await site.db.knex('program_assignment_rules').count({ n: '*' });
    const unknown = await site.services.assignment.assignUsers(999_999, [user.id], null).catch((e: Error & { status?: number }) => e);
    expect((unknown as { status?: number }).status).to.equal(404);
    const course = await site.services.courses.create({ shortname: 'lonely_c', fullname: 'Course' });
    const { program } = await site.services.programs.create({ shortname: 'LONELY', fullname: 'Lonely', courseSets: [{ courseIds: [course.id], rule: 'all' }] });
    const bad = await site.services.assignment.assignUsers(program.id, [user.id], { date: '2030-02-30' }).catch((e: Error & { status?: number }) => e);
    expect((bad as { status?: number }).status).to.be.oneOf([400, 422]);
    expect(await site.db.knex('program_assignment_rules').count({ n: '*' })).to.deep.equal(before);
  });
});
