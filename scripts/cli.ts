/**
 * The `waymark` command line: migrations, servers, workers, cron, plugins, users and tokens.
 * Run as `npx waymark ...` (bin) or `tsx scripts/cli.ts ...`.
 */
import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { createSite, type Site } from '../core/site';
import { createLogger } from '../core/kernel/logging';
import { WaymarkError } from '../core/kernel/errors';
import { parseDateInput } from '../core/kernel/dates';
import { apiTokensPage, issueApiToken, parseTokenExpiry, revokeApiTokenById, TOKENS_NEWEST, type ApiTokenInfo } from '../core/kernel/auth/tokens';
import { decodeCursor } from '../core/kernel/db/keyset';
import { parseId } from '../core/kernel/http/contract';
import { serve } from './cli/serve';
import { createProgress } from './cli/progress';
import { printTable } from './cli/table';
import { seedDemoSite } from '../db/seed/demo';
import { scaffoldPlugin } from './cli/new-plugin';
import { parseJobListQuery } from '../core/kernel/jobs/list-query';
import { describeCliError } from './cli/errors';

const program = new Command('waymark').description('Waymark learning programs engine').showHelpAfterError();

const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};

/** Runs `work` against a started site (plugins registered, not serving) and always closes it. */
async function withSite<T>(work: (site: Site) => Promise<T>, options: { start?: boolean } = {}): Promise<T> {
  // One-shot commands print results, not the boot log; LOG_LEVEL still overrides.
  const site = createSite({ logger: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }) });
  try {
    if (options.start ?? true) await site.start();
    return await work(site);
  } finally {
    await site.stop();
  }
}

