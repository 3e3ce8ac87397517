import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import sinon from 'sinon';
import { createSite, type Site } from '../../core/site';
import { createLogger } from '../../core/kernel/logging';
import { createApp } from '../../core/kernel/http/app';
import type { PluginInfo } from '../../core/kernel/plugins/types';
import { createTestDatabase, type TestDatabase } from '../utils/db';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/plugins');
const upgradeV1 = path.join(fixtures, '_upgrade', 'v1');
const upgradeV2 = path.join(fixtures, '_upgrade', 'v2');

function siteOn(db: TestDatabase, pluginsDir = fixtures): Site {
  return createSite({ config: { databaseUrl: db.url, pluginsDir }, logger: createLogger({ silent: true }) });
}

const byId = (list: PluginInfo[]): Record<string, PluginInfo> => Object.fromEntries(list.map((p) => [p.id, p]));
const routeOwners = (site: Site): string[] => [...new Set(site.routes.api().map((r) => r.owner))].sort();

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; status?: number; message: string };
  }
  throw new Error('expected a rejection');
}

describe('plugin manager', function () {
  let db: TestDatabase;
  const sites: Site[] = [];
  const open = (pluginsDir?: string): Site => {
    const site = siteOn(db, pluginsDir);
    sites.push(site);
    return site;
  };

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const site of sites.splice(0)) await site.stop();
    await db.drop();
  });

  it('lists every broken plugin with its code while the rest of the site runs', async () => {
    const site = open();
    await site.start();
    const list = byId(await site.plugins.list());
    const summary = Object.fromEntries(Object.values(list).map((p) => [p.id, `${p.state}${p.errorCode ? ` ${p.errorCode}` : ''}`]));
    expect(summary).to.deep.equal({
      local_valid: 'enabled',
      local_child: 'enabled',
      local_hello: 'enabled',
      local_schemasource: 'enabled',
      local_badmanifest: 'invalid PM016-MANIFEST-SCHEMA',
      local_oldsdk: 'invalid PM005-SDK-INCOMPATIBLE',
      local_needsghost: 'invalid PM006-REQUIRES-MISSING',
      local_cyclea: 'invalid PM008-REQUIRES-CYCLE',
      local_cycleb: 'invalid PM008-REQUIRES-CYCLE',
      local_startfails: 'errored PM011-START-FAILED',
      local_needsfails: 'errored PM018-DEPENDENCY-INACTIVE',
      local_registerfails: 'errored PM013-REGISTER-FAILED',
    });
    expect(list.local_badmanifest!.errorMessage).to.contain('colour');
    expect(list.local_cyclea!.errorMessage).to.contain('local_cyclea -> local_cycleb -> local_cyclea');
    expect(list.local_needsfails!.errorMessage).to.contain('local_startfails');

    // Whatever a failed plugin managed to register before failing is gone again.
    expect(routeOwners(site)).to.include.members(['local_hello', 'local_valid']);
    expect(routeOwners(site)).not.to.include.members(['local_startfails']);
    expect(routeOwners(site).filter((o) => ['local_startfails', 'local_needsfails', 'local_registerfails'].includes(o))).to.deep.equal([]);
    // Equal priorities run in dependency order; local_hello asked for priority 50.
    expect(site.hooks.handlers('onCompletion').map((h) => h.plugin)).to.deep.equal(['local_valid', 'local_child', 'local_hello']);

    // The errors are recorded for every process, e.g. the CLI that never starts plugins.
    const row = await site.db.knex('plugins').where({ id: 'local_startfails' }).first();
    expect(row).to.include({ state: 'errored', error_code: 'PM011-START-FAILED' });
    expect(row.error_message).to.contain('licence server');
    const cli = open();
    const seen = byId(await cli.plugins.list());
    expect(seen.local_startfails).to.include({ state: 'errored', errorCode: 'PM011-START-FAILED' });
    expect(seen.local_valid).to.include({ state: 'enabled', installedVersion: '1.0.0' });

    const app = createApp(site);
    const ping = await request(app).get('/api/v1/local_valid/ping');
    expect(ping.status).to.equal(200);
    expect(ping.body).to.deep.equal({ greeting: 'pong' });
    expect((await request(app).get('/api/v1/local_startfails/status')).status).to.equal(404);
  });

  it('disables and re-enables a plugin without a restart: hooks, routes and jobs go and come back', async () => {
    const site = open();
    await site.start();
    const app = createApp(site);

    const refused = await rejection(site.plugins.disable('local_valid'));
    expect(refused).to.include({ code: 'PM019-REQUIRED-BY', status: 409 });
    expect(refused.message).to.contain('local_child');
    expect(site.plugins.isActive('local_valid')).to.equal(true);

    // A job queued before the plugin goes off waits instead of failing.
    const jobId = await site.jobs.enqueue('local_valid.touch');
    expect((await site.plugins.disable('local_child')).state).to.equal('disabled');
    const off = await site.plugins.disable('local_valid');
    expect(off).to.include({ state: 'disabled', enabled: false });
    expect(site.plugins.isActive('local_valid')).to.equal(false);
    expect(routeOwners(site)).not.to.include('local_valid');
    expect(site.hooks.hooksOf('local_valid')).to.deep.equal([]);
    expect(site.jobs.handlerNames()).not.to.include('local_valid.touch');
    expect(site.jobs.scheduleNames()).not.to.include('local_valid.hourly');
    expect((await request(app).get('/api/v1/local_valid/ping')).status).to.equal(404);
    expect((await site.db.knex('plugins').where({ id: 'local_valid' }).first()).enabled).to.satisfy((v: unknown) => !v);

    await site.jobs.drain();
    expect((await site.jobs.status(jobId))!.state).to.equal('queued');

    // It runs once the plugin is back, with its hook and route.
    expect((await site.plugins.enable('local_valid')).state).to.equal('enabled');
    expect(routeOwners(site)).to.include('local_valid');
    expect(site.hooks.hooksOf('local_valid')).to.deep.equal(['onCompletion']);
    expect((await request(app).get('/api/v1/local_valid/ping')).status).to.equal(200);
    await site.jobs.drain();
    expect((await site.jobs.status(jobId))!.state).to.equal('done');
    await site.db.transaction((trx) => site.hooks.within('onCompletion', trx, { userId: 1, completedAt: 0, subject: { type: 'program', programId: 1 } }));
    const sources = (await site.db.knex('local_valid_items').orderBy('id')).map((r: { source: string }) => r.source);
    expect(sources).to.deep.equal(['job', 'hook']);

    const enableChild = await site.plugins.enable('local_child');
    expect(enableChild.state).to.equal('enabled');
  });

  it('refuses to enable a plugin before what it requires, and unknown or invalid plugins', async () => {
    const site = open();
    await site.start();
    await site.plugins.disable('local_child');
    await site.plugins.disable('local_valid');
    expect(await rejection(site.plugins.enable('local_child'))).to.include({ code: 'PM018-DEPENDENCY-INACTIVE', status: 409 });
    expect(site.plugins.isActive('local_child')).to.equal(false);
    expect(await rejection(site.plugins.enable('local_nothere'))).to.include({ code: 'NOT_FOUND', status: 404 });
    expect(await rejection(site.plugins.disable('local_nothere'))).to.include({ code: 'NOT_FOUND', status: 404 });
    expect(await rejection(site.plugins.uninstall('local_nothere'))).to.include({ code: 'NOT_FOUND', status: 404 });
    expect(await rejection(site.plugins.enable('local_cyclea'))).to.include({ code: 'PM024-PLUGIN-INVALID', status: 409 });
    // A broken plugin can still be disabled, so it stays off once fixed.
    expect((await site.plugins.disable('local_startfails')).state).to.equal('disabled');
  });

  it('applies a disable made by another process when refresh() runs', async () => {
    const server = open();
    await server.start();
    expect(server.plugins.isActive('local_child')).to.equal(true);

    const cli = open();
    await cli.start();
    await cli.plugins.disable('local_child');
    expect(server.plugins.isActive('local_child')).to.equal(true);

    await server.plugins.refresh();
    expect(server.plugins.isActive('local_child')).to.equal(false);
    expect(server.hooks.hooksOf('local_child')).to.deep.equal([]);
    expect(byId(await server.plugins.list()).local_child!.state).to.equal('disabled');

    await cli.plugins.enable('local_child');
    await server.plugins.refresh();
    expect(server.plugins.isActive('local_child')).to.equal(true);
    expect(server.hooks.hooksOf('local_child')).to.deep.equal(['onCompletion']);
  });

  it('a watching server picks up changes made elsewhere on its next poll', async () => {
    // Only setInterval is faked: the poll fires when the test says so, the database runs for real.
    const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const server = createSite({
        config: { databaseUrl: db.url, pluginsDir: fixtures, pluginPollMs: 5000 },
        logger: createLogger({ silent: true }),
        watchPlugins: true,
      });
      sites.push(server);
      await server.start();
      const cli = open();
      await cli.start();
      await cli.plugins.disable('local_child');

      clock.tick(4999);
      await server.plugins.list(); // queued behind any state change in progress
      expect(server.plugins.isActive('local_child')).to.equal(true);
      clock.tick(1);
      await server.plugins.list();
      expect(server.plugins.isActive('local_child')).to.equal(false);
      expect(server.hooks.hooksOf('local_child')).to.deep.equal([]);
    } finally {
      clock.restore();
    }
  });

  it('keeps settings valid: defaults applied, bad values refused with nothing stored', async () => {
    const site = open();
    await site.start();
    expect(await site.plugins.getSettings('local_valid')).to.deep.equal({ greeting: 'pong' });
    const bad = await rejection(site.plugins.setSettings('local_valid', { greeting: 5 }));
    expect(bad).to.include({ code: 'PM021-SETTINGS-INVALID', status: 422 });
    expect(await site.db.knex('site_config').where('name', 'like', 'plugin_settings:%')).to.have.length(0);
    await site.plugins.setSettings('local_valid', { greeting: 'hello there' });
    const ping = await request(createApp(site)).get('/api/v1/local_valid/ping');
    expect(ping.body).to.deep.equal({ greeting: 'hello there' });
  });

  it('migrate installs plugins without starting them', async () => {
    const site = open();
    await site.migrate();
    expect(await site.db.knex.schema.hasTable('local_valid_items')).to.equal(true);
    expect(site.plugins.isActive('local_valid')).to.equal(false);
    expect(site.hooks.hooksOf('local_valid')).to.deep.equal([]);
    expect(byId(await site.plugins.list()).local_valid).to.include({ installedVersion: '1.0.0' });
  });

  it('upgrades when the code is newer and refuses to downgrade', async () => {
    const v1 = open(upgradeV1);
    await v1.start();
    expect(await v1.db.knex.schema.hasColumn('local_upgrade_things', 'colour')).to.equal(false);
    await v1.db.knex('local_upgrade_things').insert({ name: 'kept' });
    await v1.stop();

    const v2 = open(upgradeV2);
    await v2.start();
    expect(await v2.db.knex.schema.hasColumn('local_upgrade_things', 'colour')).to.equal(true);
    expect(byId(await v2.plugins.list()).local_upgrade).to.include({ state: 'enabled', version: '1.1.0', installedVersion: '1.1.0' });
    expect(await v2.db.knex('local_upgrade_things').pluck('name')).to.deep.equal(['kept']);
    await v2.stop();

    const back = open(upgradeV1);
    await back.start();
    const info = byId(await back.plugins.list()).local_upgrade!;
    expect(info).to.include({ state: 'errored', errorCode: 'PM012-DOWNGRADE', version: '1.0.0', installedVersion: '1.1.0' });
    expect(back.plugins.isActive('local_upgrade')).to.equal(false);
    expect(await back.db.knex.schema.hasColumn('local_upgrade_things', 'colour')).to.equal(true);
    expect(await back.db.knex('local_upgrade_things').pluck('name')).to.deep.equal(['kept']);
  });

  it('uninstall drops the plugin tables, its migration table and its row', async () => {
    const site = open();
    await site.start();
    await site.plugins.setSettings('local_valid', { greeting: 'bye' });
    expect(await rejection(site.plugins.uninstall('local_valid'))).to.include({ code: 'PM019-REQUIRED-BY' });
    await site.plugins.disable('local_child');
    await site.plugins.uninstall('local_valid');
    const knex = site.db.knex;
    expect(await knex.schema.hasTable('local_valid_items')).to.equal(false);
    expect(await knex.schema.hasTable('local_valid_migrations')).to.equal(false);
    expect(await knex('plugins').where({ id: 'local_valid' })).to.have.length(0);
    expect(await knex('site_config').where({ name: 'plugin_settings:local_valid' })).to.have.length(0);
    expect(site.plugins.isActive('local_valid')).to.equal(false);
    expect(routeOwners(site)).not.to.include('local_valid');
    // The folder is still there, so the plugin is listed as not installed (and off).
    expect(byId(await site.plugins.list()).local_valid).to.include({ state: 'disabled', installedVersion: null });
  });
});
