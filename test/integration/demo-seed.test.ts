import path from 'node:path';
import { expect } from 'chai';
import { seedDemoSite } from '../../db/seed/demo';
import { verifyPassword } from '../../core/kernel/auth/passwords';
import { loadRequiredLearning } from '../../core/modules/learner-views/learner-data';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

describe(`demo seed (${testDialect})`, function () {
  this.timeout(120_000);
  let test: TestSite;

  before(async () => {
    test = await createTestSite({ pluginsDir: path.resolve(import.meta.dirname, '../../plugins') });
  });
  after(() => test.close());

  it('builds the demo site once, with working logins, the worked-example programs and assigned learners', async () => {
    const { site } = test;
    const first = await seedDemoSite(site);
    expect(first.created).to.equal(true);

    const knex = site.db.knex;
    const count = async (table: string) => Number((await knex(table).count({ n: '*' }))[0]!.n);
    expect(await count('users')).to.equal(306);
    expect(await count('courses')).to.equal(11);
    const programs = (await knex('programs').orderBy('id').pluck('shortname')) as string[];
    expect(programs).to.deep.equal(['ONBOARD', 'MASTERY', 'CARE', 'ESCALATE', 'COMPLY', 'INDUCT', 'FIRE', 'LEAD']);

    for (const login of first.logins) {
      const user = await site.services.users.findByUsername(login.username);
      expect(user, login.username).to.exist;
      expect(await verifyPassword(login.password, await site.services.users.passwordHash(user!.id)), `${login.username} password`).to.equal(true);
    }

    // learner01 is in the company (ONBOARD), assigned CARE individually and is in Sales (ESCALATE by profile).
    const learner = await site.services.users.findByUsername('learner01');
    const required = await loadRequiredLearning(site, learner!.id);
    const names = required.programs.map((p: { fullname: string }) => p.fullname).sort();
    expect(names).to.include.members(['Onboarding essentials', 'Customer care', 'Escalation specialist']);

    // Every demo quiz has questions the server grades, and the rule-tree audiences were built.
    const quizzes = (await knex('activities').where({ type: 'quiz' }).pluck('id')) as number[];
    expect(quizzes).to.have.length(11);
    for (const quizId of quizzes) expect((await site.services.quizzes.get(Number(quizId))).questions, `quiz ${quizId}`).to.have.length(3);
    const audienceNames = (await knex('audiences').orderBy('id').pluck('name')) as string[];
    expect(audienceNames).to.include.members(['Onboarding graduates', 'Customer care: needs a nudge']);
    // DOMAIN 8 in course K: learner02 (50 %) opens resource A only, learner03 (51 %) B only; learner03 (French,
    // course A completed: audience ABC) sees resources 4 to 9, learner01 (English, ABC) 1 to 3 and 10.
    const tour = (await knex('courses').where({ shortname: 'CK' }).first('id')) as { id: number };
    const visibleTo = async (username: string) => {
      const user = (await site.services.users.findByUsername(username))!;
      const course = await site.services.courses.get(tour.id);
      const access = await site.services.courses.accessOf(user.id, course);
      return course.activities.filter((a) => a.type === 'resource' && access.get(a.id)?.available !== false).map((a) => a.name.split(':')[0]);
    };
    expect(await visibleTo('learner02')).to.deep.equal(['Resource A', 'Resource 1', 'Resource 2', 'Resource 3', 'Resource 10']);
    expect(await visibleTo('learner03')).to.deep.equal(['Resource B', 'Resource 4', 'Resource 5', 'Resource 6', 'Resource 7', 'Resource 8', 'Resource 9']);

    // The console at work: Sara manages twenty, some of them overdue; open exceptions of every type;
    // saved reports on the dashboard.
    const sara = (await site.services.users.findByUsername('sara'))!;
    const team = await knex.from(site.services.jobAssignments.managedUsersQuery(sara.id).as('t')).count({ n: '*' });
    expect(Number(team[0]!.n)).to.equal(20);
    const overdue = await site.services.reports.page('overdue', await site.services.reports.parse('overdue', { managerId: String(sara.id) }));
    expect(overdue.items.length).to.be.at.least(10);
    const open = await site.services.reports.page('exceptions', await site.services.reports.parse('exceptions', { limit: '1000' }));
    expect(new Set(open.items.map((r) => r.type))).to.deep.equal(new Set(['time_allowance', 'completion_time_unknown', 'already_assigned']));
    // The three learners who follow the team leader pathway in their plan, when a rule for all of Support reached them.
    const conflicts = open.items.filter((r) => r.type === 'already_assigned');
    expect(conflicts.map((r) => r.program)).to.deep.equal(Array(3).fill('Support team leader pathway'));
    expect(conflicts.map((r) => r.userId).sort()).to.deep.equal(((await knex('tool_learningplan_items').pluck('user_id')) as number[]).map(Number).sort());
    expect(String(conflicts[0]!.explanation)).to.contain('learning plan');
    const dashboard = (await site.services.savedReports.dashboard()).map((e) => e.label);
    expect(dashboard).to.deep.equal(['Open assignment exceptions', 'Support: overdue learners']);

    const again = await seedDemoSite(site);
    expect(again.created).to.equal(false);
    expect(await count('users')).to.equal(306);
  });
});
