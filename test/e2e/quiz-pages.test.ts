import { expect } from 'chai';
import request from 'supertest';
import type { Site } from '../../core/site';
import type { TestSite } from '../utils/site';
import { csrfFrom, type Scenario, startScenarioSite } from '../browser/scenario';

const html = { Accept: 'text/html' };
type Agent = ReturnType<typeof request.agent>;

describe('quiz editor (operator pages)', () => {
  let t: TestSite;
  let site: Site;
  let s: Scenario;
  let admin: Agent;
  let learner: Agent;

  before(async () => {
    ({ t, site, s, admin, learner } = await startScenarioSite('quiz-pages-secret-0123456789'));
  });
  after(async () => t?.close());

  it('refuses the quiz pages to a learner', async () => {
    await learner.get('/admin/quizzes').set(html).expect(403);
    await learner.get(`/admin/quizzes/${s.activities.quiz}`).set(html).expect(403);
  });

  it('lists quizzes by course and adds, checks and removes questions, then freezes them once attempted', async () => {
    const list = await admin.get('/admin/quizzes').set(html).expect(200);
    expect(list.text).to.contain('Safety check').and.to.contain(`href="/admin/quizzes/${s.activities.quiz}"`);
    const editor = await admin.get(`/admin/quizzes/${s.activities.quiz}`).set(html).expect(200);
    expect(editor.text).to.contain('On the floor plan by the lifts <strong>✓ right</strong>');
    const token = csrfFrom(editor.text);

    const noRight = await admin
      .post(`/admin/quizzes/${s.activities.quiz}/questions`)
      .type('form')
      .send({ _csrf: token, type: 'multichoice', text: 'Pick one', marks: '1', choices: 'a\nb' })
      .expect(422);
    expect(noRight.text).to.contain('Start the right choice(s) with *');
    expect((await site.services.quizzes.get(s.activities.quiz)).questions).to.have.length(3);

    await admin
      .post(`/admin/quizzes/${s.activities.quiz}/questions`)
      .type('form')
      .send({ _csrf: token, type: 'multichoice', text: 'Which are exits?', marks: '2', choices: '* Door A\nWindow\n* Door B' })
      .expect(303);
    let quiz = await site.services.quizzes.get(s.activities.quiz, { withAnswers: true });
    expect(quiz.questions).to.have.length(4);
    expect(quiz.questions[3]).to.deep.include({ text: 'Which are exits?', marks: 2, choices: ['Door A', 'Window', 'Door B'], answer: { choices: [0, 2] } });

    await admin.post(`/admin/quizzes/${s.activities.quiz}/questions/${quiz.questions[3]!.id}/delete`).type('form').send({ _csrf: token }).expect(303);
    await admin
      .post(`/admin/quizzes/${s.activities.quiz}/settings`)
      .type('form')
      .send({ _csrf: token, attemptsAllowed: '2', gradingMethod: 'last' })
      .expect(303);
    quiz = await site.services.quizzes.get(s.activities.quiz);
    expect(quiz.questions).to.have.length(3);
    expect(quiz).to.include({ attemptsAllowed: 2, gradingMethod: 'last', reviewAfterSubmission: false });

    await site.services.enrolments.enrol(s.learnerId, s.courses.a, 'manual');
    await site.services.quizzes.submit(s.activities.quiz, s.learnerId, {});
    const frozen = await admin.get(`/admin/quizzes/${s.activities.quiz}`).set(html).expect(200);
    expect(frozen.text).to.contain('its questions can no longer change').and.to.not.contain('Add question');
    const refused = await admin
      .post(`/admin/quizzes/${s.activities.quiz}/questions`)
      .type('form')
      .send({ _csrf: token, type: 'truefalse', text: 'Late?', marks: '1', correct: 'true' })
      .expect(409);
    expect(refused.text).to.contain('can no longer change');
  });
  it('lists quizzes by name, searched by the start of the name, a page at a time', async () => {
    const course = await site.services.courses.create({ shortname: 'drills', fullname: 'Drills' });
    for (let n = 1; n <= 52; n++) await site.services.courses.addActivity(course.id, { type: 'quiz', name: `Drill ${String(n).padStart(2, '0')}` });
    const names = (text: string) => [...text.matchAll(/<th scope="row">([^<]+)<\/th>/g)].map((m) => m[1]!);
    const first = await admin.get('/admin/quizzes?q=drill').set(html).expect(200);
    expect(names(first.text)).to.have.length(50);
    expect(names(first.text).slice(0, 2)).to.deep.equal(['Drill 01', 'Drill 02']);
    const next = /rel="next" href="([^"]+)"/
      .exec(first.text)![1]!
      .replace(/&amp;/g, '&')
      .replace(/&#x3D;/g, '=');
    const second = await admin.get(next).set(html).expect(200);
    expect(names(second.text)).to.deep.equal(['Drill 51', 'Drill 52']);
    const none = await admin.get('/admin/quizzes?q=zebra').set(html).expect(200);
    expect(none.text).to.contain('No quiz name starts with “zebra”.');
  });
});
