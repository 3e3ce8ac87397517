/**
 * The restriction conditions extension point (issue 13 item 2): the worked example of
 * docs/plugin-authors.md (test/fixtures/condition-plugins/local_enrolledfor) contributes a
 * condition that restrict_access validates and evaluates like its own, and a condition whose plugin
 * is disabled fails closed, negated or not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../core/kernel/config';
import { WaymarkError } from '../../core/kernel/errors';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';

const DAY = 86_400_000;

describe(`restriction conditions contributed by another plugin (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let site: Site;
  let pluginsDir: string;
  let courseId: number;
  let learnerId: number;

  before(async () => {
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-conditions-'));
    fs.symlinkSync(path.join(projectRoot, 'plugins', 'restrict_access'), path.join(pluginsDir, 'restrict_access'), 'dir');
    fs.symlinkSync(path.join(projectRoot, 'test', 'fixtures', 'condition-plugins', 'local_enrolledfor'), path.join(pluginsDir, 'local_enrolledfor'), 'dir');
    t = await createTestSite({ pluginsDir });
    site = t.site;
    await site.plugins.enable('local_enrolledfor');
    courseId = (await site.services.courses.create({ shortname: 'ef', fullname: 'Enrolled for' })).id;
    learnerId = (await site.services.users.create({ username: 'ef1', email: 'ef1@example.com', fullname: 'Eve' })).id;
    await site.services.enrolments.enrol(learnerId, courseId, 'manual');
  });
  after(async () => {
    await t?.close();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  });

  async function accessTo(activityId: number) {
    const course = await site.services.courses.get(courseId);
    return (await site.services.courses.accessOf(learnerId, course)).get(activityId);
  }

  it('validates the contributed node with its schema, naming the path of the bad field', async () => {
    try {
      await site.services.courses.addActivity(courseId, { type: 'page', name: 'Bad', availability: { op: '&', c: [{ type: 'enrolledfor', days: 0 }] } });
      expect.fail('a zero-day condition was saved');
    } catch (error) {
      expect(error).to.be.instanceOf(WaymarkError);
      expect((error as WaymarkError).status).to.equal(422);
      expect((error as WaymarkError).details[0]).to.include({ path: 'availability/c/0/days', code: 'minimum' });
    }
    expect((await site.services.courses.get(courseId)).activities.map((a) => a.name)).to.not.include('Bad');
  });

  it('locks with its explanation until the learner has been enrolled long enough, and its negation does the opposite', async () => {
    const week = await site.services.courses.addActivity(courseId, {
      type: 'page',
      name: 'Week two',
      availability: { op: '&', c: [{ type: 'enrolledfor', days: 7 }] },
    });
    const firstWeek = await site.services.courses.addActivity(courseId, {
      type: 'page',
      name: 'First week only',
      availability: { op: '!&', c: [{ type: 'enrolledfor', days: 7 }], show: false },
    });
    expect(await accessTo(week.id)).to.deep.equal({
      visible: true,
      available: false,
      explanation: 'Available if you have been enrolled in this course for 7 days.',
    });
    expect(await accessTo(firstWeek.id)).to.deep.include({ available: true });

    await site.db
      .knex('enrolments')
      .where({ user_id: learnerId, course_id: courseId })
      .update({ created_at: site.db.now() - 8 * DAY });
    expect(await accessTo(week.id)).to.deep.include({ available: true });
    expect(await accessTo(firstWeek.id)).to.deep.equal({
      visible: false,
      available: false,
      explanation: 'Available if you have been enrolled in this course for less than 7 days.',
    });
  });

  it('fails closed when the contributing plugin is disabled: neither the condition nor its negation opens anything', async () => {
    const course = await site.services.courses.get(courseId);
    const ids = course.activities.filter((a) => a.availability !== null).map((a) => a.id);
    await site.plugins.disable('local_enrolledfor');
    try {
      const access = await site.services.courses.accessOf(learnerId, await site.services.courses.get(courseId));
      for (const id of ids) expect(access.get(id), `activity ${id}`).to.deep.include({ available: false });
      expect(access.get(ids[0]!)!.explanation).to.equal('Available if a condition this site cannot check right now.');
      // And a tree naming it can no longer be saved.
      try {
        await site.services.courses.addActivity(courseId, { type: 'page', name: 'Later', availability: { op: '&', c: [{ type: 'enrolledfor', days: 1 }] } });
        expect.fail('a tree with an unknown condition was saved');
      } catch (error) {
        expect((error as WaymarkError).details[0]).to.include({ path: 'availability/c/0/type', code: 'UNKNOWN_CONDITION' });
      }
    } finally {
      await site.plugins.enable('local_enrolledfor');
    }
  });
});
