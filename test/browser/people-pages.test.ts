/**
 * The people console in a real browser (Chromium at /usr/bin/chromium, like pages.test.ts): the
 * pick-by-name type-ahead, and every people page on a 390 px phone and a 1280 px desktop without
 * sideways scrolling. Screenshots go to test/browser/screenshots/ (gitignored).
 */
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestSite } from '../utils/site';
import { SCREENSHOTS as SHOTS, signInAs, startBrowserSite, type BrowserSite } from './harness';
import { PASSWORD, seedScenario, type Scenario } from './scenario';
import { LearningPlans } from '../../plugins/tool_learningplan/plans';

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 800 };

describe('browser: the people console', function () {
  this.timeout(120_000);
  let site: BrowserSite | undefined;
  let t: TestSite;
  let s: Scenario;
  let base: string;
  let browser: Browser;
  let staticId: number;
  let orgId: number;

  before(async function () {
    site = await startBrowserSite('browser-people-secret-0123456789', async (built) => {
      s = await seedScenario(built.site);
      staticId = (await built.site.services.audiences.create({ name: 'Hand-picked people with a rather long audience name' })).id;
      const sales = await built.site.services.hierarchy.create('organisation', { name: 'Sales and business development worldwide' });
      orgId = (await built.site.services.hierarchy.create('organisation', { name: 'Europe, the Middle East and Africa', parentId: sales.id })).id;
      await built.site.services.jobAssignments.create(s.otherId, { organisationId: orgId });
      // A learning plan with a program whose name is long, for the plan page's table on a phone.
      const { program } = await built.site.services.programs.create({
        shortname: 'LEADPATH',
        fullname: 'Leadership pathway for team leaders in customer operations',
        courseSets: [{ courseIds: [s.courses.a], rule: 'all' }],
      });
      await new LearningPlans(built.site.db).add(s.otherId, program.id, null);
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

  const overflow = async (page: Page): Promise<number> =>
    Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));

  it('adds a static audience member picked from the type-ahead, with the keyboard', async () => {
    const { context, page } = await signedIn('operator');
    try {
      await page.goto(`/admin/audiences/${staticId}`);
      const box = page.getByLabel('Person (name or email)');
      await box.pressSequentially('ott');
      await page.getByRole('option', { name: /Otto Other/ }).waitFor();
      await box.press('ArrowDown');
      await box.press('Enter');
      expect(await box.inputValue()).to.equal('Otto Other');
      await Promise.all([page.waitForURL(/notice=member-added/), page.getByRole('button', { name: 'Add', exact: true }).click()]);
      expect(await t.site.services.audiences.isMember(staticId, s.otherId)).to.equal(true);
      expect(await page.getByRole('table').textContent()).to.contain('Otto Other');
    } finally {
      await context.close();
    }
  });

  it('filters the user list by an audience chosen from the type-ahead (a GET form)', async () => {
    const club = await t.site.services.audiences.create({ name: 'Chess club' });
    await t.site.services.audiences.addMember(club.id, s.learnerId);
    const { context, page } = await signedIn('operator');
    try {
      await page.goto('/admin/users');
      await page.getByLabel('Audience').pressSequentially('che');
      await page.getByRole('option', { name: /Chess club/ }).click();
      await Promise.all([page.waitForURL(/audience=/), page.getByRole('button', { name: 'Show' }).click()]);
      expect(new URL(page.url()).searchParams.get('audience')).to.equal(String(club.id));
      expect(await page.locator('tbody th').allTextContents()).to.deep.equal(['Lena Learner']);
      expect(await page.getByLabel('Audience').inputValue()).to.equal('Chess club');
    } finally {
      await context.close();
    }
  });

  it('builds a dynamic audience whose course is picked from the type-ahead of its condition row', async () => {
    const { context, page } = await signedIn('operator');
    try {
      await page.goto('/admin/audiences/new');
      await page.getByLabel('Name', { exact: true }).fill('Customer care graduates');
      await page.getByLabel('Condition', { exact: true }).selectOption({ label: 'Completed course …' });
      // The row's box now searches courses.
      await page.getByLabel('Which one (for a condition ending in …)').pressSequentially('cust');
      await page.getByRole('option', { name: /Customer care/ }).click();
      await Promise.all([page.waitForURL(/notice=audience-saved/), page.getByRole('button', { name: 'Save' }).click()]);
      const saved = (await t.site.db.knex('audiences').where({ name: 'Customer care graduates' }).first()) as { rules: string };
      expect(JSON.parse(saved.rules)).to.deep.equal([{ type: 'course_completed', courseId: s.courses.b }]);
    } finally {
      await context.close();
    }
  });

  it('follows a background job on its page as it runs, without reloading the page', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    t.site.jobs.registrarFor('core').define({
      name: 'core.test_gated',
      handler: async (job) => {
        await job.progress(1, 2, 'halfway');
        await gate;
        return { finished: true };
      },
    });
    const jobId = await t.site.jobs.enqueue('core.test_gated');
    const { context, page } = await signedIn('operator', PHONE);
    let draining: Promise<unknown> | undefined;
    try {
      await page.goto(`/admin/jobs/${jobId}`);
      await page.getByText('Waiting to start').waitFor();
      await page.evaluate('window.stillTheSamePage = true');
      draining = t.site.jobs.drain();
      await page.getByText('1 of 2 · halfway').waitFor();
      release();
      await draining;
      await page.getByText('Done', { exact: true }).waitFor();
      expect(await page.getByRole('link', { name: 'Check again' }).count()).to.equal(0);
      expect(await page.evaluate('window.stillTheSamePage')).to.equal(true);
    } finally {
      release();
      await draining;
      await context.close();
    }
  });

  for (const [name, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`fits the people pages on a ${name} (${viewport.width}px) without sideways scrolling`, async () => {
      const { context, page } = await signedIn('operator', viewport);
      try {
        const urls: Array<[string, string]> = [
          ['users', '/admin/users'],
          ['users-filtered', '/admin/users?audience_q=zzz&organisation_q=e'],
          ['user', `/admin/users/${s.otherId}`],
          ['user-new', '/admin/users/new'],
          ['organisations', '/admin/organisations'],
          ['organisation', `/admin/organisations/${orgId}`],
          ['organisation-holders', `/admin/organisations/${orgId}?show=holders`],
          ['positions', '/admin/positions'],
          ['audience-static', `/admin/audiences/${staticId}`],
          ['user-learning-plan', `/admin/users/${s.otherId}/learning-plan`],
        ];
        for (const [shotName, url] of urls) {
          await page.goto(url);
          await page.screenshot({ path: path.join(SHOTS, `${name}-admin-${shotName}.png`), fullPage: true });
          expect(await overflow(page), `${url} scrolls sideways`).to.be.at.most(0);
        }
      } finally {
        await context.close();
      }
    });
  }
});
