/**
 * The learner and operator journeys in a real browser: Debian's Chromium driven by playwright-core
 * against the app served on 127.0.0.1 (ephemeral port), on a fresh SQLite database with the real
 * plugins folder. Screenshots of every learner page go to test/browser/screenshots/ (gitignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestSite } from '../utils/site';
import { SCREENSHOTS as SHOTS, signInAs, startBrowserSite, type BrowserSite } from './harness';
import { NAMES, PASSWORD, seedScenario, type Scenario } from './scenario';

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 740 };

describe('browser: learner and operator pages', function () {
  this.timeout(120_000);
  let t: TestSite;
  let s: Scenario;
  let base: string;
  let browser: Browser;
  let site: BrowserSite | undefined;

  before(async function () {
    site = await startBrowserSite('browser-test-secret-0123456789', async (built) => {
      s = await seedScenario(built.site);
    });
    ({ t, base, browser } = site);
  });

  after(async () => site?.close());

  async function signedIn(username: string, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, baseURL: base });
    const page = await context.newPage();
    await signInAs(page, username, PASSWORD);
    return { context, page };
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  it('takes a learner from Required Learning through the first course set until the next set opens', async () => {
    const { context, page } = await signedIn('lena');
    try {
      await page.goto('/my/required-learning');
      await expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Required learning');
      const onboarding = page.locator('.program-item', { hasText: 'Onboarding' });
      expect(await onboarding.getByRole('link').first().textContent(), 'markup in names is shown as text').to.equal(NAMES.onboarding);
      expect(await page.locator('.program-item.is-overdue').textContent()).to.contain('Compliance');
      expect(await page.locator('.program-item.is-overdue').textContent()).to.contain('Overdue');
      await shot(page, 'required-learning');

      // The program page: set 2 is locked behind set 1, with the reason on each course.
      await Promise.all([page.waitForURL(`**/programs/${s.onboardingId}`), onboarding.getByRole('link', { name: NAMES.onboarding }).click()]);
      const specialise = page.locator('.course-set', { hasText: 'Specialise' });
      expect(await specialise.locator('.badge').textContent()).to.equal('Locked');
      expect(await specialise.locator('.locked-note').textContent()).to.contain('Complete "Foundations"');
      expect(await page.locator('.operator').first().textContent()).to.contain('then');
      await shot(page, 'program');

      // Typing the URL of a locked course is refused with the same reason.
      const refused = await page.goto(`/courses/${s.courses.c}/launch`);
      expect(refused?.status()).to.equal(403);
      expect(await page.locator('main').textContent()).to.contain('Complete "Foundations"');
      await shot(page, 'launch-refused');

      // Launch the first course and work through it: a page completes by visiting, the quiz by its grade.
      await page.goto(`/programs/${s.onboardingId}`);
      await Promise.all([
        page.waitForURL(`**/courses/${s.courses.a}`),
        page
          .locator('.course-set')
          .getByRole('link', { name: `Launch ${NAMES.courseA}` })
          .click(),
      ]);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal(NAMES.courseA);
      await shot(page, 'course');
      await Promise.all([page.waitForURL(`**/activities/${s.activities.welcome}`), page.getByRole('link', { name: 'Welcome' }).click()]);
      expect(await page.locator('.callout-done').textContent()).to.contain('Done');
      await shot(page, 'activity-page');
      // The quiz is answered, not scored by the learner: two of three right is 8 / 10, with a review.
      await page.goto(`/activities/${s.activities.quiz}`);
      await page.getByLabel('On the floor plan by the lifts').check();
      await page
        .getByRole('group', { name: /prop a fire door/ })
        .getByLabel('False')
        .check();
      await page.getByLabel('Your answer').fill('9');
      await shot(page, 'activity-quiz');
      await Promise.all([page.waitForURL(/notice=attempt-graded/), page.getByRole('button', { name: 'Submit answers' }).click()]);
      expect(await page.getByRole('status').textContent()).to.contain('submitted and graded');
      expect(await page.locator('.callout', { hasText: 'Your grade' }).textContent()).to.contain('8 / 10');
      expect(await page.locator('.quiz-review').textContent()).to.contain('Right answer: 5');
      await shot(page, 'activity-quiz-review');

      await page.goto(`/programs/${s.onboardingId}`);
      await Promise.all([
        page.waitForURL(`**/courses/${s.courses.b}`),
        page.locator('.course-set').getByRole('link', { name: 'Launch Customer care' }).click(),
      ]);
      await Promise.all([page.waitForURL(`**/activities/${s.activities.handbook}`), page.getByRole('link', { name: 'Handbook' }).click()]);

      // Set 1 is complete, so set 2 opens and its course launches.
      await page.goto(`/programs/${s.onboardingId}`);
      expect(await page.locator('.course-set', { hasText: 'Foundations' }).locator('.badge').textContent()).to.equal('Complete');
      expect(await specialise.locator('.badge').textContent()).to.equal('Open');
      await shot(page, 'program-set-two-open');
      await Promise.all([
        page.waitForURL(`**/courses/${s.courses.c}`),
        page.locator('.course-set').getByRole('link', { name: 'Launch Advanced handling' }).click(),
      ]);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Advanced handling');

      await page.goto('/my/record-of-learning');
      const courses = await page.locator('section', { hasText: 'Courses' }).locator('tbody').textContent();
      expect(courses).to.contain(NAMES.courseA).and.to.contain('Customer care');
      await shot(page, 'record-of-learning');
    } finally {
      await context.close();
    }
  });

  it('looks right on a phone: Required Learning, the program page, the Record of Learning and the security page fit 375px without sideways scrolling', async () => {
    const { context, page } = await signedIn('otto', PHONE);
    try {
      for (const [url, name] of [
        ['/my/required-learning', 'phone-required-learning'],
        [`/programs/${s.onboardingId}`, 'phone-program'],
        ['/my/record-of-learning', 'phone-record-of-learning'],
        ['/my/security', 'phone-security'],
        [`/programs/${s.onboardingId}/extension`, 'phone-extension-request'],
      ] as const) {
        await page.goto(url);
        const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
        await shot(page, name);
        expect(overflow, url).to.be.at.most(0);
      }
      // Keyboard: the skip link is the first stop and moves focus to the main content.
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).to.equal('Skip to main content');
    } finally {
      await context.close();
    }
  });

  it('lets an operator disable a plugin on the plugins page, and the plugin’s page disappears', async () => {
    const { context, page } = await signedIn('operator');
    try {
      await page.goto('/admin');
      expect(await page.getByRole('link', { name: '/admin/sitestats' }).count()).to.equal(1);
      await page.goto('/admin/sitestats');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Site statistics');

      await page.goto('/admin/plugins');
      await shot(page, 'admin-plugins');
      const row = page.locator('#plugin-tool_sitestats');
      await Promise.all([page.waitForURL(/notice=plugin-disabled/), row.getByRole('button', { name: /Disable/ }).click()]);
      expect(await row.locator('.badge').textContent()).to.equal('disabled');
      expect(await row.getByRole('button', { name: /Enable/ }).count()).to.equal(1);

      await page.goto('/admin');
      expect(await page.getByRole('link', { name: '/admin/sitestats' }).count()).to.equal(0);
      const gone = await page.goto('/admin/sitestats');
      expect(gone?.status()).to.equal(404);

      // Enabling brings it back at once, without a restart.
      await page.goto('/admin/plugins');
      await Promise.all([
        page.waitForURL(/notice=plugin-enabled/),
        page
          .locator('#plugin-tool_sitestats')
          .getByRole('button', { name: /Enable/ })
          .click(),
      ]);
      expect((await page.goto('/admin/sitestats'))?.status()).to.equal(200);
      await page.goto(`/admin/programs/${s.onboardingId}/edit`);
      await shot(page, 'admin-program-form');
      await page.goto(`/admin/programs/${s.onboardingId}/assignments`);
      await shot(page, 'admin-assignments');
    } finally {
      await context.close();
    }
  });
  it('lets an operator edit a program on a 390px phone: no sideways scrolling, courses added by name, Enter saves', async () => {
    const { program } = await t.site.services.programs.create({
      shortname: 'phone-form',
      fullname: 'A program with a rather long name that has to wrap on a phone screen',
      courseSets: [
        { label: '  Spaced <label> with a long, long, long name for the phone  ', courseIds: [s.courses.a, s.courses.b], rule: 'all', operator: 'then' },
        { label: 'Second', courseIds: [s.courses.c], rule: 'some', minCourses: 1, minTime: 'P2W' },
      ],
    });
    const { context, page } = await signedIn('operator', { width: 390, height: 800 });
    try {
      await page.goto(`/admin/programs/${program.id}/edit`);
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      await shot(page, 'phone-admin-program-form');
      expect(overflow).to.be.at.most(0);
      expect(await page.getByLabel('Label').first().inputValue()).to.equal('  Spaced <label> with a long, long, long name for the phone  ');

      // Pick a course by its name from the type-ahead's suggestions, then Add.
      const second = page.locator('#set1');
      await second.getByLabel('Add a course').pressSequentially('data pro');
      await second.getByRole('option', { name: /Data protection/ }).click();
      expect(await second.getByLabel('Add a course').inputValue()).to.equal('Data protection');
      await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), second.getByRole('button', { name: 'Add' }).click()]);
      await page.waitForLoadState();
      expect(
        await page
          .locator('#set1')
          .getByRole('checkbox', { name: /Data protection/ })
          .isChecked(),
      ).to.equal(true);
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).to.equal('pick-set1_add');

      // Enter in a text field saves (not the first set's "Add").
      await page.getByLabel('Full name').fill('Renamed on a phone');
      await Promise.all([page.waitForURL(/notice=program-saved/), page.getByLabel('Full name').press('Enter')]);
      const saved = await t.site.services.programs.get(program.id);
      expect(saved.fullname).to.equal('Renamed on a phone');
      expect(saved.courseSets.map((c) => c.courseIds)).to.deep.equal([
        [s.courses.a, s.courses.b],
        [s.courses.c, s.courses.e],
      ]);
      expect(saved.courseSets[0]!.label).to.equal('  Spaced <label> with a long, long, long name for the phone  ');
    } finally {
      await context.close();
    }
  });
  it('lets an operator build an audience on a 390px phone with a live count of who matches, and Enter saves', async () => {
    const { context, page } = await signedIn('operator', { width: 390, height: 800 });
    try {
      await page.goto('/admin/audiences/new');
      await page.getByLabel('Name').fill('English speakers on a phone');
      await page.getByLabel('Condition', { exact: true }).selectOption({ label: 'Preferred language is …' });
      await page.getByLabel(/^Value/).fill('en');
      // The count follows the form as it changes, with no button pressed.
      const expected = await t.site.services.audiences.countMatching([{ type: 'user_field', field: 'lang', value: 'en' }]);
      await page.locator('[data-count]', { hasText: `${expected} user(s) match` }).waitFor();
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      await shot(page, 'phone-admin-audience-editor');
      expect(overflow).to.be.at.most(0);
      await Promise.all([page.waitForURL(/notice=audience-saved/), page.getByLabel('Name').press('Enter')]);
      expect(await page.locator('.lead').textContent()).to.contain('Preferred language is en');
    } finally {
      await context.close();
    }
  });
  it('shows a live count of who matches in the restriction editor on a 390px phone, before anything is saved', async () => {
    const { context, page } = await signedIn('operator', { width: 390, height: 800 });
    try {
      await page.goto(`/admin/restrict_access/activities/${s.activities.welcome}`);
      const first = page.locator('fieldset', { hasText: 'Condition 1' });
      await first.getByLabel('Kind').selectOption({ label: 'Grade in an activity' });
      await first.getByLabel('Activity (grade, completion)').selectOption({ label: 'Safety check' });
      await first.getByLabel('Grade at least (%)').fill('50');
      // The count follows the form, with no button pressed (its numbers are checked in e2e/restrictions.test.ts).
      await page.locator('[data-live-output]', { hasText: /^With the restriction in the form: of \d+ enrolled learners, \d+ can open it/ }).waitFor();
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      await shot(page, 'phone-restriction-live-count');
      expect(overflow).to.be.at.most(0);
      expect((await t.site.services.courses.getActivity(s.activities.welcome)).availability).to.equal(null);
    } finally {
      await context.close();
    }
  });
  it('fits the notification pages on a 390px phone: the operator’s messages and edit page, the learner’s inbox', async () => {
    const phone = { width: 390, height: 780 };
    const fits = async (page: Page, url: string, name: string): Promise<void> => {
      const res = await page.goto(url);
      expect(res?.status(), url).to.equal(200);
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      await shot(page, name);
      expect(overflow, url).to.be.at.most(0);
    };
    const operator = await signedIn('operator', phone);
    try {
      await operator.page.goto('/admin/notifications');
      await operator.page.getByLabel('Program').pressSequentially('onboard');
      await operator.page.getByRole('option', { name: /Onboarding/ }).click();
      await Promise.all([operator.page.waitForURL(/program=\d+/), operator.page.getByRole('button', { name: 'Show messages' }).click()]);
      await fits(operator.page, operator.page.url(), 'phone-admin-notifications');
      const edit = await operator.page.locator('a[href^="/admin/notifications/messages/"]').first().getAttribute('href');
      await fits(operator.page, edit!, 'phone-admin-notification-edit');
    } finally {
      await operator.context.close();
    }
    await t.site.jobs.drain();
    const learner = await signedIn('lena', phone);
    try {
      await fits(learner.page, '/my/notifications', 'phone-notifications');
      expect(await learner.page.getByRole('heading', { level: 1 }).textContent()).to.equal('Notifications');
    } finally {
      await learner.context.close();
    }
  });

  it('fits the course pages and the generated rule form on a 390px phone and a desktop; choosing a source or an event swaps its form in place', async () => {
    for (const viewport of [{ width: 390, height: 800 }, DESKTOP]) {
      const { context, page } = await signedIn('operator', viewport);
      try {
        for (const [url, name] of [
          ['/admin/courses', 'courses'],
          ['/admin/courses/new', 'course-new'],
          [`/admin/courses/${s.courses.a}`, 'course-edit'],
          [`/admin/activities/${s.activities.quiz}`, 'activity-edit'],
          [`/admin/activities/${s.activities.welcome}/delete`, 'activity-delete'],
          ['/admin/plugins/enrol_program/settings', 'plugin-settings'],
          [`/admin/programs/${s.onboardingId}/assignments?source=profile`, 'assignments-profile'],
        ] as const) {
          const response = await page.goto(url);
          expect(response?.status(), url).to.equal(200);
          const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
          await shot(page, `${viewport.width}-${name}`);
          expect(overflow, `${url} at ${viewport.width}px`).to.be.at.most(0);
        }
      } finally {
        await context.close();
      }
    }
    const { context, page } = await signedIn('operator');
    try {
      await page.goto(`/admin/programs/${s.onboardingId}/assignments`);
      const before = page.url();
      // With JavaScript there is no "Next": choosing the source brings its generated form.
      expect(await page.getByRole('button', { name: 'Next' }).isVisible()).to.equal(false);
      await page.getByLabel('Assign', { exact: true }).selectOption({ label: 'Profile field value' });
      await page.getByLabel('Values').waitFor();
      expect(page.url()).to.equal(before);
      expect(await page.locator('input[name="rule.instanceId_q"]').count()).to.equal(1);
      // The event's own field appears when the event is chosen.
      await page.getByLabel('Within a time of an event').check();
      await page.getByLabel('of', { exact: true }).selectOption({ label: 'completion of course' });
      await page.locator('input[name="due.instanceId_q"]').waitFor();
      expect(await page.getByLabel('Values').count()).to.equal(1);
    } finally {
      await context.close();
    }
  });

  it('fits the reports, a program’s learners and the manager’s team on a 390px phone and a desktop, and downloads the CSV', async () => {
    // Mona manages Lena: the team page and its header link.
    const mona = await t.site.services.users.create({ username: 'mona', email: 'mona@example.com', fullname: 'Mona Manager', password: PASSWORD });
    const monaJob = await t.site.services.jobAssignments.create(mona.id, {});
    await t.site.services.jobAssignments.create(s.learnerId, { managerJobAssignmentId: monaJob.id });
    for (const viewport of [{ width: 390, height: 800 }, DESKTOP]) {
      const operator = await signedIn('operator', viewport);
      const manager = await signedIn('mona', viewport);
      try {
        for (const [who, url, name] of [
          [operator.page, '/admin/reports', 'reports'],
          [operator.page, '/admin/reports/program_completion', 'report-program-completion'],
          [operator.page, '/admin/reports/exceptions', 'report-exceptions'],
          [operator.page, `/admin/programs/${s.onboardingId}/learners`, 'program-learners'],
          [manager.page, '/my/team', 'team'],
          [manager.page, '/my/team/extension-requests', 'team-extension-requests'],
          [manager.page, `/users/${s.learnerId}/record-of-learning`, 'team-record-of-learning'],
        ] as const) {
          const response = await who.goto(url);
          expect(response?.status(), url).to.equal(200);
          const overflow = Number(await who.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
          await shot(who, `${viewport.width}-${name}`);
          expect(overflow, `${url} at ${viewport.width}px`).to.be.at.most(0);
        }
        expect(await manager.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My team' }).count()).to.equal(1);
        expect(await operator.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My team' }).count()).to.equal(0);
      } finally {
        await operator.context.close();
        await manager.context.close();
      }
    }
    // Filters by name, then the CSV of what is shown.
    const { context, page } = await signedIn('operator');
    try {
      await page.goto('/admin/reports/program_completion');
      // The program is picked by name: typed, then chosen from the suggestions.
      await page.getByLabel('Program', { exact: true }).pressSequentially('onboard');
      await page.getByRole('option', { name: /Onboarding/ }).click();
      await Promise.all([page.waitForURL(/programId=/), page.getByRole('button', { name: 'Show' }).click()]);
      expect(await page.locator('tbody tr').count()).to.be.above(0);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
      expect(download.suggestedFilename()).to.equal('program_completion.csv');
      const text = fs.readFileSync((await download.path())!, 'utf8');
      expect(text.split('\n')[0]).to.equal('Program id,Program,User id,Username,Learner,Status,Progress %,Due date,Overdue,Completed');
      expect(text).to.contain(NAMES.onboarding.includes(',') ? `"${NAMES.onboarding}"` : NAMES.onboarding);
    } finally {
      await context.close();
    }
  });

  it('fits a recurring program’s periods page and its edit form on a 390px phone and a desktop', async () => {
    const { courses, programs } = t.site.services;
    const course = await courses.create({ shortname: 'drill', fullname: 'Evacuation drill' });
    const hour = 3_600_000;
    const { program } = await programs.create({
      shortname: 'drill_p',
      fullname: 'Evacuation drill, every few hours',
      courseSets: [{ courseIds: [course.id], rule: 'all' }],
      recurrence: { period: 'PT2H', leadTime: 'PT1H', startsAt: new Date(Date.now() - hour).toISOString() },
    });
    // Two periods on, as the scheduled task would have it by then: two ended periods, one copy waiting.
    await programs.advanceRecurrence(Date.now() + 4.5 * hour);
    for (const viewport of [{ width: 390, height: 800 }, DESKTOP]) {
      const operator = await signedIn('operator', viewport);
      try {
        for (const [url, name] of [
          [`/admin/programs/${program.id}/periods`, 'program-periods'],
          [`/admin/programs/${program.id}/edit`, 'program-form-recurring'],
        ] as const) {
          const response = await operator.page.goto(url);
          expect(response?.status(), url).to.equal(200);
          const overflow = Number(await operator.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
          await shot(operator.page, `${viewport.width}-${name}`);
          expect(overflow, `${url} at ${viewport.width}px`).to.be.at.most(0);
        }
        await operator.page.goto(`/admin/programs/${program.id}/periods`);
        expect(await operator.page.locator('tbody tr').count()).to.equal(4);
        expect(await operator.page.getByText('Evacuation drill', { exact: false }).count()).to.be.above(0);
        await operator.page.goto(`/admin/programs/${program.id}/edit`);
        expect(await operator.page.getByLabel('Recurs every').inputValue()).to.equal('PT2H');
      } finally {
        await operator.context.close();
      }
    }
  });

  it('shows restricted activities greyed with why on a 390px phone, and fits the operator’s restriction pages', async () => {
    const phone = { width: 390, height: 780 };
    const { courses, enrolments } = t.site.services;
    const course = await courses.create({ shortname: 'restricted-tour', fullname: 'Restricted tour' });
    const quiz = await courses.addActivity(course.id, { type: 'quiz', name: 'Knowledge check', maxGrade: 100 });
    await courses.addActivity(course.id, {
      type: 'resource',
      name: 'Advanced material for those who scored well',
      availability: { op: '&', c: [{ type: 'grade', id: quiz.id, min: 81 }], showc: [true] },
    });
    await courses.addActivity(course.id, {
      type: 'resource',
      name: 'Ressources en français',
      availability: { op: '&', c: [{ type: 'profile', sf: 'lang', op: 'isequalto', v: 'fr' }], showc: [false] },
    });
    // A section whose tree every learner meets (a date long past): its editor is checked below.
    const keen = await courses.addSection(course.id, {
      name: 'Week 2 for the keen',
      availability: { op: '&', c: [{ type: 'date', d: '>=', t: '2020-01-01T00:00:00Z' }], showc: [true] },
    });
    await courses.addActivity(course.id, { type: 'resource', name: 'Extra reading', sectionId: keen.id });
    await enrolments.enrol(s.learnerId, course.id, 'manual');
    const overflow = async (page: Page) => Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));

    const learner = await signedIn('lena', phone);
    try {
      await learner.page.goto(`/courses/${course.id}`);
      const locked = learner.page.locator('li.is-locked');
      expect(await locked.count()).to.equal(1);
      expect(await locked.locator('.course-reason').textContent()).to.equal('Available if you score at least 81% in Knowledge check.');
      expect(await locked.locator('a').count(), 'a greyed activity has no link').to.equal(0);
      expect(await learner.page.getByText('Ressources en français').count(), 'hidden').to.equal(0);
      await shot(learner.page, 'phone-restricted-course');
      expect(await overflow(learner.page)).to.be.at.most(0);
    } finally {
      await learner.context.close();
    }

    const operator = await signedIn('operator', phone);
    try {
      await operator.page.goto('/admin/restrict_access');
      await operator.page.getByLabel('Course name').fill('Restricted tour');
      await Promise.all([operator.page.waitForURL(/search=/), operator.page.getByRole('button', { name: 'Find courses' }).click()]);
      await Promise.all([operator.page.waitForURL(/course=\d+/), operator.page.getByRole('link', { name: 'Restricted tour' }).click()]);
      expect(await overflow(operator.page)).to.be.at.most(0);
      await Promise.all([
        operator.page.waitForURL(/activities\/\d+/),
        operator.page.getByRole('link', { name: 'Advanced material for those who scored well' }).click(),
      ]);
      expect(await operator.page.locator('#matches').textContent()).to.contain('of 1 enrolled learners');
      await operator.page.locator('#ra-1-min').fill('0');
      await Promise.all([operator.page.waitForLoadState('load'), operator.page.getByRole('button', { name: 'Count who matches' }).click()]);
      expect(await operator.page.locator('#matches').textContent()).to.contain('With the restriction in the form');
      await shot(operator.page, 'phone-admin-restriction');
      expect(await overflow(operator.page)).to.be.at.most(0);
      await operator.page.goto(`/admin/restrict_access?course=${course.id}`);
      await Promise.all([operator.page.waitForURL(/sections\/\d+/), operator.page.getByRole('link', { name: 'Week 2 for the keen' }).click()]);
      expect(await operator.page.locator('#matches').textContent()).to.contain('of 1 enrolled learners, 1 can open it');
      await shot(operator.page, 'phone-admin-section-restriction');
      expect(await overflow(operator.page)).to.be.at.most(0);
    } finally {
      await operator.context.close();
    }
  });

  it('lets an operator switch to the high-contrast theme, which learners see at once', async () => {
    const { context, page } = await signedIn('operator');
    try {
      await page.goto('/admin/theme');
      await page.getByLabel('high-contrast').check();
      await Promise.all([page.waitForURL(/notice=theme-saved/), page.getByRole('button', { name: 'Use this theme' }).click()]);
      await shot(page, 'admin-theme');
      const learner = await signedIn('lena');
      try {
        await learner.page.goto('/my/required-learning');
        expect(await learner.page.locator('.due.overdue').first().textContent()).to.contain('⚠ Overdue');
        await shot(learner.page, 'high-contrast-required-learning');
        await learner.page.goto(`/programs/${s.onboardingId}`);
        await shot(learner.page, 'high-contrast-program');
      } finally {
        await learner.context.close();
      }
    } finally {
      await t.site.db.knex('site_config').where({ name: 'theme' }).del();
      t.site.themes.setTheme('default');
      await context.close();
    }
  });
});
