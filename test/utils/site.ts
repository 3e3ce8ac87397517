import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { createSite, type Site } from '../../core/site';
import type { SiteConfig } from '../../core/kernel/config';
import { createTestDatabase, type TestDatabase } from './db';

/** A logger that records nothing to the console (tests assert on behaviour, not log lines). */
export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}

export interface TestSite {
  site: Site;
  database: TestDatabase;
  /** Stops the site and drops its database. */
  close(): Promise<void>;
}

/**
 * A started site on a fresh database of the dialect under test. `pluginsDir` defaults to an empty
 * folder so core tests are not coupled to shipped plugins; pass `config.pluginsDir` to load some.
 */
export async function createTestSite(config: Partial<SiteConfig> = {}): Promise<TestSite> {
  const database = await createTestDatabase();
  const emptyPlugins = config.pluginsDir ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-noplugins-'));
  const site = createSite({
    config: { databaseUrl: database.url, pluginsDir: emptyPlugins ?? config.pluginsDir, pluginPollMs: 50, ...config },
    logger: silentLogger(),
  });
  await site.start();
  return {
    site,
    database,
    async close() {
      await site.stop();
      await database.drop();
      if (emptyPlugins) fs.rmSync(emptyPlugins, { recursive: true, force: true });
    },
  };
}
