import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { expect } from 'chai';
import { createSite, type Site } from '../../core/site';
import { createLogger } from '../../core/kernel/logging';
import { migrateLatest, migrateRollbackAll } from '../../core/kernel/db/migrations';
import { coreMigrations } from '../../db/migrations/index';
import { discoverPlugins, importPluginDefinition } from '../../core/kernel/plugins/discovery';
import { resolveLoadOrder } from '../../core/kernel/plugins/load-order';
import { createRegisterContext, removeRegistrations } from '../../core/kernel/plugins/context';
import { pluginMigrationSet } from '../../core/kernel/plugins/manager';
import type { PluginManifest } from '../../core/kernel/plugins/types';
import { createTestDatabase, type TestDatabase } from './db';

/** Every table of the connected database, sorted. */
export async function listTables(knex: Knex, dialect: 'sqlite' | 'mysql'): Promise<string[]> {
  if (dialect === 'sqlite') {
    const rows = (await knex.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) as Array<{ name: string }>;
    return rows.map((r) => r.name).sort();
  }
  const [rows] = (await knex.raw('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()')) as [Array<{ name: string }>];
  return rows.map((r) => r.name).sort();
}

/**
 * A plugins folder holding only `id` and what it (transitively) requires, as symlinks, so one
 * plugin's contract run is not disturbed by unrelated plugins.
 */
