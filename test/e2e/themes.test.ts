import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import winston from 'winston';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { ThemeEngine } from '../../core/kernel/themes/engine';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';

/** A logger that keeps what it logs, so a test can see the error a broken theme reports. */
function recordingLogger(): { logger: winston.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, done) {
      lines.push(info);
      done();
    },
  });
  return { logger: winston.createLogger({ transports: [new winston.transports.Stream({ stream })] }), lines };
}

/** A themes folder holding the real default theme plus whatever a test adds. */
function themesFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-themes-'));
  fs.cpSync(path.join(projectRoot, 'themes', 'default'), path.join(dir, 'default'), { recursive: true });
  return dir;
}

function writeTheme(root: string, name: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name, file)), { recursive: true });
    fs.writeFileSync(path.join(root, name, file), content);
  }
}

describe('themes', () => {
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let themesDir: string;

  before(async () => {
    themesDir = themesFolder();
    writeTheme(themesDir, 'ocean', {
      'theme.json': JSON.stringify({ name: 'ocean', parent: 'default' }),
      'partials/footer.hbs': '<footer class="ocean-footer">Ocean footer</footer>',
      'assets/waymark.css': 'body { background: navy; }',
    });
    writeTheme(themesDir, 'badjson', { 'theme.json': '{ "name": ' });
    writeTheme(themesDir, 'badtemplate', { 'theme.json': '{"name":"badtemplate"}', 'templates/home.hbs': '{{#if programs}} unclosed' });
    t = await createTestSite({ themesDir });
    site = t.site;
    app = createApp(site);
  });
  after(async () => {
    await t?.close();
    fs.rmSync(themesDir, { recursive: true, force: true });
  });
  afterEach(() => site.themes.setTheme('default'));

  it('renders an accessible home page that says there are no programs yet and links to log in', async () => {
    const res = await request(app).get('/').expect(200);
    expect(res.type).to.equal('text/html');
    expect(res.text).to.match(/<html lang="en">/);
    expect(res.text).to.contain('name="viewport"');
    expect(res.text).to.match(/<a class="skip-link" href="#main">/);
    for (const landmark of ['<header', '<nav', '<main id="main"', '<footer']) expect(res.text).to.contain(landmark);
    expect(res.text).to.contain('No programs yet');
    expect(res.text).to.contain('href="/login"');
  });

  it('lists available programs with their names escaped', async () => {
    const now = Date.now();
    await site.db.knex('programs').insert([
      { shortname: 'xss', fullname: '<script>alert(1)</script> Safety', summary: 'Fish & <b>chips</b>', available: true, created_at: now, updated_at: now },
      { shortname: 'hidden', fullname: 'Hidden program', summary: null, available: false, created_at: now, updated_at: now },
    ]);
    try {
      const res = await request(app).get('/').expect(200);
      expect(res.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt; Safety');
      expect(res.text).to.not.contain('<script>alert(1)');
      expect(res.text).to.contain('Fish &amp; &lt;b&gt;chips&lt;/b&gt;');
      expect(res.text).to.not.contain('Hidden program');
      expect(res.text).to.not.contain('No programs yet');
    } finally {
      await site.db.knex('programs').whereIn('shortname', ['xss', 'hidden']).del();
    }
  });

  it('serves the theme stylesheet, falling back to the default theme’s assets', async () => {
    const css = await request(app).get('/theme/default/waymark.css').expect(200);
    expect(css.type).to.equal('text/css');
    expect((await request(app).get('/theme/ocean/waymark.css').expect(200)).text).to.contain('navy');
    await request(app).get('/theme/badjson/waymark.css').expect(200);
    await request(app).get('/theme/default/..%2F..%2Fpackage.json').expect(404);
  });

  it('lets a theme override a default partial at runtime while keeping the rest of default', async () => {
    site.themes.setTheme('ocean');
    const res = await request(app).get('/').expect(200);
    expect(res.text).to.contain('Ocean footer');
    expect(res.text).to.contain('No programs yet');
    expect(res.text).to.contain('/theme/ocean/waymark.css');
  });

  it('falls back to the default theme when the chosen one is missing or broken, and logs why', () => {
    for (const broken of ['badjson', 'badtemplate', 'missing']) {
      const { logger, lines } = recordingLogger();
      const engine = new ThemeEngine({ themesDir, theme: broken, logger });
      const html = engine.render('home', {});
      expect(html, broken).to.contain('No programs yet');
      expect(engine.effectiveTheme()).to.equal('default');
      const errors = lines.filter((l) => l.level === 'error');
      expect(errors, broken).to.have.length(1);
      expect(errors[0]!.theme).to.equal(broken);
      engine.render('home', {});
      expect(
        lines.filter((l) => l.level === 'error'),
        'reported once, not per page',
      ).to.have.length(1);
    }
  });

  it('keeps serving pages when the site switches to a broken theme', async () => {
    site.themes.setTheme('badtemplate');
    const res = await request(app).get('/').expect(200);
    expect(res.text).to.contain('No programs yet');
  });

  it('renders a plugin’s partial and helper under its namespace, and forgets them when the plugin goes', async () => {
    const theme = site.themes.registrarFor('local_badges');
    theme.helper('shout', (text: unknown) => String(text).toUpperCase());
    theme.partial('badge', '<span class="badge">{{local_badges_shout name}}</span>');
    site.routes.registrarFor('local_badges').page({
      method: 'get',
      path: '/badges/:name',
      access: 'public',
      handler: (req, res) => res.locals.render('local_badges/badge', { name: req.params.name }),
    });
    const res = await request(app).get('/badges/gold%3Cb%3E').expect(200);
    expect(res.text).to.contain('<span class="badge">GOLD&lt;B&gt;</span>');
    expect(res.text).to.contain('<main id="main"');

    site.routes.removeOwner('local_badges');
    site.themes.removeOwner('local_badges');
    await request(app).get('/badges/gold').expect(404);
    expect(() => site.themes.render('local_badges/badge', { name: 'x' })).to.throw(/No template/);
  });

  it('rejects a plugin partial that does not compile when it is registered', () => {
    expect(() => site.themes.registrarFor('local_bad').partial('oops', '{{#each}}')).to.throw(/does not compile/);
    expect(() => site.themes.registrarFor('local_bad').helper('bad name', () => '')).to.throw(/not a valid/);
  });

  it('formats dates in the viewer’s time zone', async () => {
    const now = Date.now();
    const [userId] = (await site.db
      .knex('users')
      .insert({ username: 'tokyo', email: 't@example.com', fullname: 'Tokyo', timezone: 'Asia/Tokyo', created_at: now, updated_at: now })) as [number];
    const token = await createApiToken(site.db, Number(userId));
    site.themes.registrarFor('local_dates').partial('when', '<time>{{formatDate at format="yyyy-MM-dd HH:mm ZZZZ"}}</time>');
    site.routes.registrarFor('local_dates').page({
      method: 'get',
      path: '/when',
      access: 'user',
      handler: (_req, res) => res.locals.render('local_dates/when', { at: Date.UTC(2026, 0, 31, 20, 30) }),
    });
    try {
      const res = await request(app).get('/when').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.text).to.contain('<time>2026-02-01 05:30 GMT+9</time>');
    } finally {
      site.routes.removeOwner('local_dates');
      site.themes.removeOwner('local_dates');
    }
  });
});
