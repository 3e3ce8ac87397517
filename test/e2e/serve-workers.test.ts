import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, testDialect, type TestDatabase } from '../utils/db';

const root = path.resolve(import.meta.dirname, '../..');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request on its own TCP connection (no keep-alive), so node:cluster hands successive requests
 * to different web processes (round robin), as a load balancer would.
 */
function send(base: string, method: 'GET' | 'POST', target: string, options: { cookie?: string; form?: Record<string, string> } = {}): Promise<Reply> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${target}`,
      {
        method,
        agent: false,
        headers: {
          Accept: 'text/html',
          Connection: 'close',
          ...(options.cookie ? { Cookie: options.cookie } : {}),
          ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function sessionCookie(reply: Reply): string {
  const cookie = (reply.headers['set-cookie'] ?? []).find((c) => c.startsWith('waymark.sid='));
  if (!cookie) throw new Error(`no session cookie (status ${reply.status})`);
  return cookie.split(';')[0]!;
}

function csrfOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1]!;
}

/** `waymark serve --workers 2` without SESSION_SECRET: real processes sharing one database. */
describe(`waymark serve --workers 2 without SESSION_SECRET (${testDialect})`, function () {
  this.timeout(180_000);

  let database: TestDatabase;
  let pluginsDir: string;
  let server: ChildProcess | undefined;
  let base: string;
  let env: NodeJS.ProcessEnv;

  const cli = (...args: string[]) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], { cwd: root, env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`waymark ${args.join(' ')} failed (${run.status}):\n${run.stderr}\n${run.stdout}`);
  };

  async function signIn(username: string, password: string): Promise<string> {
    const form = await send(base, 'GET', '/login');
    const posted = await send(base, 'POST', '/login', { cookie: sessionCookie(form), form: { username, password, _csrf: csrfOf(form.body), next: '/' } });
    expect(posted.status, `signing in as ${username}`).to.equal(303);
    return sessionCookie(posted);
  }

  before(async () => {
    database = await createTestDatabase();
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-workers-plugins-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { ...process.env, DATABASE_URL: database.url, WAYMARK_PLUGINS_DIR: pluginsDir, LOG_LEVEL: 'warn', PORT: String(port) };
    delete env.SESSION_SECRET;
    delete env.WAYMARK_PLUGIN_POLL_MS; // the shipped default poll interval must meet the 2 s promise
    cli('migrate');
    cli('user', 'create', 'lena', '--password', 'Correct-horse-1');
    cli('user', 'create', 'operator', '--password', 'Correct-horse-2', '--admin');
    server = spawn(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'serve', '--workers', '2', '--no-jobs', '--no-cron'], {
      cwd: root,
      env,
      stdio: 'ignore',
      detached: true,
    });
    const deadline = Date.now() + 60_000;
    let healthy = 0;
    // Both web processes are up once several fresh connections in a row answer.
    while (healthy < 6) {
      if (Date.now() > deadline) throw new Error('the server did not answer /healthz');
      healthy = (await send(base, 'GET', '/healthz').catch(() => null))?.status === 200 ? healthy + 1 : 0;
      if (healthy === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  after(async () => {
    if (server?.pid && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      process.kill(-server.pid, 'SIGTERM');
      await exited;
    }
    fs.rmSync(pluginsDir, { recursive: true, force: true });
    await database?.drop();
  });

  it('keeps a signed-in learner signed in on 200 requests, each on a new connection', async () => {
    const cookie = await signIn('lena', 'Correct-horse-1');
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await send(base, 'GET', '/my/required-learning', { cookie })).status);
    expect(
      statuses.filter((s) => s !== 200),
      'requests that did not answer 200',
    ).to.deep.equal([]);
  });

  it('accepts a login form fetched in one request when it is posted in another, every time', async () => {
    for (let i = 0; i < 6; i++) {
      const form = await send(base, 'GET', '/login');
      const posted = await send(base, 'POST', '/login', {
        cookie: sessionCookie(form),
        form: { username: 'lena', password: 'Correct-horse-1', _csrf: csrfOf(form.body), next: '/' },
      });
      expect(posted.status, `attempt ${i + 1}: ${posted.body.slice(0, 200)}`).to.equal(303);
    }
  });

  it('shows a theme switched on one process on pages of the other within 2 s', async () => {
    const cookie = await signIn('operator', 'Correct-horse-2');
    const page = await send(base, 'GET', '/admin/theme', { cookie });
    expect(page.status).to.equal(200);
    const saved = await send(base, 'POST', '/admin/theme', { cookie, form: { _csrf: csrfOf(page.body), theme: 'high-contrast' } });
    expect(saved.status).to.equal(303);
    const savedAt = Date.now();
    let streakFrom = 0;
    let inARow = 0;
    // Ten fresh connections in a row reach both processes; all must render the new theme, and the
    // first of them must have been sent within 2 s of the switch.
    while (inARow < 10) {
      if (Date.now() - savedAt > 10_000) throw new Error('pages never all showed the new theme');
      const sentAt = Date.now();
      const reply = await send(base, 'GET', '/login');
      if (!reply.body.includes('/theme/high-contrast/waymark.css')) inARow = 0;
      else if (inARow++ === 0) streakFrom = sentAt;
    }
    expect(streakFrom - savedAt, 'ms from the switch until every process served the new theme').to.be.at.most(2000);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
