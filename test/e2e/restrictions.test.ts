/**
 * Issue 13, restricted access inside courses (DOMAIN 8): the seed scenarios through the REST API
 * and the learner pages, validation of trees when saved, enforcement by URL, the bounded cost of a
 * course page, and what disabling the restrict_access plugin does (fail closed), on the database
 * under test (WAYMARK_TEST_DB=sqlite|mysql).
 */
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import { statementTrace } from '../../core/kernel/db/statements';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';
import { PASSWORD, csrfFrom, signIn } from '../browser/scenario';

const html = { Accept: 'text/html' };
type Agent = ReturnType<typeof request.agent>;

/** What a learner's course page shows of one activity. */
type Shown = 'open' | 'locked' | 'hidden';

describe(`restricted access inside courses, issue 13 (${testDialect})`, function () {
  this.timeout(120_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let seq = 0;

  const api = {
    get: (p: string) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`),
    post: (p: string, body: object) => request(app).post(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`).send(body),
    patch: (p: string, body: object) => request(app).patch(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`).send(body),
  };

  async function ok<T>(res: request.Test, status?: number): Promise<T> {
    const r = await res;
    if (status !== undefined) expect(r.status, JSON.stringify(r.body)).to.equal(status);
    else expect(r.status, JSON.stringify(r.body)).to.be.within(200, 299);
    return r.body as T;
  }

  async function course(name: string): Promise<number> {
    return (await ok<{ id: number }>(api.post('/courses', { shortname: `c${++seq}`, fullname: name }), 201)).id;
  }

  async function activity(courseId: number, name: string, extra: object = {}): Promise<number> {
    return (await ok<{ id: number }>(api.post(`/courses/${courseId}/activities`, { type: 'resource', name, ...extra }), 201)).id;
  }

  async function learner(options: { lang?: string; courses: number[] }): Promise<{ id: number; agent: Agent }> {
    const username = `learner${++seq}`;
    const { id } = await site.services.users.create({
      username,
      email: `${username}@example.com`,
      fullname: `Learner ${seq}`,
      password: PASSWORD,
      lang: options.lang,
    });
    for (const courseId of options.courses) await site.services.enrolments.enrol(id, courseId, 'manual');
    const agent = request.agent(app);
    await signIn(agent, username);
    return { id, agent };
  }

  /** Every activity of the course page as the learner sees it: linked (open), listed without a link (locked), or absent. */
  async function coursePage(agent: Agent, courseId: number, activities: Record<string, number>): Promise<Record<string, Shown>> {
    const page = (await agent.get(`/courses/${courseId}`).set(html).expect(200)).text;
    const shown: Record<string, Shown> = {};
    for (const [name, id] of Object.entries(activities)) {
      if (page.includes(`<a href="/activities/${id}">${name}</a>`)) shown[name] = 'open';
      else if (page.includes(`>${name}</span>`)) shown[name] = 'locked';
      else shown[name] = 'hidden';
    }
    return shown;
  }

  const openIt = (agent: Agent, activityId: number) => agent.get(`/activities/${activityId}`).set(html);

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'issue-13-restrict-secret-0123456789' });
    site = t.site;
    app = createApp(site);
    const ops = await site.services.users.create({ username: 'ops', email: 'ops@example.com', fullname: 'Olive Operator', password: PASSWORD, isAdmin: true });
    admin = await createApiToken(site.db, ops.id);
  });
  after(async () => t?.close());

  describe('grade bands unlock resources A, B and C', () => {
    let courseId: number;
    let quiz: number;
    let ids: Record<string, number>;

    before(async () => {
      courseId = await course('Grade bands');
      quiz = await activity(courseId, 'Knowledge check', { type: 'quiz', maxGrade: 100 });
      const band = (grade: object) => ({ availability: { op: '&', c: [{ type: 'grade', id: quiz, ...grade }], showc: [true] } });
      ids = {
        'Knowledge check': quiz,
        'Resource A': await activity(courseId, 'Resource A', band({ max: 51 })),
        'Resource B': await activity(courseId, 'Resource B', band({ min: 51, max: 81 })),
        'Resource C': await activity(courseId, 'Resource C', band({ min: 81 })),
      };
    });

    for (const [grade, open] of [
      [null, []],
      [0, ['Resource A']],
      [50, ['Resource A']],
      [51, ['Resource B']],
      [80, ['Resource B']],
      [81, ['Resource C']],
      [100, ['Resource C']],
    ] as Array<[number | null, string[]]>) {
      it(`a learner ${grade === null ? 'with no grade yet' : `graded ${grade}%`} may open ${open.join(', ') || 'none of them'}; the others are greyed with why`, async () => {
        const l = await learner({ courses: [courseId] });
        if (grade !== null) await ok(api.post(`/activities/${quiz}/grades`, { userId: l.id, grade }));
        const shown = await coursePage(l.agent, courseId, ids);
        expect(shown['Knowledge check']).to.equal('open');
        for (const name of ['Resource A', 'Resource B', 'Resource C']) expect(shown[name], name).to.equal(open.includes(name) ? 'open' : 'locked');

        for (const name of ['Resource A', 'Resource B', 'Resource C']) {
          const res = await openIt(l.agent, ids[name]!);
          if (open.includes(name)) expect(res.status, name).to.equal(200);
          else {
            // Refused by URL with the explanation, and opening did not complete it.
            expect(res.status, name).to.equal(403);
            const why = { 'Resource A': 'less than 51%', 'Resource B': 'at least 51% and less than 81%', 'Resource C': 'at least 81%' }[name]!;
            expect(res.text).to.include(`Available if you score ${why} in Knowledge check.`);
          }
        }
      });
    }

    it('the course page states the condition of a locked resource', async () => {
      const l = await learner({ courses: [courseId] });
      const page = (await l.agent.get(`/courses/${courseId}`).set(html).expect(200)).text;
      expect(page).to.include('Available if you score at least 51% and less than 81% in Knowledge check.');
      expect(page).to.include('aria-disabled="true"');
    });

    it('opening a locked activity by its URL records nothing: no completion, no grade', async () => {
      const locked = await activity(courseId, 'Tracked bonus', {
        type: 'page',
        completionTracked: true,
        availability: { op: '&', c: [{ type: 'grade', id: quiz, min: 81 }], showc: [true] },
      });
      const lockedQuiz = await activity(courseId, 'Bonus quiz', {
        type: 'quiz',
        maxGrade: 10,
        availability: { op: '&', c: [{ type: 'grade', id: quiz, min: 81 }], showc: [true] },
      });
      const l = await learner({ courses: [courseId] });
      const refused = await openIt(l.agent, locked);
      expect(refused.status).to.equal(403);
      // Refused with the explanation, as on the course page.
      expect(refused.text).to.include('Available if you score at least 81% in Knowledge check.');
      // The open quiz's page has a form, hence a CSRF token: an attempt at the locked quiz is refused all the same.
      const form = (await openIt(l.agent, quiz).expect(200)).text;
      const post = await l.agent
        .post(`/activities/${lockedQuiz}/attempt`)
        .type('form')
        .set(html)
        .send({ _csrf: csrfFrom(form) });
      expect(post.status).to.equal(403);
      expect(post.text).to.include('Available if you score at least 81% in Knowledge check.');
      expect(await site.db.knex('activity_completions').where({ user_id: l.id }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
      expect(await site.db.knex('grades').where({ user_id: l.id }).count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    });

    it('operators see and open every activity', async () => {
      const ops = request.agent(app);
      await signIn(ops, 'ops');
      expect(Object.values(await coursePage(ops, courseId, ids))).to.deep.equal(['open', 'open', 'open', 'open']);
    });
  });

  describe('preferred language and audience ABC (joined by completing course A)', () => {
    let courseId: number;
    let courseA: number;
    let stepOfA: number;
    let ids: Record<string, number>;

    before(async () => {
      courseA = await course('Course A');
      stepOfA = await activity(courseA, 'Welcome to A', { type: 'page', completionTracked: true });
      const abc = await ok<{ id: number }>(api.post('/audiences', { name: 'ABC', rules: [{ type: 'course_completed', courseId: courseA }] }), 201);
      courseId = await course('Languages');
      const lang = (code: string) => ({ type: 'profile', sf: 'lang', op: 'isequalto', v: code });
      ids = {};
      for (let n = 1; n <= 10; n++) {
        const speakers = n >= 4 && n <= 9 ? 'fr' : 'en';
        const conditions = n >= 9 ? [lang(speakers), { type: 'audience', id: abc.id }] : [lang(speakers)];
        ids[`Resource ${n}`] = await activity(courseId, `Resource ${n}`, { availability: { op: '&', c: conditions, showc: conditions.map(() => false) } });
      }
    });

    const visible = (shown: Record<string, Shown>) => Object.keys(shown).filter((k) => shown[k] === 'open');
    const names = (numbers: number[]) => numbers.map((n) => `Resource ${n}`);

    it('French speakers see resources 4 to 8, English speakers 1 to 3; the rest is hidden, not greyed', async () => {
      const fr = await learner({ lang: 'fr', courses: [courseId] });
      const en = await learner({ lang: 'en', courses: [courseId] });
      const frShown = await coursePage(fr.agent, courseId, ids);
      expect(visible(frShown)).to.deep.equal(names([4, 5, 6, 7, 8]));
      expect(Object.values(frShown).filter((s) => s === 'locked')).to.deep.equal([]);
      expect(visible(await coursePage(en.agent, courseId, ids))).to.deep.equal(names([1, 2, 3]));
      const hidden = await openIt(en.agent, ids['Resource 5']!);
      expect(hidden.status).to.equal(403);
      expect(hidden.text).to.include('Available if your preferred language is French.');
    });

    it('completing course A joins audience ABC and reveals resource 9 to French and 10 to English speakers', async () => {
      const fr = await learner({ lang: 'fr', courses: [courseId, courseA] });
      const en = await learner({ lang: 'en', courses: [courseId, courseA] });
      const refused = await openIt(fr.agent, ids['Resource 9']!);
      expect(refused.status).to.equal(403);
      expect(refused.text).to.include('Available if you are a member of ABC.');
      for (const l of [fr, en]) await ok(api.post(`/activities/${stepOfA}/completions`, { userId: l.id }), 201);
      expect(visible(await coursePage(fr.agent, courseId, ids))).to.deep.equal(names([4, 5, 6, 7, 8, 9]));
      expect(visible(await coursePage(en.agent, courseId, ids))).to.deep.equal(names([1, 2, 3, 10]));
      expect((await openIt(fr.agent, ids['Resource 9']!)).status).to.equal(200);
    });

    it('the course API leaves out what a restriction hides from the learner asking', async () => {
      const fr = await learner({ lang: 'fr', courses: [courseId] });
      const token = await createApiToken(site.db, fr.id);
      const res = await request(app).get(`/api/v1/courses/${courseId}`).set('Authorization', `Bearer ${token}`).expect(200);
      expect((res.body as { activities: Array<{ name: string }> }).activities.map((a) => a.name)).to.deep.equal(names([4, 5, 6, 7, 8]));
      expect((await ok<{ activities: unknown[] }>(api.get(`/courses/${courseId}`))).activities).to.have.length(10);
    });

    it('changing a learner’s preferred language changes what they see at once', async () => {
      const l = await learner({ lang: 'en', courses: [courseId] });
      await ok(api.patch(`/users/${l.id}`, { lang: 'fr' }));
      expect(visible(await coursePage(l.agent, courseId, ids))).to.deep.equal(names([4, 5, 6, 7, 8]));
    });
  });

  describe('course sections carry trees for every activity in them', () => {
    it('locks or hides a section’s activities for a learner who fails its tree, on the page and by URL', async () => {
      const courseId = await course('Sectioned');
      const quiz = await activity(courseId, 'Entry quiz', { type: 'quiz', maxGrade: 10 });
      const week2 = await ok<{ id: number }>(
        api.post(`/courses/${courseId}/sections`, { name: 'Week 2', availability: { op: '&', c: [{ type: 'grade', id: quiz, min: 50 }], showc: [true] } }),
        201,
      );
      const secret = await ok<{ id: number }>(
        api.post(`/courses/${courseId}/sections`, {
          name: 'Pour les francophones',
          availability: { op: '&', c: [{ type: 'profile', sf: 'lang', op: 'isequalto', v: 'fr' }], showc: [false] },
        }),
        201,
      );
      const ids = {
        'Entry quiz': quiz,
        Reading: await activity(courseId, 'Reading', { sectionId: week2.id }),
        'Extra reading': await activity(courseId, 'Extra reading', {
          sectionId: week2.id,
          availability: { op: '&', c: [{ type: 'completion', id: quiz, e: 'complete' }], showc: [true] },
        }),
        Solutions: await activity(courseId, 'Solutions', { sectionId: secret.id }),
      };
      const l = await learner({ lang: 'en', courses: [courseId] });
      await ok(api.post(`/activities/${quiz}/grades`, { userId: l.id, grade: 4 }));
      expect(await coursePage(l.agent, courseId, ids)).to.deep.equal({
        'Entry quiz': 'open',
        Reading: 'locked',
        'Extra reading': 'locked',
        Solutions: 'hidden',
      });
      const page = (await l.agent.get(`/courses/${courseId}`).set(html).expect(200)).text;
      expect(page).to.include('<h3 class="section-title">Week 2</h3>');
      expect(page, 'a section with nothing the learner may see is left out').to.not.include('Pour les francophones');
      const refused = await openIt(l.agent, ids.Reading);
      expect(refused.status).to.equal(403);
      expect(refused.text).to.include('Available if you score at least 50% in Entry quiz.');
      expect(page).to.include('Available if you score at least 50% in Entry quiz. Available if you complete Entry quiz.');

      await ok(api.post(`/activities/${quiz}/grades`, { userId: l.id, grade: 5 }));
      expect(await coursePage(l.agent, courseId, ids)).to.deep.equal({ 'Entry quiz': 'open', Reading: 'open', 'Extra reading': 'locked', Solutions: 'hidden' });
      // Moving an activity out of the section frees it from the section's tree.
      await ok(api.patch(`/activities/${ids.Solutions}`, { sectionId: null }));
      expect((await coursePage(l.agent, courseId, ids)).Solutions).to.equal('open');
    });

    it('checks a section’s tree and an activity’s section when saved', async () => {
      const courseId = await course('Sections checked');
      const other = await ok<{ id: number }>(api.post(`/courses/${await course('Other')}/sections`, { name: 'Elsewhere' }), 201);
      const bad = await api.post(`/courses/${courseId}/sections`, { name: 'Bad', availability: { op: '&', c: [{ type: 'date', d: 'soon', t: 'x' }] } });
      expect(bad.status).to.equal(422);
      expect(bad.body.error.details.map((d: { path: string }) => d.path)).to.include('availability/c/0/d');
      const wrongSection = await api.post(`/courses/${courseId}/activities`, { type: 'page', name: 'Lost', sectionId: other.id });
      expect(wrongSection.status).to.equal(422);
      expect(wrongSection.body.error.details[0]).to.include({ path: 'sectionId', code: 'SECTION_NOT_IN_COURSE' });
      const view = await ok<{ sections: unknown[]; activities: unknown[] }>(api.get(`/courses/${courseId}`));
      expect(view).to.deep.include({ sections: [], activities: [] });
    });
  });

  describe('trees are checked when saved', () => {
    let courseId: number;
    let quiz: number;
    let page: number;

    before(async () => {
      courseId = await course('Validation');
      quiz = await activity(courseId, 'Quiz', { type: 'quiz', maxGrade: 10 });
      page = await activity(courseId, 'Page');
    });

    const refused = async (availability: unknown, status = 422) => {
      const before = await ok<object>(api.get(`/courses/${courseId}`));
      const res = await api.patch(`/activities/${page}`, { availability });
      expect(res.status, JSON.stringify(res.body)).to.equal(status);
      const after = await ok<object>(api.get(`/courses/${courseId}`));
      expect(after, 'a refused tree changes nothing').to.deep.equal(before);
      return res.body as { error: { code: string; details: Array<{ path: string; code: string; message: string }> } };
    };

    it('names the path of the bad node', async () => {
      const body = await refused({
        op: '&',
        c: [
          { type: 'grade', id: quiz, min: 40 },
          { op: '|', c: [{ type: 'grade', id: quiz, min: 'lots' }] },
        ],
      });
      expect(body.error.code).to.equal('AVAILABILITY_INVALID');
      expect(body.error.details.map((d) => d.path)).to.deep.equal(['availability/c/1/c/0/min']);
    });

    it('refuses an unknown condition type, a wrong operator, a showc of the wrong length and an activity of another course', async () => {
      const other = await activity(await course('Elsewhere'), 'Other quiz', { type: 'quiz', maxGrade: 5 });
      expect((await refused({ op: '&', c: [{ type: 'moonphase', phase: 'full' }] })).error.details[0]).to.include({
        path: 'availability/c/0/type',
        code: 'UNKNOWN_CONDITION',
      });
      expect((await refused({ op: 'and', c: [{ type: 'grade', id: quiz }] })).error.details[0]!.path).to.equal('availability/op');
      expect((await refused({ op: '&', c: [{ type: 'grade', id: quiz }], showc: [true, false] })).error.details[0]!.path).to.equal('availability/showc');
      expect((await refused({ op: '&', c: [{ type: 'grade', id: other }] })).error.details[0]).to.include({
        path: 'availability/c/0/id',
        code: 'ACTIVITY_NOT_IN_COURSE',
      });
      expect((await refused({ op: '&', c: [{ type: 'grade', id: quiz, min: 80, max: 50 }] })).error.details[0]!.path).to.equal('availability/c/0/max');
      expect((await refused({ op: '&', c: [{ type: 'profile', sf: 'lang', op: 'isequalto' }] })).error.details[0]!.path).to.equal('availability/c/0/v');
      expect((await refused({ op: '&', c: [{ type: 'audience', id: 999999 }] })).error.details[0]!.code).to.equal('UNKNOWN_AUDIENCE');
    });

    it('refuses a tree on a new activity in the same way, creating nothing', async () => {
      const before = (await ok<{ activities: unknown[] }>(api.get(`/courses/${courseId}`))).activities.length;
      const res = await api.post(`/courses/${courseId}/activities`, { type: 'page', name: 'Bad', availability: { op: '&', c: [{ type: 'nope' }] } });
      expect(res.status).to.equal(422);
      expect((await ok<{ activities: unknown[] }>(api.get(`/courses/${courseId}`))).activities.length).to.equal(before);
    });

    it('saves a good tree, replaces it and removes it with null', async () => {
      const tree = {
        op: '!|',
        c: [
          { type: 'date', d: '<', t: '2020-01-01T00:00:00Z' },
          { type: 'completion', id: quiz, e: 'failed', pass: 60 },
        ],
        showc: [true, false],
      };
      expect((await ok<{ availability: unknown }>(api.patch(`/activities/${page}`, { availability: tree }))).availability).to.deep.equal(tree);
      expect((await ok<{ availability: unknown; name: string }>(api.patch(`/activities/${page}`, { name: 'Page renamed' }))).availability).to.deep.equal(tree);
      expect((await ok<{ availability: unknown }>(api.patch(`/activities/${page}`, { availability: null }))).availability).to.equal(null);
    });
  });

  describe('conditions joined by or, nested and negated', () => {
    it('evaluates "none of" and "any of" with a completion, a date window and the show flag', async () => {
      const courseId = await course('Logic');
      const intro = await activity(courseId, 'Intro', { type: 'page', completionTracked: true });
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const ids = {
        Intro: intro,
        // "None of": open until Intro is complete, then greyed.
        'Before intro': await activity(courseId, 'Before intro', {
          availability: { op: '!|', c: [{ type: 'completion', id: intro, e: 'complete' }], showc: [true] },
        }),
        'After intro or later': await activity(courseId, 'After intro or later', {
          availability: {
            op: '|',
            c: [
              { type: 'completion', id: intro, e: 'complete' },
              { op: '&', c: [{ type: 'date', d: '>=', t: future }] },
            ],
            show: true,
          },
        }),
        'Secret until tomorrow': await activity(courseId, 'Secret until tomorrow', {
          availability: { op: '|', c: [{ type: 'date', d: '>=', t: future }], show: false },
        }),
      };
      const l = await learner({ courses: [courseId] });
      expect(await coursePage(l.agent, courseId, ids)).to.deep.equal({
        Intro: 'open',
        'Before intro': 'open',
        'After intro or later': 'locked',
        'Secret until tomorrow': 'hidden',
      });
      const page = (await l.agent.get(`/courses/${courseId}`).set(html).expect(200)).text;
      expect(page).to.match(/Available if one of these holds: you complete Intro or it is .+ or later\./);
      // Opening Intro completes it: that unlocks one and locks the other.
      await openIt(l.agent, intro).expect(200);
      expect(await coursePage(l.agent, courseId, ids)).to.deep.include({ 'Before intro': 'locked', 'After intro or later': 'open' });
      const res = await openIt(l.agent, ids['Before intro']);
      expect(res.status).to.equal(403);
      expect(res.text).to.include('Available if you have not completed Intro.');
    });
  });

  describe('cost of one course page', () => {
    /** Statements one learner's course page runs (Knex queries and the prepared-statement path). */
    async function statementsFor(agent: Agent, courseId: number): Promise<number> {
      let n = 0;
      const count = () => void n++;
      site.db.knex.on('query', count);
      statementTrace.listener = count;
      try {
        await agent.get(`/courses/${courseId}`).set(html).expect(200);
      } finally {
        site.db.knex.off('query', count);
        statementTrace.listener = null;
      }
      return n;
    }

    it('does not grow with the number of restricted activities', async () => {
      const abc = await ok<{ id: number }>(api.post('/audiences', { name: `Cost ${++seq}` }), 201);
      const counts: number[] = [];
      for (const size of [3, 30]) {
        const courseId = await course(`Cost ${size}`);
        const quiz = await activity(courseId, 'Quiz', { type: 'quiz', maxGrade: 10, completionTracked: true });
        for (let i = 0; i < size; i++) {
          await activity(courseId, `R${i}`, {
            availability: {
              op: '&',
              c: [
                { type: 'grade', id: quiz, min: i % 100 },
                {
                  op: '|',
                  c: [
                    { type: 'audience', id: abc.id },
                    { type: 'profile', sf: 'lang', op: 'isequalto', v: 'en' },
                  ],
                },
                { type: 'completion', id: quiz, e: 'complete' },
              ],
              showc: [true, true, true],
            },
          });
        }
        const l = await learner({ courses: [courseId] });
        await statementsFor(l.agent, courseId); // warm: session, caches
        counts.push(await statementsFor(l.agent, courseId));
      }
      expect(counts[1], `statements for 3 vs 30 restricted activities: ${counts.join(' vs ')}`).to.equal(counts[0]);
    });
  });

  describe('operators edit restrictions with a count of who matches', () => {
    let courseId: number;
    let quiz: number;
    let page: number;
    let ops: Agent;

    before(async () => {
      courseId = await course('Operator editing');
      quiz = await activity(courseId, 'Final quiz', { type: 'quiz', maxGrade: 20 });
      page = await activity(courseId, 'Bonus <material>');
      for (const grade of [5, 10, 15, 20]) {
        const l = await learner({ lang: grade > 10 ? 'fr' : 'en', courses: [courseId] });
        await ok(api.post(`/activities/${quiz}/grades`, { userId: l.id, grade }));
      }
      await learner({ courses: [courseId] }); // no grade yet
      ops = request.agent(app);
      await signIn(ops, 'ops');
    });

    it('counts enrolled learners against a proposed tree through the API, without saving it', async () => {
      const tree = { op: '&', c: [{ type: 'grade', id: quiz, min: 50 }], showc: [true] };
      expect(await ok(api.post(`/restrict_access/courses/${courseId}/matches`, { availability: tree, activityId: page }))).to.deep.equal({
        enrolled: 5,
        open: 3,
        greyed: 2,
        hidden: 0,
      });
      const hiding = { op: '|', c: [{ type: 'profile', sf: 'lang', op: 'isequalto', v: 'fr' }], show: false };
      expect(await ok(api.post(`/restrict_access/courses/${courseId}/matches`, { availability: hiding }))).to.deep.equal({
        enrolled: 5,
        open: 2,
        greyed: 0,
        hidden: 3,
      });
      const bad = await api.post(`/restrict_access/courses/${courseId}/matches`, {
        availability: { op: '&', c: [{ type: 'grade', id: page }] },
        activityId: page,
      });
      expect(bad.status).to.equal(422);
      expect(bad.body.error.details[0].path).to.equal('availability/c/0/id');
      expect((await ok<{ availability: unknown }>(api.patch(`/activities/${page}`, {}))).availability).to.equal(null);
    });

    it('picks the activity by name in a form, counts who matches, saves, and shows the count of the saved tree', async () => {
      const list = (
        await ops
          .get(`/admin/restrict_access?search=${encodeURIComponent('Operator editing')}`)
          .set(html)
          .expect(200)
      ).text;
      expect(list).to.include(`href="/admin/restrict_access?course=${courseId}"`);
      const activities = (await ops.get(`/admin/restrict_access?course=${courseId}`).set(html).expect(200)).text;
      expect(activities).to.include('Bonus &lt;material&gt;');
      const editor = (await ops.get(`/admin/restrict_access/activities/${page}`).set(html).expect(200)).text;
      expect(editor).to.include(`<option value="${quiz}">Final quiz</option>`);
      const fields = { _csrf: csrfFrom(editor), join: 'all', hide: 'grey', c1_type: 'grade', c1_activity: String(quiz), c1_min: '50', c1_max: '' };
      const counted = await ops
        .post(`/admin/restrict_access/activities/${page}`)
        .type('form')
        .set(html)
        .send({ ...fields, action: 'count' })
        .expect(200);
      expect(counted.text).to.match(
        /With the restriction in the form: of 5 enrolled learners, <strong>3<\/strong> can open it, 2 see it greyed and 0 do not see it\./,
      );
      expect(
        (await ok<{ activities: Array<{ id: number; availability: unknown }> }>(api.get(`/courses/${courseId}`))).activities.find((a) => a.id === page)!
          .availability,
      ).to.equal(null);

      await ops
        .post(`/admin/restrict_access/activities/${page}`)
        .type('form')
        .set(html)
        .send({ ...fields, action: 'save' })
        .expect(303);
      const saved = (await ok<{ activities: Array<{ id: number; availability: unknown }> }>(api.get(`/courses/${courseId}`))).activities.find(
        (a) => a.id === page,
      )!;
      expect(saved.availability).to.deep.equal({ op: '&', c: [{ type: 'grade', id: quiz, min: 50 }], showc: [true] });
      const after = (await ops.get(`/admin/restrict_access/activities/${page}?notice=saved`).set(html).expect(200)).text;
      expect(after).to.include('With the saved restriction: of 5 enrolled learners, <strong>3</strong> can open it');

      const wrong = await ops
        .post(`/admin/restrict_access/activities/${page}`)
        .type('form')
        .set(html)
        .send({ ...fields, c1_min: '90', c1_max: '10', action: 'save' })
        .expect(422);
      expect(wrong.text).to.include('max (exclusive) must be above min (inclusive)');
      await ops
        .post(`/admin/restrict_access/activities/${page}`)
        .type('form')
        .set(html)
        .send({ _csrf: csrfFrom(editor), action: 'remove' })
        .expect(303);
      expect(
        (await ok<{ activities: Array<{ id: number; availability: unknown }> }>(api.get(`/courses/${courseId}`))).activities.find((a) => a.id === page)!
          .availability,
      ).to.equal(null);

      // Audiences are picked by name too (no list of every audience), and a saved audience condition reads back into the form.
      const club = await site.services.audiences.create({ name: 'Bonus <club>' });
      await site.services.audiences.create({ name: 'Bonus points' });
      const withAudiences = (await ops.get(`/admin/restrict_access/activities/${page}`).set(html).expect(200)).text;
      expect(withAudiences).to.include('data-pick="/admin/pick/audiences"');
      const base = { _csrf: csrfFrom(withAudiences), join: 'all', hide: 'hide', c1_type: 'audience', action: 'save' };
      const none = await ops
        .post(`/admin/restrict_access/activities/${page}`)
        .type('form')
        .set(html)
        .send({ ...base, c1_audience_q: 'Nobody' })
        .expect(422);
      expect(none.text).to.include('Condition 1: no audience matches “Nobody”');
      const two = await ops
        .post(`/admin/restrict_access/activities/${page}`)
        .type('form')
        .set(html)
        .send({ ...base, c1_audience_q: 'bonus' })
        .expect(422);
      expect(two.text).to.include('2 audiences match “bonus”: choose one').and.to.include(`type="radio" name="c1_audience" value="${club.id}"`);
      await ops
        .post(`/admin/restrict_access/activities/${page}`)
        .type('form')
        .set(html)
        .send({ ...base, c1_audience_q: 'bonus', c1_audience_was: 'bonus', c1_audience: String(club.id) })
        .expect(303);
      const byAudience = (await ok<{ activities: Array<{ id: number; availability: unknown }> }>(api.get(`/courses/${courseId}`))).activities.find(
        (a) => a.id === page,
      )!;
      expect(byAudience.availability).to.deep.equal({ op: '&', c: [{ type: 'audience', id: club.id }], showc: [false] });
      const reread = (await ops.get(`/admin/restrict_access/activities/${page}`).set(html).expect(200)).text;
      expect(reread).to.include('name="c1_audience_q" value="Bonus &lt;club&gt;"').and.to.include(`name="c1_audience" value="${club.id}"`);
    });

    it('answers the live count of the form as it changes, as JSON, without saving; names a bad tree; only for operators', async () => {
      const editor = (await ops.get(`/admin/restrict_access/activities/${page}`).set(html).expect(200)).text;
      expect(editor)
        .to.include(`data-live-count="/admin/restrict_access/activities/${page}/count"`)
        .and.to.include('src="/admin/restrict_access/live-count.js"');
      const script = await ops.get('/admin/restrict_access/live-count.js').expect(200);
      expect(script.type).to.equal('text/javascript');
      const before = (await site.services.courses.getActivity(page)).availability;
      const fields = { _csrf: csrfFrom(editor), join: 'all', hide: 'grey', c1_type: 'grade', c1_activity: String(quiz), c1_min: '50', c1_max: '' };
      const counted = await ops.post(`/admin/restrict_access/activities/${page}/count`).type('form').set('Accept', 'application/json').send(fields).expect(200);
      expect(counted.body).to.deep.equal({
        enrolled: 5,
        open: 3,
        greyed: 2,
        hidden: 0,
        message: 'With the restriction in the form: of 5 enrolled learners, 3 can open it, 2 see it greyed and 0 do not see it.',
      });
      const wrong = await ops
        .post(`/admin/restrict_access/activities/${page}/count`)
        .type('form')
        .set('Accept', 'application/json')
        .send({ ...fields, c1_min: '90', c1_max: '10' })
        .expect(422);
      expect(wrong.body.message).to.include('max (exclusive) must be above min (inclusive)');
      expect((await site.services.courses.getActivity(page)).availability).to.deep.equal(before);
      const l = await learner({ courses: [courseId] });
      const token = csrfFrom((await l.agent.get('/my/security').set(html).expect(200)).text);
      await l.agent
        .post(`/admin/restrict_access/activities/${page}/count`)
        .type('form')
        .send({ ...fields, _csrf: token })
        .expect(403);
      await l.agent.get('/admin/restrict_access/live-count.js').expect(403);
    });
  });

  describe('operators edit a section’s restriction, and who matches an activity counts its section', () => {
    it('edits a section’s tree in the same form, and counts an activity in it against both trees, as learners see them', async () => {
      const courseId = await course('Sectioned editing');
      const quiz = await activity(courseId, 'Week 1 quiz', { type: 'quiz', maxGrade: 20 });
      const week2 = await ok<{ id: number }>(api.post(`/courses/${courseId}/sections`, { name: 'Week <2>' }), 201);
      const worksheet = await activity(courseId, 'Worksheet', { sectionId: week2.id });
      const englishOnly = { op: '&', c: [{ type: 'profile', sf: 'lang', op: 'isequalto', v: 'en' }], showc: [true] };
      const answers = await activity(courseId, 'Answers', { sectionId: week2.id, availability: englishOnly });
      const learners: Agent[] = [];
      for (const [lang, grade] of [
        ['en', 5],
        ['en', 10],
        ['fr', 15],
        ['fr', 20],
        ['en', null],
      ] as const) {
        const l = await learner({ lang, courses: [courseId] });
        if (grade !== null) await ok(api.post(`/activities/${quiz}/grades`, { userId: l.id, grade }));
        learners.push(l.agent);
      }
      /** How the five learners find `name` on the course page: what the count must say. */
      const seen = async (name: string, id: number) => {
        const tally = { open: 0, greyed: 0, hidden: 0 };
        for (const agent of learners) {
          const shown = (await coursePage(agent, courseId, { [name]: id }))[name]!;
          tally[shown === 'open' ? 'open' : shown === 'locked' ? 'greyed' : 'hidden']++;
        }
        return tally;
      };
      const ops = request.agent(app);
      await signIn(ops, 'ops');

      const list = (await ops.get(`/admin/restrict_access?course=${courseId}`).set(html).expect(200)).text;
      expect(list).to.include(`<a href="/admin/restrict_access/sections/${week2.id}">Week &lt;2&gt;</a>`);
      expect(list).to.include('<span class="chip">in Week &lt;2&gt;</span>');
      const editor = (await ops.get(`/admin/restrict_access/sections/${week2.id}`).set(html).expect(200)).text;
      expect(editor).to.include('<h1>Restrictions: Week &lt;2&gt;</h1>');
      expect(editor).to.include(`<option value="${quiz}">Week 1 quiz</option>`);
      const fields = { _csrf: csrfFrom(editor), join: 'all', hide: 'grey', c1_type: 'grade', c1_activity: String(quiz), c1_min: '50' };
      const counted = await ops
        .post(`/admin/restrict_access/sections/${week2.id}`)
        .type('form')
        .set(html)
        .send({ ...fields, action: 'count' })
        .expect(200);
      expect(counted.text).to.include(
        'With the restriction in the form: of 5 enrolled learners, <strong>3</strong> can open it, 2 see it greyed and 0 do not see it.',
      );
      await ops
        .post(`/admin/restrict_access/sections/${week2.id}`)
        .type('form')
        .set(html)
        .send({ ...fields, action: 'save' })
        .expect(303);
      const saved = await ok<{ sections: Array<{ id: number; availability: unknown }> }>(api.get(`/courses/${courseId}`));
      expect(saved.sections.find((x) => x.id === week2.id)!.availability).to.deep.equal({ op: '&', c: [{ type: 'grade', id: quiz, min: 50 }], showc: [true] });

      // An activity with no tree of its own, in the section: counted against the section's tree.
      const plain = (await ops.get(`/admin/restrict_access/activities/${worksheet}`).set(html).expect(200)).text;
      expect(plain).to.include('whose restriction applies too');
      expect(plain).to.include(
        'With the restriction of its section: of 5 enrolled learners, <strong>3</strong> can open it, 2 see it greyed and 0 do not see it.',
      );
      expect(await seen('Worksheet', worksheet)).to.deep.equal({ open: 3, greyed: 2, hidden: 0 });
      // Its own tree (English speakers) and the section's (50% in the quiz): only the English speaker with 50% opens it.
      const own = (await ops.get(`/admin/restrict_access/activities/${answers}`).set(html).expect(200)).text;
      expect(own).to.include('With the saved restriction: of 5 enrolled learners, <strong>1</strong> can open it, 4 see it greyed and 0 do not see it.');
      expect(await seen('Answers', answers)).to.deep.equal({ open: 1, greyed: 4, hidden: 0 });
      expect(await ok(api.post(`/restrict_access/courses/${courseId}/matches`, { availability: englishOnly, activityId: answers }))).to.deep.equal({
        enrolled: 5,
        open: 1,
        greyed: 4,
        hidden: 0,
      });

      // The section now hides from who fails it: the two learners below 50% no longer see the answers at all.
      await ops
        .post(`/admin/restrict_access/sections/${week2.id}`)
        .type('form')
        .set(html)
        .send({ ...fields, hide: 'hide', action: 'save' })
        .expect(303);
      const hidden = (await ops.get(`/admin/restrict_access/activities/${answers}`).set(html).expect(200)).text;
      expect(hidden).to.include('With the saved restriction: of 5 enrolled learners, <strong>1</strong> can open it, 2 see it greyed and 2 do not see it.');
      expect(await seen('Answers', answers)).to.deep.equal({ open: 1, greyed: 2, hidden: 2 });

      // Removing the section's restriction leaves the activity's own.
      await ops
        .post(`/admin/restrict_access/sections/${week2.id}`)
        .type('form')
        .set(html)
        .send({ _csrf: csrfFrom(editor), action: 'remove' })
        .expect(303);
      expect((await ok<{ sections: Array<{ availability: unknown }> }>(api.get(`/courses/${courseId}`))).sections[0]!.availability).to.equal(null);
      expect(await seen('Answers', answers)).to.deep.equal({ open: 3, greyed: 2, hidden: 0 });
      expect((await ops.get(`/admin/restrict_access/activities/${worksheet}`).set(html).expect(200)).text).to.not.include('enrolled learners');
      expect((await ops.get('/admin/restrict_access/sections/999999').set(html)).status).to.equal(404);
    });
  });

  describe('disabling restrict_access fails closed', () => {
    it('keeps restricted activities locked (never opened), refuses new trees, and restores access when enabled again', async () => {
      const courseId = await course('Fail closed');
      const free = await activity(courseId, 'Free page');
      const restricted = await activity(courseId, 'Members only', {
        availability: { op: '&', c: [{ type: 'profile', sf: 'lang', op: 'isequalto', v: 'en' }], showc: [false] },
      });
      const l = await learner({ lang: 'en', courses: [courseId] });
      const ids = { 'Free page': free, 'Members only': restricted };
      expect(await coursePage(l.agent, courseId, ids)).to.deep.equal({ 'Free page': 'open', 'Members only': 'open' });

      await ok(api.post('/plugins/restrict_access/disable', {}));
      try {
        expect(await coursePage(l.agent, courseId, ids)).to.deep.equal({ 'Free page': 'open', 'Members only': 'locked' });
        const res = await openIt(l.agent, restricted);
        expect(res.status).to.equal(403);
        expect(res.text).to.include('its access restrictions cannot be checked right now');
        const save = await api.patch(`/activities/${free}`, { availability: { op: '&', c: [{ type: 'date', d: '>=', t: '2020-01-01T00:00:00Z' }] } });
        expect(save.status).to.equal(422);
        expect(save.body.error.details[0].code).to.equal('RESTRICTIONS_UNAVAILABLE');
        // Removing a tree needs nobody to check it.
        await ok(api.patch(`/activities/${free}`, { availability: null }));
      } finally {
        await ok(api.post('/plugins/restrict_access/enable', {}));
      }
      expect(await coursePage(l.agent, courseId, ids)).to.deep.equal({ 'Free page': 'open', 'Members only': 'open' });
    });
  });
});