function isolatedPluginsDir(pluginsDir: string, id: string): string {
  const all = new Map(discoverPlugins(pluginsDir).map((p) => [p.id, p]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-contract-'));
  const add = (name: string): void => {
    const found = all.get(name);
    if (!found || fs.existsSync(path.join(dir, name))) return;
    fs.symlinkSync(found.dir, path.join(dir, name), 'dir');
    for (const dep of Object.keys(found.manifest?.requires ?? {})) add(dep);
  };
  add(id);
  return dir;
}

/**
 * Routes of the public API contract (../shared/API.md) that a plugin serves rather than core: the
 * contract fixes their paths, so the plugin may declare exactly these outside its `/<id>/`
 * namespace (and the suite checks that no other owner serves the same method and path).
 */
const CONTRACT_ROUTES: Readonly<Record<string, readonly string[]>> = {
  notify_program: ['get /users/:id/notifications', 'post /notifications/:id/read'],
};

export interface ContractOptions {
  /**
   * A database shared by several plugins' suites (see useSharedTestDatabase): core migrations run
   * once instead of once per plugin, which matters on MySQL. Each check compares tables before and
   * after, so other plugins' tables in the same database do not disturb it.
   */
  database?: () => TestDatabase;
}

/** Creates one test database in a `before` hook of the enclosing describe and drops it after. */
export function useSharedTestDatabase(): () => TestDatabase {
  let db: TestDatabase | undefined;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  return () => {
    if (!db) throw new Error('the shared test database is only available inside tests');
    return db;
  };
}

/**
 * Defines the contract suite for one plugin folder (`<pluginsDir>/<id>`). Every plugin must pass
 * it unchanged: a valid manifest, a register() that touches no database and keeps its routes and
 * jobs in its own namespace, migrations that go up, down and up again and only create tables
 * prefixed with its id, and a disable that removes every hook, route, job and schedule it declared.
 */
export function definePluginContractSuite(pluginDir: string, options: ContractOptions = {}): void {
  const id = path.basename(pluginDir);
  const pluginsDir = path.dirname(pluginDir);

  describe(`plugin contract: ${id}`, function () {
    let db: TestDatabase;
    let manifest: PluginManifest;
    let isolated: string;
    const sites: Site[] = [];
    const open = (): Site => {
      const site = createSite({ config: { databaseUrl: db.url, pluginsDir: isolated }, logger: createLogger({ silent: true }) });
      sites.push(site);
      return site;
    };

    before(async () => {
      db = options.database ? options.database() : await createTestDatabase();
      isolated = isolatedPluginsDir(pluginsDir, id);
      const found = discoverPlugins(pluginsDir).find((p) => p.id === id);
      if (!found?.manifest) throw new Error(`${id}: plugin.json is invalid: ${JSON.stringify(found?.problems)}`);
      manifest = found.manifest;
    });
    after(async () => {
      for (const site of sites.splice(0)) await site.stop();
      if (!options.database) await db.drop();
      fs.rmSync(isolated, { recursive: true, force: true });
    });

    it('has a valid plugin.json whose requirements are met', () => {
      const all = discoverPlugins(pluginsDir);
      const me = all.find((p) => p.id === id)!;
      expect(me.problems, JSON.stringify(me.problems)).to.deep.equal([]);
      const valid = new Map(all.filter((p) => p.manifest && !p.problems.length).map((p) => [p.id, p.manifest!]));
      const { problems } = resolveLoadOrder(valid);
      expect(problems.get(id), problems.get(id)?.message).to.equal(undefined);
    });

    it('register() touches no database and declares only in its own namespace', async () => {
      const site = open();
      const definition = await importPluginDefinition(pluginDir, manifest);
      const jobsBefore = new Set([...site.jobs.handlerNames(), ...site.jobs.scheduleNames()]);
      // A query started in register() but not awaited only reaches the 'query' event later, so
      // the synchronous entry points (a builder being run, a connection being taken) count too.
      const queries: string[] = [];
      const client = site.db.knex.client as { runner(builder: unknown): unknown; acquireConnection(): unknown };
      const spied = { runner: client.runner, acquireConnection: client.acquireConnection };
      client.runner = function (this: unknown, builder: unknown) {
        queries.push(String((builder as { toString(): string }).toString()));
        return spied.runner.call(this, builder);
      };
      client.acquireConnection = function (this: unknown) {
        queries.push('(connection acquired)');
        return spied.acquireConnection.call(this);
      };
      const count = (q: { sql: string }) => queries.push(q.sql);
      site.db.knex.on('query', count);
      try {
        definition.register(createRegisterContext(site, manifest, definition));
      } finally {
        site.db.knex.off('query', count);
        client.runner = spied.runner;
        client.acquireConnection = spied.acquireConnection;
      }
      expect(queries, `register() touched the database: ${queries.join('; ')}`).to.deep.equal([]);
      for (const route of site.routes.api().filter((r) => r.owner === id)) {
        if (CONTRACT_ROUTES[id]?.includes(`${route.method} ${route.path}`)) {
          // Allowed outside the namespace because the public API names it; it must still shadow nothing.
          const others = site.routes.api().filter((r) => r.owner !== id && r.method === route.method && r.path === route.path);
          expect(
            others.map((r) => r.owner),
            `${route.method} ${route.path} is also served by`,
          ).to.deep.equal([]);
        } else expect(route.path).to.match(new RegExp(`^/${id}(/|$)`));
      }
      for (const name of [...site.jobs.handlerNames(), ...site.jobs.scheduleNames()].filter((n) => !jobsBefore.has(n))) {
        expect(name.startsWith(`${id}.`), `job or schedule ${name} must be named ${id}.<name>`).to.equal(true);
      }
      removeRegistrations(site, id);
    });

    it(`migrates up, down and up again, creating only tables prefixed "${id}_"`, async () => {
      const site = open();
      const knex = site.db.knex;
      await migrateLatest(knex, coreMigrations);
      const definition = await importPluginDefinition(pluginDir, manifest);
      const set = pluginMigrationSet(id, definition);
      // Dependencies' tables are theirs, not this plugin's.
      const deps = discoverPlugins(isolated).filter((p) => p.id !== id);
      for (const dep of deps) await migrateLatest(knex, pluginMigrationSet(dep.id, await importPluginDefinition(dep.dir, dep.manifest!)));
      const before = await listTables(knex, db.dialect);

      await migrateLatest(knex, set);
      const up = await listTables(knex, db.dialect);
      const created = up.filter((t) => !before.includes(t));
      for (const table of created) expect(table.startsWith(`${id}_`), `table ${table} must be prefixed ${id}_`).to.equal(true);

      await migrateRollbackAll(knex, set);
      const down = (await listTables(knex, db.dialect)).filter((t) => !t.startsWith(`${id}_migrations`));
      expect(down, 'tables left after rolling back every migration').to.deep.equal(before);

      await migrateLatest(knex, set);
      expect(await listTables(knex, db.dialect)).to.deep.equal(up);
      await site.stop();
    });

    it('starts, and disabling it removes every hook, route, job and schedule it declared', async () => {
      const site = open();
      await site.start();
      if (!site.plugins.isActive(id)) await site.plugins.enable(id);
      const info = (await site.plugins.list()).find((p) => p.id === id)!;
      expect(info.state, `${info.errorCode}: ${info.errorMessage}`).to.equal('enabled');

      await site.plugins.disable(id);
      expect(site.plugins.isActive(id)).to.equal(false);
      expect(site.hooks.hooksOf(id)).to.deep.equal([]);
      expect(site.routes.api().filter((r) => r.owner === id)).to.deep.equal([]);
      expect(site.routes.pages().filter((r) => r.owner === id)).to.deep.equal([]);
      expect(site.jobs.handlerNames().filter((n) => n.startsWith(`${id}.`))).to.deep.equal([]);
      expect(site.jobs.scheduleNames().filter((n) => n.startsWith(`${id}.`))).to.deep.equal([]);
      expect(site.extensions.contributionsOf(id)).to.deep.equal([]);

      await site.plugins.enable(id);
      expect(site.plugins.isActive(id)).to.equal(true);
    });
  });
}

/** Every plugin folder in `pluginsDir` (so a new plugin gets the contract suite without a line of test code). */
export function pluginFolders(pluginsDir: string): string[] {
  return discoverPlugins(pluginsDir).map((p) => p.dir);
}
