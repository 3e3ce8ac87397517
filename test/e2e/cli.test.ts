import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase } from '../../core/kernel/db/database';
import { createTestDatabase, testDialect, type TestDatabase } from '../utils/db';

const root = path.resolve(import.meta.dirname, '../..');
/** tsx's loader by URL, so the CLI can also run with another working directory. */
const tsxLoader = import.meta.resolve('tsx');

/** The operator's view: the real `waymark` CLI and a real server process sharing one database. */
describe(`waymark CLI against a running server (${testDialect})`, function () {
  this.timeout(120_000);

  let database: TestDatabase;
  let pluginsDir: string;
  let server: ChildProcess | undefined;
  let baseUrl: string;
  let token: string;
  let env: NodeJS.ProcessEnv;

  const cli = (...args: string[]) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], { cwd: root, env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`waymark ${args.join(' ')} failed (${run.status}):\n${run.stderr}\n${run.stdout}`);
    return run.stdout.trim();
  };

  /** Polls the server until `check` passes: the server applies plugin changes on its own poll timer. */
  async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  const summaryStatus = async () => (await fetch(`${baseUrl}/api/v1/tool_sitestats/summary`, { headers: { authorization: `Bearer ${token}` } })).status;

  before(async () => {
    database = await createTestDatabase();
    // The shipped plugins plus one with an invalid manifest, linked so their imports still resolve.
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-cli-plugins-'));
    for (const id of fs.readdirSync(path.join(root, 'plugins'))) fs.symlinkSync(path.join(root, 'plugins', id), path.join(pluginsDir, id));
    fs.symlinkSync(path.join(root, 'test/fixtures/plugins/local_badmanifest'), path.join(pluginsDir, 'local_badmanifest'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = { ...process.env, DATABASE_URL: database.url, WAYMARK_PLUGINS_DIR: pluginsDir, WAYMARK_PLUGIN_POLL_MS: '100', LOG_LEVEL: 'warn', PORT: String(port) };

    cli('migrate');
    cli('user', 'create', 'operator', '--password', 'Correct-horse-1', '--admin');
    token = cli('token', 'create', 'operator');
    server = spawn(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'serve', '--no-jobs', '--no-cron'], { cwd: root, env, stdio: 'ignore' });
    await eventually(async () => (await fetch(`${baseUrl}/healthz`)).status === 200, 'the server answers /healthz', 30_000);
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(pluginsDir, { recursive: true, force: true });
    await database.drop();
  });

  it('lists every plugin, including one with an invalid manifest and its error code, while the site runs', async () => {
    const list = JSON.parse(cli('plugins', 'list', '--json')) as Array<{ id: string; state: string; errorCode: string | null }>;
    const bad = list.find((p) => p.id === 'local_badmanifest');
    expect(bad, 'the broken plugin is listed').to.exist;
    expect(bad!.state).to.equal('invalid');
    expect(bad!.errorCode).to.match(/^PM\d{3}/);
    expect(list.find((p) => p.id === 'tool_sitestats')?.state).to.equal('enabled');
    expect((await fetch(`${baseUrl}/healthz`)).status).to.equal(200);
  });

  it('disable removes the plugin route from the running server (404) and enable brings it back, without a restart', async () => {
    expect(await summaryStatus()).to.equal(200);
    const pid = server!.pid;

    expect(cli('plugins', 'disable', 'tool_sitestats')).to.contain('disabled');
    await eventually(async () => (await summaryStatus()) === 404, 'the disabled route answers 404');

    expect(cli('plugins', 'enable', 'tool_sitestats')).to.contain('enabled');
    await eventually(async () => (await summaryStatus()) === 200, 'the re-enabled route answers 200');
    expect(server!.pid).to.equal(pid);
    expect(server!.exitCode).to.equal(null);
  });

  it('lists dead jobs and puts one back in the queue, as the running server then reports', async () => {
    // A job that used up its attempts, as the queue leaves it (no handler needed to list or retry it).
    const db = createDatabase(database.url);
    const now = Date.now();
    const [id] = (await db.knex('jobs').insert({
      name: 'core.notify',
      payload: '{}',
      state: 'dead',
      priority: 0,
      run_at: now,
      attempts: 5,
      max_attempts: 5,
      last_error: 'Error: SMTP 554 rejected\n    at send',
      created_at: now,
      finished_at: now,
      updated_at: now,
    })) as [number];
    await db.close();

    const listed = JSON.parse(cli('jobs', 'list', '--state', 'dead', '--json')) as Array<{ id: number; state: string; lastError: string }>;
    expect(listed.map((j) => j.id)).to.deep.equal([Number(id)]);
    expect(listed[0]!.lastError).to.contain('SMTP 554');
    expect(cli('jobs', 'list', '--state', 'dead')).to.match(new RegExp(`^${id}\\s+core\\.notify\\s+dead\\s+5/5`, 'm'));

    expect(cli('jobs', 'retry', String(id))).to.contain('queued');
    const res = await fetch(`${baseUrl}/api/v1/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(await res.json()).to.include({ state: 'queued', attempts: 0 });
    expect(JSON.parse(cli('jobs', 'list', '--state', 'dead', '--json'))).to.deep.equal([]);

    const again = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'jobs', 'retry', String(id)], { cwd: root, env, encoding: 'utf8' });
    expect(again.status).to.equal(1);
    expect(again.stderr).to.contain('JOB_NOT_DEAD');
  });

  it('finds a plugin folder added to the running site on its poll: listed as disabled, then enabled without a restart', async () => {
    const api = (method: string, url: string) => fetch(`${baseUrl}/api/v1${url}`, { method, headers: { authorization: `Bearer ${token}` } });
    const stateOnServer = async () => {
      const body = (await (await api('GET', '/plugins')).json()) as { plugins: Array<{ id: string; state: string }> };
      return body.plugins.find((p) => p.id === 'local_hello')?.state;
    };
    expect(await stateOnServer()).to.equal(undefined);
    const pid = server!.pid;

    // Copied file by file, as `cp -r` does: the poll may see the folder before plugin.json. Each
    // file is a link so that index.ts's relative imports of the SDK still resolve.
    const fixture = path.join(root, 'test/fixtures/plugins/local_hello');
    fs.mkdirSync(path.join(pluginsDir, 'local_hello'));
    fs.symlinkSync(path.join(fixture, 'index.ts'), path.join(pluginsDir, 'local_hello', 'index.ts'));
    await eventually(async () => (await stateOnServer()) === 'invalid', 'the running server lists the half-copied folder as invalid');
    fs.symlinkSync(path.join(fixture, 'plugin.json'), path.join(pluginsDir, 'local_hello', 'plugin.json'));
    await eventually(async () => (await stateOnServer()) === 'disabled', 'the running server lists the completed plugin as disabled');
    const listed = JSON.parse(cli('plugins', 'list', '--json')) as Array<{ id: string; state: string; enabled: boolean }>;
    expect(listed.find((p) => p.id === 'local_hello')).to.include({ state: 'disabled', enabled: false });

    const enabled = await api('POST', '/plugins/local_hello/enable');
    expect(enabled.status).to.equal(200);
    expect(await enabled.json()).to.include({ id: 'local_hello', state: 'enabled' });
    expect((await api('GET', '/local_hello/greeting')).status).to.equal(200);
    expect(server!.pid).to.equal(pid);
    expect(server!.exitCode).to.equal(null);
  });

  it('refuses a bad command argument with a clear message and a non-zero exit', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'plugins', 'enable', 'no_such_plugin'], { cwd: root, env, encoding: 'utf8' });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.match(/no_such_plugin/);
  });
});

/** What an operator sees when the CLI cannot do its job: one line, a non-zero exit, no stack. */
describe(`waymark CLI tells the truth (${testDialect})`, function () {
  this.timeout(60_000);

  const run = (args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string; timeout?: number } = {}) => {
    const started = Date.now();
    const result = spawnSync(process.execPath, ['--import', tsxLoader, path.join(root, 'scripts/cli.ts'), ...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env },
      encoding: 'utf8',
      timeout: options.timeout ?? 30_000,
    });
    return { ...result, ms: Date.now() - started };
  };
  const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.drop();
  });

  it('migrate on a fresh database lists the core and plugin migrations it applied, then that nothing is left', () => {
    const first = run(['migrate'], { DATABASE_URL: database.url });
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/^Applied \d+ migrations:$/m);
    expect(first.stdout).to.match(/^ {2}core: 0001_platform$/m);
    expect(first.stdout).to.match(/^ {2}tool_sitestats: \S+$/m);
    const again = run(['migrate'], { DATABASE_URL: database.url });
    expect(again.status).to.equal(0);
    expect(again.stdout).to.contain('Nothing to apply.').and.not.contain('Applied');
  });

  it('cron --now without a value means now', () => {
    const cron = run(['cron', '--now'], { DATABASE_URL: database.url });
    expect(cron.status, cron.stderr).to.equal(0);
    expect(cron.stdout).to.match(/Jobs done: \d+, dead: 0/);
    for (const value of ['2026-13-45T99:00:00Z', '2026-02-30', '%00']) {
      const bad = run(['cron', '--now', value], { DATABASE_URL: database.url });
      expect(bad.status, value).to.equal(1);
      expect(bad.stderr, value).to.contain('DATE_INVALID').and.contain('--now');
    }
  });

  for (const args of [['serve', '--no-jobs', '--no-cron'], ['serve', '--workers', '2', '--no-jobs', '--no-cron'], ['start']]) {
    it(`${args.join(' ')} on a port another program holds exits non-zero within 5 s, naming the port`, async () => {
      const holder = net.createServer();
      const port = await new Promise<number>((resolve) => holder.listen(0, () => resolve((holder.address() as net.AddressInfo).port)));
      try {
        const started = Date.now();
        const child = spawn(process.execPath, ['--import', tsxLoader, path.join(root, 'scripts/cli.ts'), ...args], {
          cwd: root,
          env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
        });
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', (exitCode) => {
            clearTimeout(timer);
            resolve(exitCode);
          });
        });
        expect(code, `${stdout}\n${stderr}`).to.equal(1);
        expect(Date.now() - started).to.be.below(5_000);
        expect(lines(stderr)).to.deep.equal([
          `error PORT_IN_USE: Port ${port} is already in use by another program: stop it, or choose another port (--port or PORT)`,
        ]);
        expect(stdout).not.to.contain('listening').and.not.contain('Waymark is running');
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    });
  }

  for (const command of ['migrate', 'serve']) {
    it(`${command} against an unreachable MySQL prints one line naming the masked DATABASE_URL and the reason`, () => {
      const result = run([command], { DATABASE_URL: 'mysql://root:s3cret@127.0.0.1:1/waymark', PORT: '0' });
      expect(result.status).to.equal(1);
      expect(lines(result.stderr)).to.deep.equal([
        'error DATABASE_UNREACHABLE: Cannot use DATABASE_URL mysql://root:***@127.0.0.1:1/waymark: connect ECONNREFUSED 127.0.0.1:1',
      ]);
      expect(result.stdout + result.stderr).not.to.contain('s3cret');
    });
  }

  it('migrate on an impossible sqlite path fails at once with one line instead of hanging', () => {
    const missing = run(['migrate'], { DATABASE_URL: 'sqlite:/proc/x/y.sqlite' });
    expect(missing.status).to.equal(1);
    expect(lines(missing.stderr)).to.have.length(1);
    expect(missing.stderr).to.contain('DATABASE_FOLDER_MISSING').and.contain('/proc/x ');
    const unopenable = run(['migrate'], { DATABASE_URL: 'sqlite:/proc/y.sqlite' });
    expect(unopenable.status).to.equal(1);
    expect(lines(unopenable.stderr)).to.deep.equal([
      'error DATABASE_UNREACHABLE: Cannot use DATABASE_URL sqlite:/proc/y.sqlite: unable to open database file (SQLITE_CANTOPEN)',
    ]);
  });

  it('a sqlite path in a missing folder is an error naming the folder; only the default ./data is created', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-cli-folders-'));
    try {
      const folder = path.join(dir, 'no', 'such');
      const refused = run(['migrate'], { DATABASE_URL: `sqlite:${folder}/site.sqlite` });
      expect(refused.status).to.equal(1);
      expect(lines(refused.stderr)).to.deep.equal([
        `error DATABASE_FOLDER_MISSING: The folder ${folder} for DATABASE_URL sqlite:${folder}/site.sqlite does not exist: create it first, or correct DATABASE_URL`,
      ]);
      expect(fs.existsSync(path.join(dir, 'no'))).to.equal(false);

      const defaulted = run(['migrate'], { DATABASE_URL: '' }, { cwd: dir });
      expect(defaulted.status, defaulted.stderr).to.equal(0);
      expect(fs.existsSync(path.join(dir, 'data', 'waymark.sqlite'))).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
