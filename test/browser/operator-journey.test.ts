/**
 * Issue 14, "Must show" 1: an operator signed in through the login form builds a program for a team
 * with the administration pages only, never typing an id. Every choice is made by name, either from
 * the type-ahead's suggestions or by submitting the typed name and choosing among the candidates.
 *
 * The journey runs at 1280 px. Every page on the way is then opened again at 390 px and must not
 * scroll sideways. No form on the way may have a visible box whose label asks for an id.
 * Screenshots go to test/browser/screenshots/journey/ (gitignored).
 */
import path from 'node:path';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import type { BrowserContext, Page } from 'playwright-core';
import { SCREENSHOTS, signInAs, startBrowserSite, type BrowserSite } from './harness';

const SHOTS = path.join(SCREENSHOTS, 'journey');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'journey horse battery';

/** The label of every visible form control (inputs, selects, text areas), as a screen reader names it. */
const CONTROL_LABELS = `(() => {
  const seen = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && getComputedStyle(el).visibility !== 'hidden';
  };
  const labelOf = (el) => {
    const parts = [];
    if (el.labels) for (const l of el.labels) parts.push(l.textContent);
    if (el.getAttribute('aria-label')) parts.push(el.getAttribute('aria-label'));
    const by = el.getAttribute('aria-labelledby');
    if (by) for (const id of by.split(/\\s+/)) parts.push(document.getElementById(id)?.textContent ?? '');
    if (el.placeholder) parts.push(el.placeholder);
    return parts.join(' ').replace(/\\s+/g, ' ').trim();
  };
  return [...document.querySelectorAll('form input:not([type=hidden]), form select, form textarea')]
    .filter((el) => seen(el) && el.type !== 'submit' && el.type !== 'button')
    .map((el) => ({ name: el.name, label: labelOf(el) }));
})()`;