program
  .command('migrate')
  .description('apply core and plugin migrations')
  .action(() =>
    withSite(
      async (site) => {
        const report = await site.migrate();
        const applied = [...report.core.map((name) => `  core: ${name}`), ...report.plugins.flatMap((p) => p.applied.map((name) => `  ${p.id}: ${name}`))];
        if (applied.length) console.log(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:\n${applied.join('\n')}`);
        else console.log('Nothing to apply.');
        console.log('Database is up to date.');
      },
      { start: false },
    ),
  );

program
  .command('serve')
  .description('run the web server')
  .option('--workers <n>', 'web processes (node:cluster)', integer, 1)
  .option('--port <port>', 'port (default $PORT or 3000)', integer)
  .option('--no-jobs', 'do not run background jobs in the web processes')
  .option('--no-cron', 'do not tick scheduled tasks in the web processes')
  .action(async (opts: { workers: number; port?: number; jobs: boolean; cron: boolean }) => {
    await serve({ port: opts.port ?? Number(process.env.PORT ?? 3000), workers: Math.max(1, opts.workers), jobs: opts.jobs, cron: opts.cron });
  });

program
  .command('start')
  .description('the demo: migrate, seed a demo site on first run, serve on $PORT (default 3000)')
  .action(async () => {
    await serve({
      port: Number(process.env.PORT ?? 3000),
      workers: 1,
      jobs: true,
      cron: true,
      async onListening(url, site) {
        const seeded = await seedDemoSite(site);
        console.log(`\nWaymark is running at ${url}`);
        if (seeded.created) console.log('A demo site was created.');
        console.log('Demo logins:');
        for (const login of seeded.logins) console.log(`  ${login.role.padEnd(9)} ${login.username} / ${login.password}`);
        console.log('');
      },
    });
  });

program
  .command('worker')
  .description('run background jobs until stopped')
  .option('--concurrency <n>', 'jobs at once in this process', integer, 2)
  .action(async (opts: { concurrency: number }) => {
    const site = createSite({ watchPlugins: true });
    await site.start();
    site.jobs.startWorker({ concurrency: opts.concurrency, workerId: `worker-${process.pid}` });
    site.logger.info('worker started', { pid: process.pid, concurrency: opts.concurrency });
    const shutdown = async () => {
      await site.stop();
      process.exit(0);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

program
  .command('cron')
  .description('run due scheduled tasks once and drain the jobs they queue')
  .option('--now [when]', 'pretend the time is this date-time (2026-12-31T09:00, read in WAYMARK_TIMEZONE without an offset) or date (its end); no value: now')
  .action((opts: { now?: string | true }) =>
    withSite(async (site) => {
      const now = typeof opts.now === 'string' ? new Date(parseDateInput(opts.now, { field: '--now', zone: site.config.timezone })) : new Date();
      if (typeof opts.now === 'string') {
        // "As if the time were --now" for the whole run: the jobs the schedules queue read the
        // site clock (db.now()), e.g. to find which reminders are due, so it moves with them.
        const skew = now.getTime() - Date.now();
        const clock = site.db.now.bind(site.db);
        site.db.now = () => clock() + skew;
      }
      const queued = await site.jobs.runDueSchedules(now);
      console.log(queued.length ? `Queued: ${queued.join(', ')}` : 'No scheduled task is due.');
      const progress = createProgress('jobs');
      const result = await site.jobs.drain({ onProgress: (done, total) => progress.update(done, total) });
      progress.stop();
      console.log(`Jobs done: ${result.done}, dead: ${result.dead}`);
    }),
  );

const plugins = program.command('plugins').description('list, enable and disable plugins');
plugins
  .command('list')
  .option('--json', 'machine-readable output')
  .action((opts: { json?: boolean }) =>
    withSite(async (site) => {
      const list = await site.plugins.list();
      if (opts.json) return console.log(JSON.stringify(list, null, 2));
      printTable(
        list.map((p) => ({ id: p.id, version: p.version ?? '', state: p.state, error: p.errorCode ? `${p.errorCode}: ${p.errorMessage ?? ''}` : '' })),
      );
    }),
  );
for (const action of ['enable', 'disable'] as const) {
  plugins
    .command(`${action} <id>`)
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { json?: boolean }) =>
      withSite(async (site) => {
        const info = await site.plugins[action](id);
        if (opts.json) return console.log(JSON.stringify(info, null, 2));
        console.log(`${info.id}: ${info.state}${info.errorCode ? ` (${info.errorCode})` : ''}`);
      }),
    );
}
plugins
  .command('uninstall <id>')
  .description('disable the plugin and drop its tables')
  .action((id: string) =>
    withSite(async (site) => {
      await site.plugins.uninstall(id);
      console.log(`${id}: uninstalled`);
    }),
  );

const jobs = program.command('jobs').description('inspect background jobs and retry dead ones');
jobs
  .command('list')
  .description('jobs newest first (all states unless --state)')
  .option('--state <state>', 'queued, running, done or dead')
  .option('--limit <n>', 'at most this many (1-200)', integer, 50)
  .option('--json', 'machine-readable output')
  .action((opts: { state?: string; limit: number; json?: boolean }) =>
    withSite(
      async (site) => {
        const page = await site.jobs.list(parseJobListQuery({ ...(opts.state === undefined ? {} : { state: opts.state }), limit: String(opts.limit) }));
        if (opts.json) return console.log(JSON.stringify(page.items, null, 2));
        printTable(
          page.items.map((j) => ({
            id: String(j.id),
            name: j.name,
            state: j.state,
            attempts: `${j.attempts}/${j.maxAttempts}`,
            finished: j.finishedAt ?? '',
            error: (j.lastError ?? '').split('\n')[0]!.slice(0, 80),
          })),
        );
        if (page.nextCursor) console.log(`(more: showing the newest ${page.items.length})`);
      },
      { start: false },
    ),
  );
jobs
  .command('retry <id>')
  .description('put a dead job back in the queue with fresh attempts')
  .option('--json', 'machine-readable output')
  .action((id: string, opts: { json?: boolean }) =>
    withSite(
      async (site) => {
        if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new WaymarkError('NOT_FOUND', `Job ${id} not found`, 404);
        const status = await site.jobs.retry(Number(id));
        if (opts.json) return console.log(JSON.stringify(status, null, 2));
        console.log(`job ${status.id} (${status.name}): ${status.state}`);
      },
      { start: false },
    ),
  );

program
  .command('plugin')
  .description('plugin development helpers')
  .command('new <id>')
  .description('scaffold plugins/<id> so it passes the contract suite unchanged')
  .action(async (id: string) => {
    const dir = await scaffoldPlugin(id);
    console.log(`Created ${dir}`);
  });

const user = program.command('user').description('manage users');
user
  .command('create <username>')
  .requiredOption('--password <password>', 'initial password')
  .option('--admin', 'grant the site administrator capability')
  .option('--email <email>', 'email address')
  .option('--fullname <name>', 'full name')
  .action((username: string, opts: { password: string; admin?: boolean; email?: string; fullname?: string }) =>
    withSite(async (site) => {
      const created = await site.services.users.create({
        username,
        password: opts.password,
        email: opts.email ?? `${username}@example.invalid`,
        fullname: opts.fullname ?? username,
        isAdmin: opts.admin ?? false,
      });
      console.log(`Created user ${created.username} (id ${created.id})${opts.admin ? ' with site admin' : ''}`);
    }),
  );

const token = program.command('token').description('API tokens');
const findUser = async (site: Site, username: string) => {
  const found = await site.services.users.findByUsername(username);
  if (!found) throw new WaymarkError('USER_NOT_FOUND', `No user "${username}"`, 404);
  return found;
};
const isoOr = (ms: number | null, none: string): string => (ms === null ? none : new Date(ms).toISOString());
token
  .command('create <username>')
  .description('create an API token and print it (it cannot be shown again)')
  .option('--name <name>', 'label for the token', 'cli')
  .option('--expires <when>', 'ISO-8601 duration from now (P90D), a date (the end of that day in WAYMARK_TIMEZONE) or a date-time')
  .action((username: string, opts: { name: string; expires?: string }) =>
    withSite(async (site) => {
      const found = await findUser(site, username);
      const expiresAt = opts.expires === undefined ? null : parseTokenExpiry(opts.expires, site.db.now(), site.config.timezone, '--expires');
      console.log((await issueApiToken(site.db, found.id, { name: opts.name, expiresAt })).token);
    }),
  );
token
  .command('list <username>')
  .description("list a user's API tokens: id, name, created, last used, expiry")
  .option('--json', 'machine-readable output')
  .action((username: string, opts: { json?: boolean }) =>
    withSite(
      async (site) => {
        const userId = (await findUser(site, username)).id;
        // Read a page at a time (a script may have made thousands), print them all.
        const tokens: ApiTokenInfo[] = [];
        for (let cursor: string | null = null; ;) {
          const page = await apiTokensPage(site.db, userId, { limit: 500, from: cursor === null ? null : decodeCursor(TOKENS_NEWEST, cursor) });
          tokens.push(...page.items);
          if ((cursor = page.nextCursor) === null) break;
        }
        if (opts.json) return console.log(JSON.stringify(tokens, null, 2));
        const now = site.db.now();
        printTable(
          tokens.map((t) => ({
            id: String(t.id),
            name: t.name,
            created: isoOr(t.createdAt, ''),
            lastUsed: isoOr(t.lastUsedAt, 'never'),
            expires: t.expiresAt !== null && t.expiresAt <= now ? `expired ${isoOr(t.expiresAt, '')}` : isoOr(t.expiresAt, 'never'),
          })),
        );
      },
      { start: false },
    ),
  );
token
  .command('revoke <id>')
  .description('revoke an API token by id (see token list)')
  .action((id: string) =>
    withSite(
      async (site) => {
        const tokenId = parseId(id);
        if (tokenId === null || !(await revokeApiTokenById(site.db, tokenId))) throw new WaymarkError('NOT_FOUND', `Token ${id} not found`, 404);
        console.log(`Revoked token ${tokenId}`);
      },
      { start: false },
    ),
  );

const report = program.command('report').description('reports (GET /api/v1/reports lists them with their filters)');
report
  .command('export <name> [filters...]')
  .description('write a whole report as CSV (filters as name=value, e.g. organisationId=3 status=overdue), with a progress bar on stderr')
  .option('--format <format>', 'output format (csv)', 'csv')
  .option('--out <file>', 'write to this file instead of stdout')
  .action((name: string, filters: string[], opts: { format: string; out?: string }) =>
    withSite(async (site) => {
      if (opts.format !== 'csv') throw new WaymarkError('FORMAT_UNSUPPORTED', `--format ${opts.format} is not supported: use csv`, 400);
      const raw: Record<string, string> = {};
      for (const pair of filters) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new WaymarkError('QUERY_INVALID', `Filter "${pair}" is not name=value`, 400);
        raw[pair.slice(0, at)] = pair.slice(at + 1);
      }
      // The same validation as the API: an unknown filter or value is refused before anything is written.
      const request = await site.services.reports.parse(name, raw, 'export');
      const total = await site.services.reports.count(name, request);
      const out = opts.out ? fs.createWriteStream(opts.out) : process.stdout;
      const progress = createProgress(`${name}.csv`);
      progress.update(0, total);
      const rows = await site.services.reports.exportCsv(name, request, out, {
        progress: (done) => progress.update(Math.min(done, total), Math.max(done, total)),
      });
      progress.stop();
      if (opts.out) console.error(`Wrote ${rows} rows to ${opts.out}`);
    }),
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  for (const line of describeCliError(error)) console.error(line);
  process.exit(1);
});
