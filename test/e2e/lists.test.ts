import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Issue 14 item 6: the list routes, one convention (limit, cursor, sort, filters; {items, nextCursor}). */
describe('API lists', function () {
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let learner: string;
  let learnerId: number;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const names = [
    'Zoé Martin',
    'zoltan Kiss',
    'Anna Berg',
    'anton Weber',
    'Bea 50% Off',
    'Bea 50x Off',
    'Carl Dahl',
    'Dora Eck',
    'Emil Fox',
    'Fay Gul',
    'Gus Hay',
  ];

  async function walk<T>(path: string, token = admin): Promise<T[]> {
    const seen: T[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const sep = path.includes('?') ? '&' : '?';
      const res = await request(app)
        .get(`/api/v1${path}${cursor ? `${sep}cursor=${cursor}` : ''}`)
        .set(auth(token))
        .expect(200);
      const page = res.body as Page<T>;
      seen.push(...page.items);
      cursor = page.nextCursor;
      if (cursor === null) return seen;
    }
    throw new Error('the list did not end');
  }

  before(async function () {
    t = await createTestSite();
    site = t.site;
    app = createApp(site);
    const root = await site.services.users.create({ username: 'root', email: 'root@example.com', fullname: 'Root Admin', isAdmin: true });
    admin = await createApiToken(site.db, root.id);
    const me = await site.services.users.create({ username: 'learner', email: 'learner@example.com', fullname: 'Lee Learner' });
    learnerId = me.id;
    learner = await createApiToken(site.db, me.id);
    for (const [i, fullname] of names.entries()) {
      const username = i === 1 ? 'zoltan' : `user${i}`;
      await site.services.users.create({ username, email: `${username}@example.com`, fullname });
    }
  });

  after(async function () {
    await t?.close();
  });

  it('lists every user exactly once a page at a time, by full name by default', async function () {
    const users = await walk<{ id: number; fullname: string; username: string }>('/users?limit=4');
    expect(users).to.have.length(names.length + 2);
    expect(new Set(users.map((u) => u.id)).size).to.equal(users.length);
    const byName = await walk<{ fullname: string }>('/users?limit=1000');
    expect(users.map((u) => u.fullname)).to.deep.equal(byName.map((u) => u.fullname));
    const byId = await walk<{ id: number }>('/users?sort=-id&limit=5');
    expect(byId.map((u) => u.id)).to.deep.equal([...byId.map((u) => u.id)].sort((a, b) => b - a));
  });

  it('finds users by the start of their full name or username, in any case, with % and _ taken literally', async function () {
    const zo = await walk<{ fullname: string }>('/users?q=ZO');
    expect(zo.map((u) => u.fullname).sort()).to.deep.equal(['Zoé Martin', 'zoltan Kiss']);
    const an = await walk<{ fullname: string }>('/users?q=an');
    expect(an.map((u) => u.fullname).sort()).to.deep.equal(['Anna Berg', 'anton Weber']);
    const percent = await walk<{ fullname: string }>(`/users?q=${encodeURIComponent('Bea 50%')}`);
    expect(percent.map((u) => u.fullname)).to.deep.equal(['Bea 50% Off']);
    expect(await walk('/users?q=nobody-has-this-name')).to.deep.equal([]);
    const byUsername = await walk<{ username: string }>('/users?username=zolt&sort=username');
    expect(byUsername.map((u) => u.username)).to.deep.equal(['zoltan']);
    // Names sort without regard to case: "anton" comes right after "Anna", not after "Zoé".
    const first = await walk<{ fullname: string }>('/users?limit=2');
    expect(first.slice(0, 2).map((u) => u.fullname)).to.deep.equal(['Anna Berg', 'anton Weber']);
  });

  it('filters suspended users and leaves deleted ones out', async function () {
    const [dora] = await walk<{ id: number }>('/users?q=Dora');
    await request(app).patch(`/api/v1/users/${dora!.id}`).set(auth(admin)).send({ suspended: true }).expect(200);
    const suspended = await walk<{ id: number; suspended: boolean }>('/users?suspended=true');
    expect(suspended.map((u) => u.id)).to.deep.equal([dora!.id]);
    const active = await walk<{ id: number }>('/users?suspended=false');
    expect(active.map((u) => u.id)).to.not.include(dora!.id);
    expect(await walk('/users?deleted=true')).to.deep.equal([]);
  });

  it('answers 400 for an unknown sort or filter value, a foreign cursor and a bad limit', async function () {
    const first = (await request(app).get('/api/v1/users?limit=2&sort=username').set(auth(admin)).expect(200)).body as Page<unknown>;
    for (const bad of ['sort=age', 'suspended=maybe', 'limit=0', 'limit=1001', 'colour=red', `cursor=${first.nextCursor}`, 'cursor=abc', 'q=']) {
      const res = await request(app).get(`/api/v1/users?${bad}`).set(auth(admin));
      expect(res.status, bad).to.equal(400);
      expect(res.body.error.code, bad).to.equal('QUERY_INVALID');
    }
  });

  it('keeps the user list to administrators', async function () {
    await request(app).get('/api/v1/users').set(auth(learner)).expect(403);
    await request(app).get('/api/v1/audiences').set(auth(learner)).expect(403);
    await request(app).get('/api/v1/users').expect(401);
  });

  it('accepts me for a user id: the caller', async function () {
    const me = await request(app).get('/api/v1/users/me').set(auth(learner)).expect(200);
    expect(me.body).to.include({ id: learnerId, username: 'learner' });
    await request(app).get('/api/v1/users/me/required-learning').set(auth(learner)).expect(200);
    const tokens = await request(app).get('/api/v1/users/me/tokens').set(auth(learner)).expect(200);
    expect(tokens.body.items).to.have.length(1);
    await request(app).get('/api/v1/users/me').expect(401);
    // Only user ids take `me`.
    await request(app).get('/api/v1/courses/me').set(auth(learner)).expect(404);
  });

  it('lists to a learner only the courses and programs they may see; everything to admins', async function () {
    const shown = (await site.services.courses.create({ shortname: 'L-SHOWN', fullname: 'List shown' })).id;
    const hidden = (await site.services.courses.create({ shortname: 'L-HIDDEN', fullname: 'List hidden', visible: false })).id;
    const mine = (await site.services.courses.create({ shortname: 'L-MINE', fullname: 'List mine', visible: false })).id;
    await site.services.enrolments.enrol(learnerId, mine, 'manual', { status: 'suspended' });
    const asLearner = await walk<{ id: number }>('/courses?q=list', learner);
    expect(asLearner.map((c) => c.id).sort()).to.deep.equal([shown, mine].sort());
    const asAdmin = await walk<{ id: number }>('/courses?q=list');
    expect(asAdmin.map((c) => c.id).sort()).to.deep.equal([shown, hidden, mine].sort());
    const onlyHidden = await walk<{ id: number }>('/courses?q=list&visible=false');
    expect(onlyHidden.map((c) => c.id).sort()).to.deep.equal([hidden, mine].sort());

    const open = (await site.services.programs.create({ shortname: 'LP-OPEN', fullname: 'LP open', courseSets: [{ courseIds: [shown], rule: 'all' }] })).program
      .id;
    const closed = (
      await site.services.programs.create({
        shortname: 'LP-CLOSED',
        fullname: 'LP closed',
        available: false,
        courseSets: [{ courseIds: [shown], rule: 'all' }],
      })
    ).program.id;
    const programs = await walk<{ id: number }>('/programs?q=LP', learner);
    expect(programs.map((p) => p.id)).to.deep.equal([open]);
    const all = await walk<{ id: number; sets: number; learners: number }>('/programs?q=lp&sort=shortname');
    expect(all.map((p) => p.id)).to.deep.equal([closed, open]);
    expect(all[0]).to.include({ sets: 1, learners: 0 });
    expect(await walk('/programs?q=LP&available=false')).to.have.length(1);
  });

  it('lists audiences and the position and organisation trees', async function () {
    await request(app).post('/api/v1/audiences').set(auth(admin)).send({ name: 'Sales team' }).expect(201);
    await request(app)
      .post('/api/v1/audiences')
      .set(auth(admin))
      .send({ name: 'Sales leads', rules: [{ type: 'user_field', field: 'lang', value: 'fr' }] })
      .expect(201);
    const sales = await walk<{ name: string; type: string }>('/audiences?q=sales');
    expect(sales.map((a) => a.name)).to.deep.equal(['Sales leads', 'Sales team']);
    expect((await walk<{ name: string }>('/audiences?q=sales&type=static')).map((a) => a.name)).to.deep.equal(['Sales team']);

    const root = (await request(app).post('/api/v1/organisations').set(auth(admin)).send({ name: 'Acme' }).expect(201)).body as { id: number };
    for (const name of ['West', 'East', 'North'])
      await request(app).post('/api/v1/organisations').set(auth(admin)).send({ name, parentId: root.id }).expect(201);
    const children = await walk<{ name: string; parentId: number }>(`/organisations?parentId=${root.id}&limit=2`);
    expect(children.map((n) => n.name)).to.deep.equal(['East', 'North', 'West']);
    expect((await walk<{ name: string }>('/organisations?root=true')).map((n) => n.name)).to.deep.equal(['Acme']);
    expect(await walk('/positions')).to.deep.equal([]);
    // Learners may read the trees (as they may read one node).
    expect(await walk('/organisations?q=we', learner)).to.have.length(1);
  });

  it('reads a node of a flat tree with its first 100 children by name, saying there are more, which the list pages', async function () {
    const flat = await site.services.hierarchy.create('position', { name: 'Flat' });
    const names = Array.from({ length: 105 }, (_, i) => `Role ${String(i).padStart(3, '0')}`);
    for (const name of [...names].reverse()) await site.services.hierarchy.create('position', { name, parentId: flat.id });
    const read = (await request(app).get(`/api/v1/positions/${flat.id}`).set(auth(learner)).expect(200)).body as {
      children: Array<{ name: string }>;
      moreChildren: boolean;
    };
    expect(read.children.map((c) => c.name)).to.deep.equal(names.slice(0, 100));
    expect(read.moreChildren).to.equal(true);
    expect((await walk<{ name: string }>(`/positions?parentId=${flat.id}&limit=40`)).map((n) => n.name)).to.deep.equal(names);
    const leaf = (
      await request(app)
        .get(`/api/v1/positions/${(await walk<{ id: number }>(`/positions?parentId=${flat.id}&limit=1000`))[0]!.id}`)
        .set(auth(admin))
        .expect(200)
    ).body as { children: unknown[]; moreChildren: boolean };
    expect(leaf).to.deep.include({ children: [], moreChildren: false });
  });

  it('documents every list with its query parameters', async function () {
    const doc = (await request(app).get('/api/v1/openapi.json').expect(200)).body as {
      paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string }> } }>;
    };
    for (const path of ['/users', '/courses', '/programs', '/audiences', '/positions', '/organisations', '/programs/{id}/exceptions']) {
      const names = (doc.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      expect(names, path).to.include.members(['limit', 'cursor', 'sort']);
    }
  });
});

