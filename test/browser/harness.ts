/**
 * What every browser suite needs: the app on a fresh database with the real plugins folder, served
 * on 127.0.0.1 (ephemeral port), and Debian's Chromium driven by playwright-core.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../core/kernel/http/app';
import { projectRoot } from '../../core/kernel/config';
import { createTestSite, type TestSite } from '../utils/site';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots go under test/browser/screenshots/ (gitignored). */
export const SCREENSHOTS = path.join(projectRoot, 'test', 'browser', 'screenshots');

export interface BrowserSite {
  t: TestSite;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the site, lets `seed` fill it before the first request, serves it and starts Chromium. */
export async function startBrowserSite(sessionSecret: string, seed: (t: TestSite) => Promise<void>): Promise<BrowserSite> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret });
  let server: Server | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await t.close();
  };
  try {
    await seed(t);
    const app = createApp(t.site);
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    return { t, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, browser, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Signs in through the real login form, as a person would. */
export async function signInAs(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.getByRole('button', { name: /log in/i }).click()]);
}
