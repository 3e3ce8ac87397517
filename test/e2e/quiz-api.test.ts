import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { testDialect } from '../utils/db';

interface QuizBody {
  attemptsAllowed: number;
  gradingMethod: string;
  reviewAfterSubmission: boolean;
  questions: Array<{ id: number; type: string; choices?: string[]; multipleAnswers?: boolean; answer?: unknown }>;
}

describe(`quizzes the server grades (${testDialect})`, function () {
  this.timeout(60_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let courseId: number;
  let seq = 0;

  const call = (token: string) => ({
    get: (p: string) => request(app).get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
    post: (p: string, body: unknown) =>
      request(app)
        .post(`/api/v1${p}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    put: (p: string, body: unknown) =>
      request(app)
        .put(`/api/v1${p}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
  });

  async function ok<T = Record<string, unknown>>(res: request.Response | Promise<request.Response>, status: number): Promise<T> {
    const r = await res;
    expect(r.status, JSON.stringify(r.body)).to.equal(status);
    return r.body as T;
  }

  /** An enrolled learner and their token. */
  async function learner(): Promise<{ id: number; api: ReturnType<typeof call> }> {
    const n = ++seq;
    const user = await site.services.users.create({ username: `quizzer${n}`, email: `q${n}@example.com`, fullname: `Quizzer ${n}` });
    await site.services.enrolments.enrol(user.id, courseId, 'manual');
    return { id: user.id, api: call(await createApiToken(site.db, user.id)) };
  }

  async function quiz(settings: Record<string, unknown> = {}): Promise<{ id: number; q: QuizBody['questions'] }> {
    const activity = await ok<{ id: number }>(
      call(admin).post(`/courses/${courseId}/activities`, { type: 'quiz', name: `Quiz ${++seq}`, maxGrade: 20, completionTracked: true }),
      201,
    );
    const body = await ok<QuizBody>(
      call(admin).put(`/activities/${activity.id}/quiz`, {
        ...settings,
        questions: [
          {
            type: 'multichoice',
            text: 'Which are primary colours?',
            marks: 2,
            choices: [
              { text: 'Red', correct: true },
              { text: 'Green', correct: false },
              { text: 'Blue', correct: true },
              { text: 'Purple', correct: false },
            ],
          },
          { type: 'truefalse', text: 'The sky is green.', correct: false },
          { type: 'numeric', text: 'Pi to two places?', answer: 3.14, tolerance: 0.01 },
        ],
      }),
      200,
    );
    return { id: activity.id, q: body.questions };
  }

  before(async () => {
    t = await createTestSite();
    site = t.site;
    app = createApp(site);
    const adminUser = await site.services.users.create({ username: 'quizadmin', email: 'qa@example.com', fullname: 'Quiz Admin', isAdmin: true });
    admin = await createApiToken(site.db, adminUser.id);
    courseId = (await ok<{ id: number }>(call(admin).post('/courses', { shortname: 'quizzes', fullname: 'Quizzes' }), 201)).id;
  });
  after(async () => t?.close());

  it('shows operators the right answers and learners only the questions', async () => {
    const { id, q } = await quiz();
    expect(q.map((x) => x.type)).to.deep.equal(['multichoice', 'truefalse', 'numeric']);
    expect(q[0]!.answer).to.deep.equal({ choices: [0, 2] });
    expect(q[0]!.multipleAnswers).to.equal(true);
    const me = await learner();
    const seen = await ok<QuizBody>(me.api.get(`/activities/${id}/quiz`), 200);
    expect(seen.questions[0]!.choices).to.deep.equal(['Red', 'Green', 'Blue', 'Purple']);
    expect(seen.questions.every((x) => x.answer === undefined)).to.equal(true);
    // Someone not enrolled in the course cannot read or take it.
    const stranger = await site.services.users.create({ username: `stranger${++seq}`, email: 's@example.com', fullname: 'Stranger' });
    const strangerApi = call(await createApiToken(site.db, stranger.id));
    await ok(strangerApi.get(`/activities/${id}/quiz`), 403);
    await ok(strangerApi.post(`/activities/${id}/attempts`, { answers: {} }), 403);
  });

  it('grades an attempt: partial credit for several right answers, numeric tolerance, grade scaled to the activity and recorded', async () => {
    const { id, q } = await quiz();
    const me = await learner();
    const [colours, sky, pi] = q.map((x) => String(x.id));
    // Red (right) + Green (wrong): half of one right share minus one wrong share = 0; the true/false and pi right.
    const first = await ok<{
      attempt: { marks: number; maxMarks: number; grade: number; results: Array<{ marks: number }> };
      grade: number;
      attemptsLeft: number | null;
    }>(me.api.post(`/activities/${id}/attempts`, { answers: { [colours!]: [0, 1], [sky!]: false, [pi!]: 3.145 } }), 201);
    expect(first.attempt.results.map((r) => r.marks)).to.deep.equal([0, 1, 1]);
    expect(first.attempt).to.include({ marks: 2, maxMarks: 4, grade: 10 });
    expect(first.grade).to.equal(10);
    expect(first.attemptsLeft).to.equal(null);
    // Only Red: one of two right shares.
    const second = await ok<{ attempt: { marks: number; grade: number }; grade: number }>(
      me.api.post(`/activities/${id}/attempts`, { answers: { [colours!]: [0], [sky!]: true } }),
      201,
    );
    expect(second.attempt).to.include({ marks: 1, grade: 5 });
    // Highest attempt counts (the default).
    expect(second.grade).to.equal(10);
    const grade = (await site.db.knex('grades').where({ user_id: me.id, activity_id: id }).first()) as { grade: number | string };
    expect(Number(grade.grade)).to.equal(10);
    expect(await site.db.knex('activity_completions').where({ user_id: me.id, activity_id: id }).first()).to.not.equal(undefined);
  });

  it('keeps to the attempts limit and the grading method (last, average)', async () => {
    const last = await quiz({ attemptsAllowed: 2, gradingMethod: 'last' });
    const me = await learner();
    const allRight = (q: QuizBody['questions']) => ({ [q[0]!.id]: [0, 2], [q[1]!.id]: false, [q[2]!.id]: 3.14 });
    expect((await ok<{ grade: number }>(me.api.post(`/activities/${last.id}/attempts`, { answers: allRight(last.q) }), 201)).grade).to.equal(20);
    const worse = await ok<{ grade: number; attemptsLeft: number }>(me.api.post(`/activities/${last.id}/attempts`, { answers: {} }), 201);
    expect(worse).to.include({ grade: 0, attemptsLeft: 0 });
    const refused = await ok<{ error: { code: string } }>(me.api.post(`/activities/${last.id}/attempts`, { answers: allRight(last.q) }), 409);
    expect(refused.error.code).to.equal('QUIZ_NO_ATTEMPTS_LEFT');
    expect((await ok<{ attempts: unknown[]; grade: number }>(me.api.get(`/activities/${last.id}/attempts`), 200)).attempts).to.have.length(2);

    const average = await quiz({ gradingMethod: 'average' });
    await ok(me.api.post(`/activities/${average.id}/attempts`, { answers: allRight(average.q) }), 201);
    expect((await ok<{ grade: number }>(me.api.post(`/activities/${average.id}/attempts`, { answers: { [average.q[1]!.id]: false } }), 201)).grade).to.equal(
      12.5,
    );
  });

  it('pages the attempts of an unlimited quiz newest first, while the grade on record counts every attempt', async () => {
    const { id, q } = await quiz({ attemptsAllowed: 0, gradingMethod: 'highest' });
    const me = await learner();
    const allRight = { [q[0]!.id]: [0, 2], [q[1]!.id]: false, [q[2]!.id]: 3.14 };
    // The best attempt comes first, so it is on the second page of two.
    for (const answers of [allRight, {}, { [q[1]!.id]: false }]) await ok(me.api.post(`/activities/${id}/attempts`, { answers }), 201);
    type Attempts = { attempts: Array<{ attempt: number }>; nextCursor: string | null; grade: number; attemptsUsed: number };
    const first = await ok<Attempts>(me.api.get(`/activities/${id}/attempts?limit=2`), 200);
    expect(first.attempts.map((a) => a.attempt)).to.deep.equal([3, 2]);
    expect(first).to.include({ grade: 20, attemptsUsed: 3 });
    const second = await ok<Attempts>(me.api.get(`/activities/${id}/attempts?limit=2&cursor=${first.nextCursor}`), 200);
    expect(second.attempts.map((a) => a.attempt)).to.deep.equal([1]);
    expect(second.nextCursor).to.equal(null);
  });

  it('refuses answers to unknown questions or of the wrong kind with a 422 naming them, recording nothing', async () => {
    const { id, q } = await quiz();
    const me = await learner();
    const unknown = await ok<{ error: { code: string; details: Array<{ path: string }> } }>(
      me.api.post(`/activities/${id}/attempts`, { answers: { 999999: true } }),
      422,
    );
    expect(unknown.error.code).to.equal('QUIZ_QUESTION_UNKNOWN');
    const wrongKind = await ok<{ error: { details: Array<{ path: string }> } }>(
      me.api.post(`/activities/${id}/attempts`, { answers: { [q[1]!.id]: 'yes' } }),
      400,
    );
    expect(wrongKind.error.details.length).to.be.greaterThan(0);
    const badChoice = await ok<{ error: { details: Array<{ path: string }> } }>(
      me.api.post(`/activities/${id}/attempts`, { answers: { [q[0]!.id]: [7] } }),
      422,
    );
    expect(badChoice.error.details[0]!.path).to.equal(`answers/${q[0]!.id}`);
    expect(await site.db.knex('quiz_attempts').where({ user_id: me.id }).first()).to.equal(undefined);
    expect(await site.db.knex('grades').where({ user_id: me.id }).first()).to.equal(undefined);
  });

  it('hides the review when the quiz says so, and freezes questions once attempted', async () => {
    const { id, q } = await quiz({ reviewAfterSubmission: false });
    const me = await learner();
    const outcome = await ok<{ review: unknown; attempt: { results?: unknown } }>(
      me.api.post(`/activities/${id}/attempts`, { answers: { [q[1]!.id]: false } }),
      201,
    );
    expect(outcome.review).to.equal(null);
    expect(outcome.attempt.results).to.equal(undefined);
    const frozen = await ok<{ error: { code: string } }>(
      call(admin).put(`/activities/${id}/quiz`, { questions: [{ type: 'truefalse', text: 'New?', correct: true }] }),
      409,
    );
    expect(frozen.error.code).to.equal('QUIZ_HAS_ATTEMPTS');
    // Settings can still change; operators see every learner's attempts with results.
    await ok(call(admin).put(`/activities/${id}/quiz`, { reviewAfterSubmission: true }), 200);
    const theirs = await ok<{ attempts: Array<{ results: unknown[] }> }>(call(admin).get(`/activities/${id}/attempts?userId=${me.id}`), 200);
    expect(theirs.attempts[0]!.results).to.have.length(3);
    const other = await learner();
    await ok(other.api.get(`/activities/${id}/attempts?userId=${me.id}`), 403);
  });

  it('refuses a learner posting their own grade (403) while operators still record offline results', async () => {
    const { id } = await quiz();
    const me = await learner();
    await ok(me.api.post(`/activities/${id}/grades`, { userId: me.id, grade: 20 }), 403);
    expect(await site.db.knex('grades').where({ user_id: me.id }).first()).to.equal(undefined);
    const recorded = await ok<{ grade: number }>(call(admin).post(`/activities/${id}/grades`, { userId: me.id, grade: 15 }), 200);
    expect(recorded.grade).to.equal(15);
  });

  it('checks questions and quiz state: no right answer 422, an empty quiz 409, another activity type 422', async () => {
    const activity = await ok<{ id: number }>(call(admin).post(`/courses/${courseId}/activities`, { type: 'quiz', name: 'Empty', maxGrade: 10 }), 201);
    const noRight = await ok<{ error: { code: string; details: Array<{ path: string }> } }>(
      call(admin).put(`/activities/${activity.id}/quiz`, {
        questions: [
          {
            type: 'multichoice',
            text: 'Pick',
            choices: [
              { text: 'a', correct: false },
              { text: 'b', correct: false },
            ],
          },
        ],
      }),
      422,
    );
    expect(noRight.error.details[0]!.path).to.equal('questions/0/choices');
    const me = await learner();
    expect((await ok<{ error: { code: string } }>(me.api.post(`/activities/${activity.id}/attempts`, { answers: {} }), 409)).error.code).to.equal(
      'QUIZ_HAS_NO_QUESTIONS',
    );
    const page = await ok<{ id: number }>(call(admin).post(`/courses/${courseId}/activities`, { type: 'page', name: 'Not a quiz' }), 201);
    expect((await ok<{ error: { code: string } }>(call(admin).put(`/activities/${page.id}/quiz`, { attemptsAllowed: 1 }), 422)).error.code).to.equal(
      'QUIZ_NOT_A_QUIZ',
    );
  });
});
