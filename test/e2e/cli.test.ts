import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDatabase } from '../../core/kernel/db/database';
import { createTestDatabase, testDialect, type TestDatabase } from '../utils/db';

const root = path.resolve(import.meta.dirname, '../..');

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

  it('refuses a bad command argument with a clear message and a non-zero exit', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'plugins', 'enable', 'no_such_plugin'], { cwd: root, env, encoding: 'utf8' });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.match(/no_such_plugin/);
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
