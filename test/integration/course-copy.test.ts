/**
 * The course copy service (issue 15 item 2): everything a course is made of is copied, every
 * restriction and completion criterion names the copy's activities, and no learner data comes along.
 * Through the REST API on the database under test, with the restrict_access plugin on.
 */
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

interface Course {
  id: number;
  shortname: string;
  visible: boolean;
  completionCriteria: { mode: string; activityIds?: number[] };
  sections: Array<{ id: number; name: string; availability: unknown }>;
  activities: Array<{ id: number; name: string; type: string; completionTracked: boolean; maxGrade: number; availability: unknown; sectionId: number | null }>;
}

describe(`course copy (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;

  const api = {
    get: (p: string) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`),
    post: (p: string, body: object) => request(app).post(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`).send(body),
    put: (p: string, body: object) => request(app).put(`/api/v1${p}`).set('Authorization', `Bearer ${admin}`).send(body),
  };
  async function ok<T>(res: request.Test, status = 200): Promise<T> {
    const r = await res;
    expect(r.status, JSON.stringify(r.body)).to.equal(status);
    return r.body as T;
  }
  const count = async (table: string, where: Record<string, unknown>) =>
    Number(((await site.db.knex(table).where(where).count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);

  let source: Course;
  let intro: number;
  let quiz: number;
  let advanced: number;

  before(async () => {
    t = await createTestSite({ pluginsDir: path.join(projectRoot, 'plugins'), sessionSecret: 'course-copy-secret-0123456789abcdef' });
    site = t.site;
    app = createApp(site);
    const { id } = await site.services.users.create({ username: 'copy_admin', email: 'copy_admin@example.com', fullname: 'Ada', isAdmin: true });
    admin = await createApiToken(site.db, id);

    const course = await ok<{ id: number }>(api.post('/courses', { shortname: 'SAFE-2026', fullname: 'Safety 2026', visible: true }), 201);
    intro = (await ok<{ id: number }>(api.post(`/courses/${course.id}/activities`, { type: 'page', name: 'Introduction', completionTracked: true }), 201)).id;
    const section = await ok<{ id: number }>(
      api.post(`/courses/${course.id}/sections`, {
        name: 'After the introduction',
        availability: { op: '&', c: [{ type: 'completion', id: intro, e: 'complete' }], showc: [true] },
      }),
      201,
    );
    quiz = (await ok<{ id: number }>(api.post(`/courses/${course.id}/activities`, { type: 'quiz', name: 'Check', completionTracked: true, maxGrade: 10 }), 201))
      .id;
    await site.services.quizzes.save(quiz, {
      attemptsAllowed: 2,
      gradingMethod: 'last',
      reviewAfterSubmission: false,
      questions: [
        { type: 'truefalse', text: 'Fire doors stay shut.', correct: true, marks: 2 },
        { type: 'numeric', text: 'Minutes to evacuate?', answer: 5, tolerance: 1 },
      ],
    });
    // A nested tree naming both activities, one of them negated.
    advanced = (
      await ok<{ id: number }>(
        api.post(`/courses/${course.id}/activities`, {
          type: 'resource',
          name: 'Advanced',
          sectionId: section.id,
          availability: {
            op: '&',
            c: [
              { type: 'grade', id: quiz, min: 50 },
              { op: '!|', c: [{ type: 'completion', id: intro, e: 'incomplete' }] },
            ],
            showc: [true, false],
          },
        }),
        201,
      )
    ).id;
    await ok(api.put(`/courses/${course.id}/completion-criteria`, { mode: 'subset', activityIds: [intro, quiz] }));
    // Learner data that must stay behind.
    const { id: learner } = await site.services.users.create({ username: 'copy_learner', email: 'copy_learner@example.com', fullname: 'Lea' });
    await site.services.enrolments.enrol(learner, course.id, 'manual');
    await site.services.completion.recordActivityCompletion(intro, learner);
    await site.services.completion.recordGrade(quiz, learner, 8);
    source = await ok<Course>(api.get(`/courses/${course.id}`));
  });

  after(async () => {
    await t?.close();
  });

  it('copies sections, activities, criteria and quiz questions, with every reference pointing into the copy and no learner data', async () => {
    const copied = await ok<{ course: Course; activityIds: Record<string, number> }>(
      api.post(`/courses/${source.id}/copy`, { shortname: 'SAFE-2027', fullname: 'Safety 2027' }),
      201,
    );
    const copy = copied.course;
    const map = (id: number) => copied.activityIds[String(id)]!;
    expect(copy.visible, 'hidden until shown').to.equal(false);
    expect(copy.activities.map((a) => [a.name, a.type, a.completionTracked, a.maxGrade])).to.deep.equal(
      source.activities.map((a) => [a.name, a.type, a.completionTracked, a.maxGrade]),
    );
    expect(copy.activities.map((a) => a.id)).to.deep.equal(source.activities.map((a) => map(a.id)));
    expect(new Set(copy.activities.map((a) => a.id)).size).to.equal(3);
    for (const a of copy.activities) expect(source.activities.map((s) => s.id)).to.not.include(a.id);

    const advancedCopy = copy.activities.find((a) => a.id === map(advanced))!;
    expect(advancedCopy.availability).to.deep.equal({
      op: '&',
      c: [
        { type: 'grade', id: map(quiz), min: 50 },
        { op: '!|', c: [{ type: 'completion', id: map(intro), e: 'incomplete' }] },
      ],
      showc: [true, false],
    });
    expect(copy.sections.map((s) => s.name)).to.deep.equal(['After the introduction']);
    expect(copy.sections[0]!.availability).to.deep.equal({ op: '&', c: [{ type: 'completion', id: map(intro), e: 'complete' }], showc: [true] });
    expect(advancedCopy.sectionId).to.equal(copy.sections[0]!.id);
    expect(copy.completionCriteria).to.deep.include({ mode: 'subset', activityIds: [map(intro), map(quiz)] });

    const quizCopy = await site.services.quizzes.get(map(quiz));
    const quizSource = await site.services.quizzes.get(quiz);
    expect(quizCopy.questions.map((q) => [q.type, q.text])).to.deep.equal(quizSource.questions.map((q) => [q.type, q.text]));
    expect(quizCopy).to.deep.include({ attemptsAllowed: 2, gradingMethod: 'last', reviewAfterSubmission: false });

    expect(await count('enrolments', { course_id: copy.id })).to.equal(0);
    expect(await count('course_completions', { course_id: copy.id })).to.equal(0);
    for (const id of Object.values(copied.activityIds)) {
      expect(await count('grades', { activity_id: id })).to.equal(0);
      expect(await count('activity_completions', { activity_id: id })).to.equal(0);
    }
    // The source is untouched.
    expect(await ok<Course>(api.get(`/courses/${source.id}`))).to.deep.equal(source);
  });

  it('refuses a taken shortname with 409 and creates nothing', async () => {
    const before = await count('courses', {});
    const res = await api.post(`/courses/${source.id}/copy`, { shortname: 'SAFE-2026', fullname: 'Again' });
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('COURSE_SHORTNAME_TAKEN');
    expect(await count('courses', {})).to.equal(before);
    expect((await api.post('/courses/999999/copy', { shortname: 'X', fullname: 'X' })).status).to.equal(404);
  });

  it('refuses to copy restrictions nobody can rewrite (restrict_access disabled), rather than point them into the old course', async () => {
    await site.plugins.disable('restrict_access');
    try {
      const before = await count('courses', {});
      const res = await api.post(`/courses/${source.id}/copy`, { shortname: 'SAFE-2028', fullname: 'Safety 2028' });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('RESTRICTIONS_UNAVAILABLE');
      expect(await count('courses', {})).to.equal(before);
    } finally {
      await site.plugins.enable('restrict_access');
    }
  });
});