describe('browser: the operator journey, by name only (issue 14)', function () {
  this.timeout(300_000);
  let site: BrowserSite | undefined;
  let context: BrowserContext | undefined;
  let shots = 0;
  const ids = { priya: 0, marco: 0 };

  before(async () => {
    site = await startBrowserSite('browser-journey-secret-0123456789', async (t) => {
      const { users, courses } = t.site.services;
      const person = async (username: string, fullname: string, isAdmin = false) =>
        (await users.create({ username, email: `${username}@example.com`, fullname, password: PASSWORD, isAdmin })).id;
      await person('olive', 'Olive Operator', true);
      ids.priya = await person('priya', 'Priya Patel');
      ids.marco = await person('marco', 'Marco Rossi');
      // A namesake, so that "Marco" needs a choice among candidates.
      await person('marcob', 'Marco Bianchi');
      await person('wendy', 'Wendy Warehouse');
      // Priya has used the site before; Marco never has.
      await users.recordLogin(ids.priya);
      // The catalogue already has a course for the second set.
      const height = await courses.create({ shortname: 'HEIGHT', fullname: 'Working at height' });
      await courses.addActivity(height.id, { type: 'page', name: 'Ladders and scaffolds', completionTracked: true });
    });
  });

  after(async () => {
    await context?.close();
    await site?.close();
  });

  const signIn = (page: Page, username: string) => signInAs(page, username, PASSWORD);

  /**
   * Screenshots the page at 1280 px and at 390 px (the same page, state and all: the viewport is
   * narrowed and widened again) and checks that it does not scroll sideways on the phone and that
   * none of its form boxes asks for an id.
   */
  async function look(page: Page, name: string): Promise<void> {
    const url = new URL(page.url());
    const shot = `${String(++shots).padStart(2, '0')}-${name}.png`;
    await page.screenshot({ path: path.join(SHOTS, `desktop-${shot}`), fullPage: true });
    const controls = (await page.evaluate(CONTROL_LABELS)) as Array<{ name: string; label: string }>;
    for (const control of controls) {
      expect(control.label, `${url.pathname}: the box ${control.name} has no label`).to.not.equal('');
      expect(control.label, `${url.pathname}: the box ${control.name} asks for an id`).to.not.match(/\bids?\b/i);
    }
    await page.setViewportSize(PHONE);
    try {
      // Two frames: the page is laid out again at the new width before it is measured.
      await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
      await page.screenshot({ path: path.join(SHOTS, `phone-${shot}`), fullPage: true });
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      expect(overflow, `${url.pathname}${url.search} scrolls sideways at 390 px`).to.be.at.most(0);
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  }

  /** Types the start of a name and takes the type-ahead's suggestion (a real click). */
  async function suggest(page: Page, label: string | RegExp, typed: string, choice: string | RegExp): Promise<void> {
    const box = page.getByLabel(label);
    await box.pressSequentially(typed);
    await page.getByRole('option', { name: choice }).click();
  }

  /** Submits with a button and waits for the next page. */
  async function press(page: Page, button: string | RegExp): Promise<void> {
    await Promise.all([page.waitForEvent('framenavigated'), page.getByRole('button', { name: button, exact: typeof button === 'string' }).click()]);
    await page.waitForLoadState();
  }

  it('creates a course, an audience, a program with two sets and an audience rule due after first login, by name only', async () => {
    context = await site!.browser.newContext({ viewport: DESKTOP, baseURL: site!.base });
    const page = await context.newPage();
    await signIn(page, 'olive');

    // A course with an activity.
    await page.getByRole('link', { name: 'Administration' }).click();
    await look(page, 'admin');
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Courses' }).click();
    await look(page, 'courses');
    await page.getByRole('link', { name: 'Create a course' }).click();
    await look(page, 'course-new');
    await page.getByLabel('Full name').fill('Fire safety essentials');
    await page.getByLabel('Short name').fill('FIRE101');
    await press(page, 'Create course');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Fire safety essentials');
    await look(page, 'course');
    const addActivity = page.locator('form', { has: page.getByRole('button', { name: 'Add activity' }) });
    await addActivity.getByLabel('Kind').selectOption({ label: 'Page' });
    await addActivity.getByLabel('Name', { exact: true }).fill('Evacuation routes');
    await addActivity.getByLabel('Track completion').check();
    await press(page, 'Add activity');
    expect(await page.locator('#activities ~ .table-scroll table').textContent()).to.contain('Evacuation routes');
    await look(page, 'course-with-activity');

    // A static audience, its members found by name.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Audiences' }).click();
    await look(page, 'audiences');
    await page.getByLabel('Name', { exact: true }).fill('Warehouse team');
    await press(page, 'Create');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Warehouse team');
    await look(page, 'audience');
    // Priya from the type-ahead.
    await suggest(page, 'Person (name or email)', 'pri', /Priya Patel/);
    await press(page, 'Add');
    expect(await page.getByRole('table').textContent()).to.contain('Priya Patel');
    // Marco by submitting the typed name: two people match, and the operator chooses one.
    await page.getByLabel('Person (name or email)').fill('Marco');
    await press(page, 'Add');
    await look(page, 'audience-candidates');
    expect(await page.locator('.pick .field-error').textContent()).to.equal('Person: 2 users match “Marco”: choose one');
    await page.getByRole('radio', { name: /Marco Rossi/ }).check();
    await press(page, 'Add');
    const members = await page.locator('table tbody th').allTextContents();
    expect(members.map((m) => m.trim()).sort()).to.deep.equal(['Marco Rossi', 'Priya Patel']);
    await look(page, 'audience-members');

    // A program of two course sets, courses added by name.
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Programs' }).click();
    await look(page, 'programs');
    await page.getByRole('link', { name: 'Create a program' }).click();
    await look(page, 'program-new');
    await page.getByLabel('Full name').fill('Warehouse induction');
    await page.getByLabel('Short name').fill('WH-IND');
    const set1 = page.locator('fieldset#set0');
    await set1.getByLabel('Label').fill('Safety first');
    await set1.getByLabel('Add a course').pressSequentially('fire');
    await page.getByRole('option', { name: /Fire safety essentials/ }).click();
    await Promise.all([page.waitForEvent('framenavigated'), set1.getByRole('button', { name: 'Add', exact: true }).click()]);
    await page.waitForLoadState();
    expect(await page.locator('fieldset#set0 .chosen-courses').textContent()).to.contain('Fire safety essentials');
    await press(page, 'Add a course set');
    await look(page, 'program-two-sets');
    const set2 = page.locator('fieldset#set1');
    await set2.getByLabel('Label').fill('On the floor');
    // Typed and submitted without a suggestion: one course matches, so it is taken.
    await set2.getByLabel('Add a course').fill('Working at');
    await Promise.all([page.waitForEvent('framenavigated'), set2.getByRole('button', { name: 'Add', exact: true }).click()]);
    await page.waitForLoadState();
    expect(await page.locator('fieldset#set1 .chosen-courses').textContent()).to.contain('Working at height');
    await press(page, 'Save program');
    expect(new URL(page.url()).searchParams.get('notice')).to.equal('program-created');
    await look(page, 'program-saved');
    expect(await page.locator('fieldset#set0 .chosen-courses').textContent()).to.contain('Fire safety essentials');
    expect(await page.locator('fieldset#set1 .chosen-courses').textContent()).to.contain('Working at height');

    // The audience rule, due within a month of first login.
    await page.getByRole('link', { name: 'Assignments' }).first().click();
    await look(page, 'assignments');
    // With JavaScript, choosing who to assign brings that source's generated form in place.
    await page.getByLabel('Assign', { exact: true }).selectOption({ label: 'Audience' });
    await page.locator('#rule-form').waitFor();
    await look(page, 'rule-form');
    const rule = page.locator('#rule-form');
    await rule.getByLabel('Audience').pressSequentially('ware');
    await page.getByRole('option', { name: /Warehouse team/ }).click();
    await rule.getByLabel('Within a time of an event').check();
    await rule.getByLabel('Within', { exact: true }).fill('P1M');
    // Choosing the event brings its fields (none for first login) in place, keeping what was filled in.
    await page.evaluate("document.querySelector('#rule-form').dataset.before = '1'");
    await rule.getByLabel('of', { exact: true }).selectOption({ label: 'first login' });
    await page.waitForFunction("document.querySelector('#rule-form') && !document.querySelector('#rule-form').dataset.before");
    await look(page, 'rule-form-event');
    expect(await page.locator('#rule-form').getByLabel('Audience').inputValue()).to.equal('Warehouse team');
    await press(page, 'Add rule');
    expect(new URL(page.url()).searchParams.get('notice')).to.equal('rule-added');
    const rules = await page.locator('table tbody th').allTextContents();
    expect(rules).to.have.length(1);
    expect(rules[0]).to.contain('Members of audience Warehouse team, due within 1 month of first login');
    expect(await page.locator('table tbody th .muted').textContent(), 'the source, by its name').to.equal('Audience');
    await look(page, 'assignments-with-rule');

    // The background sync assigns the members; Priya (signed in before) is assigned with a due date,
    // Marco once he first signs in.
    await site!.t.site.jobs.drain();
    await page.reload();
    expect(await page.locator('table tbody td[data-label="Learners"]').textContent()).to.equal('2');
    await page.getByRole('link', { name: 'Warehouse induction' }).first().click();
    await page.getByRole('link', { name: 'Learners' }).first().click();
    await look(page, 'learners');
    const learners = page.getByRole('table');
    expect(await learners.locator('tbody th').allTextContents()).to.have.length(1);
    expect(await learners.locator('tbody th').first().textContent()).to.contain('Priya Patel');
    expect(await learners.locator('tbody td[data-label="Due"] time').count()).to.equal(1);
    expect(await page.locator('.waiting').textContent()).to.match(/1 more learner .* first sign in/);
    // The way back to the rules is a link, not an id in the address bar.
    await page.getByRole('link', { name: 'Assignments', exact: true }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Assignments');
    await page.getByRole('link', { name: 'Warehouse induction' }).first().click();
    await page.getByRole('link', { name: 'Learners', exact: true }).click();
  });

  it('shows the program with its due date on Required Learning when a member first signs in', async () => {
    const learner = await site!.browser.newContext({ viewport: DESKTOP, baseURL: site!.base });
    try {
      const page = await learner.newPage();
      await signIn(page, 'marco');
      await page.getByRole('link', { name: 'Required Learning' }).click();
      const card = page.locator('.program-item', { hasText: 'Warehouse induction' });
      await card.waitFor();
      const due = card.locator('.due time');
      const firstLogin = (await site!.t.site.services.users.get(ids.marco)).firstLoginAt!;
      const expected = DateTime.fromMillis(firstLogin, { zone: 'utc' }).plus({ months: 1 });
      expect(DateTime.fromISO((await due.getAttribute('datetime'))!, { zone: 'utc' }).toMillis()).to.equal(expected.toMillis());
      expect(await card.locator('.due').textContent()).to.match(/^Due /);
      await look(page, 'learner-required-learning');
    } finally {
      await learner.close();
    }

    // The operator now sees both members on the learners page.
    const page = context!.pages()[0]!;
    await page.reload();
    const names = (await page.locator('table tbody th a').allTextContents()).sort();
    expect(names).to.deep.equal(['Marco Rossi', 'Priya Patel']);
    expect(await page.locator('tbody td[data-label="Due"] time').count()).to.equal(2);
    expect(await page.locator('.waiting').count(), 'nobody is waiting any more').to.equal(0);
  });
});