describe('paged admin pages', function () {
  let t: TestSite;
  let app: express.Express;
  let admin: string;
  const html = { Accept: 'text/html' };

  before(async function () {
    t = await createTestSite();
    app = createApp(t.site);
    const root = await t.site.services.users.create({ username: 'root', email: 'root@example.com', fullname: 'Root', isAdmin: true });
    admin = await createApiToken(t.site.db, root.id);
    const course = (await t.site.services.courses.create({ shortname: 'C1', fullname: 'Course one' })).id;
    for (let i = 1; i <= 7; i++) {
      await t.site.services.programs.create({ shortname: `PG-${i}`, fullname: `Paged program ${i}`, courseSets: [{ courseIds: [course], rule: 'all' }] });
    }
    await t.site.services.programs.create({ shortname: 'OTHER', fullname: 'Other program', courseSets: [{ courseIds: [course], rule: 'all' }] });
  });

  after(async function () {
    await t?.close();
  });

  const get = (url: string) => request(app).get(url).set(html).set('Authorization', `Bearer ${admin}`).expect(200);
  const shown = (text: string) => [...text.matchAll(/<th scope="row">Paged program (\d)/g)].map((m) => Number(m[1]));
  const link = (text: string, rel: 'next' | 'prev') => {
    const match = new RegExp(`rel="${rel}" href="([^"]+)"`).exec(text);
    return match ? match[1]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=') : null;
  };

  it('pages the program list with previous and next links, keeping the search and the page size', async function () {
    const first = await get('/admin/programs?q=paged&limit=3');
    expect(shown(first.text)).to.deep.equal([1, 2, 3]);
    expect(first.text).to.not.contain('Other program');
    expect(link(first.text, 'prev')).to.equal(null);
    const second = await get(link(first.text, 'next')!);
    expect(shown(second.text)).to.deep.equal([4, 5, 6]);
    const third = await get(link(second.text, 'next')!);
    expect(shown(third.text)).to.deep.equal([7]);
    expect(link(third.text, 'next')).to.equal(null);
    const back = await get(link(third.text, 'prev')!);
    expect(shown(back.text)).to.deep.equal([4, 5, 6]);
    expect(link(back.text, 'next')).to.contain('q=paged').and.to.contain('limit=3');
    // A page size out of bounds falls back to the default; a cursor from nowhere is a 400.
    expect(shown((await get('/admin/programs?limit=5000')).text)).to.have.length(7);
    await request(app).get('/admin/programs?cursor=garbage').set(html).set('Authorization', `Bearer ${admin}`).expect(400);
  });

  it('pages the public home page of available programs', async function () {
    const names = (text: string) => [...text.matchAll(/(Paged|Other) program ?(\d?)/g)].map((m) => m[0]);
    const first = await request(app).get('/?limit=3').set(html).expect(200);
    const next = link(first.text, 'next');
    expect(next).to.match(/^\/\?/);
    const second = await request(app).get(next!).set(html).expect(200);
    const seen = [...new Set(names(first.text))];
    const later = [...new Set(names(second.text))];
    expect(seen).to.have.length(3);
    expect(later).to.have.length(3);
    expect(later.filter((n) => seen.includes(n))).to.deep.equal([]);
  });
});
