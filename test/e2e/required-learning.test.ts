/**
 * Issue 10 item 5, "every list is paged": a learner's Required Learning, a page of programs at a
 * time in its own order (soonest due first, none last, then by name), through the API and the page.
 */
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';
import { PASSWORD, signIn } from '../browser/scenario';

describe(`Required Learning, paged (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'required-learning-secret-0123456789' });
    site = t.site;
    app = createApp(site);
  });
  after(async () => t?.close());

  it("pages a learner's Required Learning soonest due first, none last, leaving completed programs out (API and page)", async function () {
    const { id } = await site.services.users.create({ username: 'busy', email: 'busy@example.com', fullname: 'Busy Learner', password: PASSWORD });
    const token = await createApiToken(site.db, id);
    const inDays = (days: number) => new Date(site.db.now() + days * 86_400_000).toISOString();
    const courseOf: Record<string, number> = {};
    // Due in 33, never, 31, 32 and 34 days; the last is completed below.
    for (const [name, days] of [
      ['Pottery', 33],
      ['Origami', null],
      ['Juggling', 31],
      ['Knitting', 32],
      ['Weaving', 34],
    ] as const) {
      const course = await site.services.courses.create({ shortname: `rl-${name}`, fullname: `${name} course` });
      courseOf[name] = course.id;
      const { program } = await site.services.programs.create({
        shortname: `rl-${name}`,
        fullname: name,
        courseSets: [{ courseIds: [course.id], rule: 'all' }],
      });
      await site.services.assignment.addRule(program.id, { source: 'individual', instanceId: id, due: days === null ? null : { date: inDays(days) } });
    }
    await site.jobs.drain();
    await site.services.completion.recordCourseCompletion(courseOf.Weaving!, id, { completedAt: site.db.now(), source: 'import' });

    const read = async (cursor: string | null) =>
      (
        await request(app)
          .get(`/api/v1/users/me/required-learning?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(auth(token))
          .expect(200)
      ).body as {
        programs: Array<{ fullname: string }>;
        nextCursor: string | null;
      };
    const first = await read(null);
    expect(first.programs.map((p) => p.fullname)).to.deep.equal(['Juggling', 'Knitting']);
    const second = await read(first.nextCursor);
    expect(second.programs.map((p) => p.fullname)).to.deep.equal(['Pottery', 'Origami']);
    expect(second.nextCursor).to.equal(null);

    const agent = request.agent(app);
    await signIn(agent, 'busy');
    const page = (await agent.get('/my/required-learning?limit=2').set('Accept', 'text/html').expect(200)).text;
    expect(page).to.contain('Juggling').and.to.contain('Knitting').and.not.to.contain('Pottery');
    const links = page.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    const next = /rel="next" href="(\/my\/required-learning\?[^"]*cursor=[^"]+)"/.exec(links)![1]!;
    const rest = (await agent.get(next).set('Accept', 'text/html').expect(200)).text;
    expect(rest).to.contain('Pottery').and.to.contain('Origami').and.not.to.contain('Weaving');
  });
});
