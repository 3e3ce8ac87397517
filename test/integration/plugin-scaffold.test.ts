import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { scaffoldPlugin } from '../../scripts/cli/new-plugin';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { definePluginContractSuite } from '../utils/plugin-contract';
import { createTestSite } from '../utils/site';

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; status?: number; message: string };
  }
  throw new Error('expected a rejection');
}

// Scaffolded before the suites are defined, so the contract suite runs on exactly what
// `npx waymark plugin new` writes, outside the source tree and with no edits.
const pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-scaffold-'));
const scaffolded = await scaffoldPlugin('local_scaffolded', pluginsDir);
// An `assign_` id gets an assignment-source skeleton instead, in a folder of its own.
const sourcesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-scaffold-source-'));
const scaffoldedSource = await scaffoldPlugin('assign_prefix', sourcesDir);

describe('waymark plugin new', function () {
  after(() => {
    fs.rmSync(pluginsDir, { recursive: true, force: true });
    fs.rmSync(sourcesDir, { recursive: true, force: true });
  });

  it('writes plugin.json, index.ts and README.md into plugins/<id>', () => {
    expect(scaffolded).to.equal(path.join(pluginsDir, 'local_scaffolded'));
    expect(fs.readdirSync(scaffolded).sort()).to.deep.equal(['README.md', 'index.ts', 'plugin.json']);
    const manifest = JSON.parse(fs.readFileSync(path.join(scaffolded, 'plugin.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).to.include({ id: 'local_scaffolded', name: 'Scaffolded', version: '0.1.0', sdk: '^1.0.0' });
  });

  it("writes code that already follows the project's format, so a new plugin starts clean", async () => {
    const prettier = await import('prettier');
    for (const dir of [scaffolded, scaffoldedSource]) {
      const file = path.join(dir, 'index.ts');
      const options = { ...(await prettier.resolveConfig(path.resolve(import.meta.dirname, '../../.prettierrc.json'))), filepath: file };
      expect(await prettier.check(fs.readFileSync(file, 'utf8'), options), file).to.equal(true);
    }
  });

  it('refuses an id that is not frankenstyle, without writing anything', async () => {
    for (const bad of ['Hello', 'hello', 'local-hello', 'local_Hello', '_local', '../local_x']) {
      const error = await rejection(scaffoldPlugin(bad, pluginsDir));
      expect(error.code, bad).to.equal('PM001-ID-PATTERN');
    }
    expect(fs.readdirSync(pluginsDir)).to.deep.equal(['local_scaffolded']);
  });

  it('refuses an id whose tables would not fit MySQL names', async () => {
    const error = await rejection(scaffoldPlugin(`local_${'x'.repeat(60)}`, pluginsDir));
    expect(error.code).to.equal('PLUGIN_ID_TOO_LONG');
  });

  it('refuses an existing plugin and leaves it untouched', async () => {
    const before = fs.readFileSync(path.join(scaffolded, 'index.ts'), 'utf8');
    const error = await rejection(scaffoldPlugin('local_scaffolded', pluginsDir));
    expect(error).to.include({ code: 'PLUGIN_EXISTS', status: 409 });
    expect(fs.readFileSync(path.join(scaffolded, 'index.ts'), 'utf8')).to.equal(before);
  });

  it('runs on a site: its table exists and its route answers an admin', async () => {
    const test = await createTestSite({ pluginsDir });
    try {
      const { site } = test;
      expect(site.plugins.isActive('local_scaffolded')).to.equal(true);
      await site.db.knex('local_scaffolded_items').insert({ name: 'First', created_at: Date.UTC(2026, 0, 2) });
      const admin = await site.services.users.create({ username: 'admin', email: 'admin@example.invalid', fullname: 'Admin', isAdmin: true });
      const token = await createApiToken(site.db, admin.id);
      const res = await request(createApp(site)).get('/api/v1/local_scaffolded/items').set('Authorization', `Bearer ${token}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ items: [{ id: 1, name: 'First', createdAt: '2026-01-02T00:00:00.000Z' }] });
    } finally {
      await test.close();
    }
  });

  it('scaffolds an assignment source for an assign_ id that assigns its members once enabled', async () => {
    const test = await createTestSite({ pluginsDir: sourcesDir });
    try {
      const { site } = test;
      expect(site.plugins.isActive('assign_prefix')).to.equal(true);
      const course = await site.services.courses.create({ shortname: 'c1', fullname: 'Course 1' });
      const { program } = await site.services.programs.create({
        shortname: 'p1',
        fullname: 'Program 1',
        courseSets: [{ courseIds: [course.id], rule: 'all' }],
      });
      const sales = await site.services.users.create({ username: 'sales.ann', email: 'ann@example.invalid', fullname: 'Ann' });
      const other = await site.services.users.create({ username: 'bob', email: 'bob@example.invalid', fullname: 'Bob' });
      const { rule } = await site.services.assignment.addRule(program.id, { source: 'prefix', instanceId: 1, prefix: 'sales.' });
      await site.jobs.drain();
      expect(rule.description).to.equal('Users whose username starts with sales.');
      expect((await site.services.assignment.learnerAssignment(program.id, sales.id)).assigned).to.equal(true);
      expect((await site.services.assignment.learnerAssignment(program.id, other.id)).assigned).to.equal(false);
      // Incremental: a new matching user joins in the transaction that creates them.
      const late = await site.services.users.create({ username: 'sales.cy', email: 'cy@example.invalid', fullname: 'Cy' });
      expect((await site.services.assignment.learnerAssignment(program.id, late.id)).assigned).to.equal(true);
    } finally {
      await test.close();
    }
  });

  // Nested, so the folder outlives the contract suite's own hooks.
  definePluginContractSuite(scaffolded);
  definePluginContractSuite(scaffoldedSource);
});
