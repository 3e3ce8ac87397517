/**
 * A small site seeded through the real services, shared by the page e2e suites and the browser
 * suite: an operator, two learners, five courses with activities, and two programs assigned
 * through the real assignment engine (individual rules, jobs drained).
 */
import path from 'node:path';
import request, { type Agent } from 'supertest';
import type express from 'express';
import type { Site } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { projectRoot } from '../../core/kernel/config';
import { createTestSite, type TestSite } from '../utils/site';

export const PASSWORD = 'correct horse battery';

export interface Scenario {
  adminId: number;
  learnerId: number;
  otherId: number;
  /** Onboarding: {A, B} all THEN {C, D} any. */
  onboardingId: number;
  /** Compliance: {E} all, due in the past (overdue). */
  complianceId: number;
  courses: { a: number; b: number; c: number; d: number; e: number };
  activities: { welcome: number; quiz: number; handbook: number; intro: number };
}

/** Program and course names carry markup on purpose: every page must show it as text. */
export const NAMES = {
  onboarding: 'Onboarding <em>essentials</em>',
  courseA: 'Safety <b>basics</b>',
};

export async function seedScenario(site: Site): Promise<Scenario> {
  const { users, courses, programs } = site.services;
  const user = async (username: string, fullname: string, extra: { isAdmin?: boolean; timezone?: string } = {}) =>
    (await users.create({ username, email: `${username}@example.com`, fullname, password: PASSWORD, ...extra })).id;
  const adminId = await user('operator', 'Olive Operator', { isAdmin: true });
  const learnerId = await user('lena', 'Lena Learner', { timezone: 'Pacific/Auckland' });
  const otherId = await user('otto', 'Otto Other');

  const course = async (shortname: string, fullname: string) => (await courses.create({ shortname, fullname })).id;
  const a = await course('A', NAMES.courseA);
  const b = await course('B', 'Customer care');
  const c = await course('C', 'Advanced handling');
  const d = await course('D', 'Leadership primer');
  const e = await course('E', 'Data protection');
  const welcome = (await courses.addActivity(a, { type: 'page', name: 'Welcome', completionTracked: true })).id;
  const quiz = (await courses.addActivity(a, { type: 'quiz', name: 'Safety check', completionTracked: true, maxGrade: 10 })).id;
  // 10 marks: the first two questions right and the third wrong is 8 / 10.
  await site.services.quizzes.save(quiz, {
    attemptsAllowed: 3,
    gradingMethod: 'highest',
    questions: [
      {
        type: 'multichoice',
        text: 'Where are the fire exits shown?',
        marks: 4,
        choices: [
          { text: 'On the floor plan by the lifts', correct: true },
          { text: 'Nowhere, ask <b>reception</b>', correct: false },
        ],
      },
      { type: 'truefalse', text: 'You may prop a fire door open on a hot day.', correct: false, marks: 4 },
      { type: 'numeric', text: 'How many minutes may leaving the building take at most?', answer: 5, marks: 2 },
    ],
  });
  const handbook = (await courses.addActivity(b, { type: 'resource', name: 'Handbook', completionTracked: true })).id;
  const intro = (await courses.addActivity(c, { type: 'page', name: 'Introduction', completionTracked: true })).id;
  await courses.addActivity(d, { type: 'page', name: 'Start here', completionTracked: true });
  await courses.addActivity(e, { type: 'page', name: 'The rules', completionTracked: true });

  const onboardingId = (
    await programs.create({
      shortname: 'onboarding',
      fullname: NAMES.onboarding,
      summary: 'Your first weeks',
      courseSets: [
        { label: 'Foundations', courseIds: [a, b], rule: 'all', operator: 'then' },
        { label: 'Specialise', courseIds: [c, d], rule: 'any' },
      ],
    })
  ).program.id;
  const complianceId = (await programs.create({ shortname: 'compliance', fullname: 'Compliance', courseSets: [{ courseIds: [e], rule: 'all' }] })).program.id;

  const assignment = site.services.assignment;
  const inAMonth = new Date(site.db.now() + 30 * 86_400_000).toISOString();
  await assignment.addRule(onboardingId, { source: 'individual', instanceId: learnerId, due: { date: inAMonth } });
  await assignment.addRule(onboardingId, { source: 'individual', instanceId: otherId, due: null });
  // A due date in the past raises a time-allowance exception; assigning anyway keeps that date,
  // which is how a learner ends up overdue.
  await assignment.addRule(complianceId, { source: 'individual', instanceId: learnerId, due: { date: '2026-01-15T12:00:00.000Z' } });
  await site.jobs.drain();
  const { items: open } = await assignment.listExceptions({ programId: complianceId, status: 'open' });
  if (open.length)
    await assignment.resolveExceptions(
      open.map((x) => x.id),
      'assign',
      adminId,
    );

  return { adminId, learnerId, otherId, onboardingId, complianceId, courses: { a, b, c, d, e }, activities: { welcome, quiz, handbook, intro } };
}

/** The hidden CSRF token of the first form on a page. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

/** Signs in through the real login form; the agent keeps the session cookie. */
export async function signIn(agent: Agent, username: string): Promise<void> {
  const form = await agent.get('/login').set('Accept', 'text/html').expect(200);
  await agent
    .post('/login')
    .type('form')
    .send({ username, password: PASSWORD, _csrf: csrfFrom(form.text), next: '/' })
    .expect(303);
}

/** The scenario on a site with the real plugins, served in process, with the operator and Lena signed in. */
export async function startScenarioSite(sessionSecret: string): Promise<{
  t: TestSite;
  site: Site;
  s: Scenario;
  app: express.Express;
  admin: ReturnType<typeof request.agent>;
  learner: ReturnType<typeof request.agent>;
}> {
  const t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret });
  const s = await seedScenario(t.site);
  const app = createApp(t.site);
  const admin = request.agent(app);
  const learner = request.agent(app);
  await signIn(admin, 'operator');
  await signIn(learner, 'lena');
  return { t, site: t.site, s, app, admin, learner };
}
