/**
 * Every operator page in a real browser, at a 390 px phone and a 1280 px desktop, on the demo site
 * (db/seed/demo.ts, with the real plugins folder). The test does not keep a list of pages: it starts
 * at /admin and follows every link that stays under /admin, so a page added tomorrow is checked
 * tomorrow. One page of each route shape is visited (numbers in the path and the query string are
 * ignored), and each is screenshot into test/browser/screenshots/console/ (gitignored).
 *
 * A page fails when it does not answer 2xx, when it scrolls sideways, or when a heading, a table
 * header, a label or a button breaks a word across two lines.
 */
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { seedDemoSite } from '../../db/seed/demo';
import { SCREENSHOTS, signInAs, startBrowserSite, type BrowserSite } from './harness';

const SHOTS = path.join(SCREENSHOTS, 'console');
const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } } as const;
/** Far more than the console has; a bound so a link loop cannot run the test forever. */
const MAX_PAGES = 150;
/** Links that download, delete or leave: not pages to look at. */
const SKIP = /(\.csv$|\/export|\/delete|\/logout|\/download)/;

/** "/admin/programs/12/learners?cursor=x" -> "/admin/programs/:n/learners": one visit per route shape. */
const shapeOf = (url: URL) => url.pathname.replace(/\/\d+(?=\/|$)/g, '/:n');

/** Words of headings, table headers, labels and buttons that the browser split over two lines. */
const BROKEN_WORDS = `(() => {
  const broken = [];
  // Not shown, or shown to screen readers only (a 1px clipped box, like a phone table's headers).
  const unseen = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const box = at.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('h1, h2, h3, th, label, button, nav a, dt, summary')) {
    if (unseen(el)) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // A break at a hyphen or a slash is a break between words.
      const words = /[^\\s\\-\\/\\u2010-\\u2014]+/g;
      for (let m = words.exec(node.textContent); m; m = words.exec(node.textContent)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(el.tagName.toLowerCase() + ' "' + m[0] + '"');
      }
    }
  }
  return broken;
})()`;

describe('browser: every operator page at 390 px and 1280 px', function () {
  this.timeout(600_000);
  let site: BrowserSite | undefined;
  let base: string;
  let browser: Browser;
  let admin: { username: string; password: string };

  before(async function () {
    site = await startBrowserSite('browser-console-secret-0123456789', async (t) => {
      admin = (await seedDemoSite(t.site)).logins.find((l) => l.role === 'admin')!;
    });
    ({ base, browser } = site);
  });

  after(async () => site?.close());

  const signIn = (page: Page) => signInAs(page, admin.username, admin.password);

  /** Visits every route shape reachable from /admin; returns what was wrong, page by page. */
  async function crawl(page: Page, width: keyof typeof WIDTHS): Promise<{ visited: string[]; problems: string[] }> {
    const queue = ['/admin'];
    const shapes = new Set<string>([shapeOf(new URL('/admin', base))]);
    const visited: string[] = [];
    const problems: string[] = [];
    while (queue.length && visited.length < MAX_PAGES) {
      const href = queue.shift()!;
      const response = await page.goto(href);
      visited.push(href);
      const status = response?.status() ?? 0;
      if (status < 200 || status >= 300) {
        problems.push(`${href}: answered ${status}`);
        continue;
      }
      const name = `${width}${shapeOf(new URL(href, base)).replace(/[/:]+/g, '-')}`;
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
      if (overflow > 0) problems.push(`${href}: scrolls sideways by ${overflow}px`);
      const broken = (await page.evaluate(BROKEN_WORDS)) as string[];
      if (broken.length) problems.push(`${href}: breaks words: ${[...new Set(broken)].slice(0, 5).join(', ')}`);

      const links = (await page.evaluate('[...document.querySelectorAll("a[href]")].map((a) => a.href)')) as string[];
      for (const link of links) {
        const url = new URL(link, base);
        if (url.origin !== base || !url.pathname.startsWith('/admin') || SKIP.test(url.pathname)) continue;
        const shape = shapeOf(url);
        if (shapes.has(shape)) continue;
        shapes.add(shape);
        queue.push(url.pathname + url.search);
      }
    }
    return { visited, problems };
  }

  for (const width of Object.keys(WIDTHS) as Array<keyof typeof WIDTHS>) {
    it(`fits every operator page reachable from /admin on a ${WIDTHS[width].width} px screen`, async () => {
      const context = await browser.newContext({ viewport: WIDTHS[width], baseURL: base });
      try {
        const page = await context.newPage();
        await signIn(page);
        const { visited, problems } = await crawl(page, width);
        // The console's sections are all reachable from its front page (a floor, not a list to keep).
        for (const section of ['/admin/programs', '/admin/audiences', '/admin/reports', '/admin/exceptions', '/admin/plugins', '/admin/notifications'])
          expect(visited, section).to.include(section);
        expect(visited.length, 'pages visited').to.be.below(MAX_PAGES);
        expect(problems, problems.join('\n')).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  }
});
