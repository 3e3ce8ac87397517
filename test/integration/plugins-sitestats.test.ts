import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { createSite, type Site } from '../../core/site';
import { createLogger } from '../../core/kernel/logging';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import { createTestDatabase, type TestDatabase } from '../utils/db';

describe('tool_sitestats plugin', function () {
  let db: TestDatabase;
  let site: Site;
  let pluginsDir: string;
  let adminToken: string;
  let learnerToken: string;

  before(async () => {
    db = await createTestDatabase();
    // Only this plugin, so the counts do not depend on what else ships in plugins/.
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-sitestats-'));
    fs.symlinkSync(path.join(projectRoot, 'plugins', 'tool_sitestats'), path.join(pluginsDir, 'tool_sitestats'), 'dir');
    site = createSite({ config: { databaseUrl: db.url, pluginsDir }, logger: createLogger({ silent: true }) });
    await site.start();
    const now = Date.now();
    const user = (username: string, isAdmin: boolean) => ({
      username,
      email: `${username}@example.org`,
      fullname: username,
      is_admin: isAdmin,
      created_at: now,
      updated_at: now,
    });
    await site.db.knex('users').insert([user('admin', true), user('learner', false)]);
    const ids = Object.fromEntries((await site.db.knex('users').select('id', 'username')).map((u: { id: number; username: string }) => [u.username, u.id]));
    adminToken = await createApiToken(site.db, ids.admin);
    learnerToken = await createApiToken(site.db, ids.learner);
  });
  after(async () => {
    await site.stop();
    await db.drop();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  });

  /** What the jobs table says, independently of the plugin's own query. */
  async function jobCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = { queued: 0, running: 0, done: 0, dead: 0 };
    for (const job of await site.db.knex('jobs').select('state')) counts[job.state as string]! += 1;
    return counts;
  }

  it('shows admins the counts of users, enabled plugins and jobs by state', async () => {
    const app = createApp(site);
    expect((await request(app).get('/api/v1/tool_sitestats/summary').set('Authorization', `Bearer ${learnerToken}`)).status).to.equal(403);
    const res = await request(app).get('/api/v1/tool_sitestats/summary').set('Authorization', `Bearer ${adminToken}`);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ users: 2, enabledPlugins: 1, jobs: await jobCounts(), lastSnapshotAt: null });
  });

  it('records a snapshot once a day from its schedule', async () => {
    const fired = await site.jobs.runDueSchedules(new Date('2026-03-02T00:20:00Z'));
    expect(fired).to.include('tool_sitestats.daily');
    expect(await site.jobs.runDueSchedules(new Date('2026-03-02T00:40:00Z'))).not.to.include('tool_sitestats.daily');
    await site.jobs.drain();
    const snapshots = await site.db.knex('tool_sitestats_snapshots');
    expect(snapshots).to.have.length(1);
    expect(snapshots[0]).to.include({ users: 2, enabled_plugins: 1 });
    const res = await request(createApp(site)).get('/api/v1/tool_sitestats/summary').set('Authorization', `Bearer ${adminToken}`);
    expect(res.body.jobs).to.deep.equal(await jobCounts());
    expect(res.body.jobs.done).to.be.at.least(1);
    expect(res.body.lastSnapshotAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('its route answers 404 once it is disabled, and again after it is re-enabled', async () => {
    const app = createApp(site);
    await site.plugins.disable('tool_sitestats');
    expect((await request(app).get('/api/v1/tool_sitestats/summary').set('Authorization', `Bearer ${adminToken}`)).status).to.equal(404);
    await site.plugins.enable('tool_sitestats');
    const res = await request(app).get('/api/v1/tool_sitestats/summary').set('Authorization', `Bearer ${adminToken}`);
    expect(res.status).to.equal(200);
    expect(res.body.enabledPlugins).to.equal(1);
  });
});
