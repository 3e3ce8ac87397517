import type { Site } from '../../core/site';
import { LearningPlans } from '../../plugins/tool_learningplan/plans';

export interface DemoLogin {
  role: string;
  username: string;
  password: string;
}

export interface SeedResult {
  created: boolean;
  logins: DemoLogin[];
}

const SEEDED_FLAG = 'demo_seeded_at';

/** Learners on the demo site: enough for the console's paging, filters and reports to mean something. */
const SITE_LEARNERS = 300;

const LOGINS: DemoLogin[] = [
  { role: 'admin', username: 'admin', password: 'Waymark-admin-1' },
  { role: 'manager', username: 'sara', password: 'Waymark-demo-1' },
  { role: 'learner', username: 'learner01', password: 'Waymark-demo-1' },
  { role: 'learner', username: 'learner21', password: 'Waymark-demo-1' },
];

type QuizQuestions = NonNullable<Parameters<Site['services']['quizzes']['save']>[1]['questions']>;
const mc = (text: string, right: string, ...wrong: string[]): QuizQuestions[number] => ({
  type: 'multichoice',
  text,
  marks: 4,
  choices: [{ text: right, correct: true }, ...wrong.map((w) => ({ text: w, correct: false }))],
});
const tf = (text: string, correct: boolean): QuizQuestions[number] => ({ type: 'truefalse', text, correct, marks: 3 });
const num = (text: string, answer: number, tolerance = 0): QuizQuestions[number] => ({ type: 'numeric', text, answer, tolerance, marks: 3 });

/** Each course's "Check your understanding": three questions the server grades (10 marks). */
const QUIZZES: Record<string, QuizQuestions> = {
  A: [
    mc('Where do you find the programs assigned to you?', 'Required learning', 'Record of learning', 'The home page only'),
    tf('A course set marked "then" must be finished before the next set opens.', true),
    num('How many course sets does Onboarding essentials have?', 2),
  ],
  B: [
    mc('What do you do first when you discover a fire?', 'Raise the alarm', 'Finish your email', 'Open the windows'),
    tf('You may prop a fire door open on a hot day.', false),
    num('How many minutes may a full evacuation take at most?', 5),
  ],
  C: [
    {
      type: 'multichoice',
      text: 'Which of these are personal data? (choose every right answer)',
      marks: 4,
      choices: [
        { text: "A customer's email address", correct: true },
        { text: "A staff member's home address", correct: true },
        { text: 'The office opening hours', correct: false },
      ],
    },
    tf('You may keep personal data for as long as you like.', false),
    num('Within how many hours must a data breach be reported to the authority?', 72),
  ],
  D: [
    mc('Which plan includes phone support?', 'Professional', 'Starter', 'Free trial'),
    tf('Every plan can be cancelled monthly.', true),
    num('How many users does the Starter plan include?', 5),
  ],
  E: [
    mc('What comes first in a customer conversation?', 'Listening to the customer', 'Offering a discount', 'Explaining our policy'),
    tf("Repeating the customer's concern back shows you listened.", true),
    num('Within how many seconds should the phone be answered?', 20, 5),
  ],
  F: [
    mc('What do you do with a complaint you cannot solve?', 'Escalate it with the full story', 'Close it', 'Ask the customer to call back later'),
    tf('Every complaint gets a reference number.', true),
    num('Within how many working days is a complaint acknowledged?', 2),
  ],
  G: [
    mc('What is a good first offer in a negotiation?', 'Ambitious but justified', 'Your final price', 'Whatever the customer asks'),
    tf('Silence can be a useful negotiating tool.', true),
    num('What discount, in percent, may an agent give without approval?', 10),
  ],
  H: [
    mc('Which module handles billing?', 'Accounts', 'Catalogue', 'Reports'),
    tf('Reports can be exported as CSV.', true),
    num('How many days of history does the dashboard show?', 30),
  ],
  I: [
    mc('What does SLA stand for?', 'Service level agreement', 'Standard line answer', 'Support lead assignment'),
    tf('A priority 1 ticket has the shortest response time.', true),
    num('What is the priority 1 response time, in hours?', 1),
  ],
  J: [
    mc('Who receives a level 2 escalation?', 'The duty manager', 'The customer', 'Nobody'),
    tf('An escalation needs the ticket history attached.', true),
    num('How many escalation levels are there?', 3),
  ],
};

/**
 * Seeds a small but realistic demo site on first start (an empty users table): a company with
 * organisations, positions, managers and teams, 30 learners, 10 courses with activities, and
 * programs that exercise every rule and operator, including DOMAIN.md's three worked examples.
 * Idempotent: a site that already has users (or was seeded once) is left alone.
 */
export async function seedDemoSite(site: Site): Promise<SeedResult> {
  const knex = site.db.knex;
  const flagged = await knex('site_config').where({ name: SEEDED_FLAG }).first();
  const anyUser = await knex('users').first('id');
  if (flagged || anyUser) return { created: false, logins: flagged ? LOGINS : [] };

  const { users, profileFields, hierarchy, jobAssignments, audiences, courses, programs, completion } = site.services;
  const password = (username: string) => LOGINS.find((l) => l.username === username)?.password ?? 'Waymark-demo-1';

  await users.create({ username: 'admin', email: 'admin@example.com', fullname: 'Ada Admin', password: password('admin'), isAdmin: true });
  await profileFields.create({ shortname: 'department', name: 'Department', type: 'menu', options: ['Sales', 'Support', 'Engineering'] });
  await profileFields.create({ shortname: 'hiredate', name: 'Hire date', type: 'date' });

  const company = await hierarchy.createOrganisation({ name: 'Waymark Ltd' });
  const orgs = {
    Sales: await hierarchy.createOrganisation({ name: 'Sales', parentId: company.id }),
    Support: await hierarchy.createOrganisation({ name: 'Support', parentId: company.id }),
    Engineering: await hierarchy.createOrganisation({ name: 'Engineering', parentId: company.id }),
  };
  const director = await hierarchy.createPosition({ name: 'Director' });
  const manager = await hierarchy.createPosition({ name: 'Team manager', parentId: director.id });
  const analyst = await hierarchy.createPosition({ name: 'Support analyst', parentId: manager.id });
  const agent = await hierarchy.createPosition({ name: 'Sales agent', parentId: manager.id });
  const engineer = await hierarchy.createPosition({ name: 'Engineer', parentId: manager.id });

  const dana = await users.create({ username: 'dana', email: 'dana@example.com', fullname: 'Dana Director', password: password('dana') });
  const danaJob = await jobAssignments.create(dana.id, { positionId: director.id, organisationId: company.id });
  const managers: Record<string, number> = {};
  for (const [username, fullname, dept] of [
    ['mike', 'Mike Sales-Manager', 'Sales'],
    ['sara', 'Sara Support-Manager', 'Support'],
    ['eli', 'Eli Engineering-Manager', 'Engineering'],
  ] as const) {
    const u = await users.create({ username, email: `${username}@example.com`, fullname, password: password(username), profile: { department: dept } });
    const job = await jobAssignments.create(u.id, { positionId: manager.id, organisationId: orgs[dept].id, managerJobAssignmentId: danaJob.id });
    managers[dept] = job.id;
  }

  const firstNames = ['Amelie', 'Bruno', 'Chloe', 'Dev', 'Elena', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas'];
  const learnerIds: number[] = [];
  for (let i = 1; i <= 30; i++) {
    const dept = i <= 10 ? 'Sales' : i <= 20 ? 'Engineering' : 'Support';
    const username = `learner${String(i).padStart(2, '0')}`;
    const u = await users.create({
      username,
      email: `${username}@example.com`,
      fullname: `${firstNames[(i - 1) % 10]} ${['Martin', 'Dubois', 'Smith'][Math.floor((i - 1) / 10)]}`,
      password: password(username),
      lang: i % 3 === 0 ? 'fr' : 'en',
      timezone: i % 2 === 0 ? 'Europe/Paris' : 'Europe/London',
      profile: { department: dept, ...(i % 4 === 0 ? {} : { hiredate: Date.UTC(2025, i % 12, 1) }) },
    });
    await jobAssignments.create(u.id, {
      positionId: dept === 'Sales' ? agent.id : dept === 'Support' ? analyst.id : engineer.id,
      organisationId: orgs[dept].id,
      managerJobAssignmentId: managers[dept],
      startDate: Date.UTC(2025, i % 12, 1),
    });
    learnerIds.push(u.id);
  }

  // Sara's team is twenty: ten more analysts report to her. The rest of the company (no passwords:
  // they are there to be found, filtered, paged and reported on) fills the console.
  const surnames = ['Martin', 'Dubois', 'Smith', 'Garcia', 'Müller', 'Rossi', 'Nowak', 'Jansen', 'Silva', 'Kowalski', 'Novak', 'Berg'];
  const tom = await users.create({
    username: 'tom',
    email: 'tom@example.com',
    fullname: 'Tom Support-Lead',
    password: password('tom'),
    profile: { department: 'Support' },
  });
  managers.SupportLead = (
    await jobAssignments.create(tom.id, { positionId: manager.id, organisationId: orgs.Support.id, managerJobAssignmentId: danaJob.id })
  ).id;
  const saraTeam = learnerIds.slice(20);
  for (let i = 31; i <= SITE_LEARNERS; i++) {
    const dept = i <= 40 ? 'Support' : (['Sales', 'Engineering', 'Support'] as const)[i % 3]!;
    const username = `learner${String(i).padStart(3, '0')}`;
    const u = await users.create({
      username,
      email: `${username}@example.com`,
      fullname: `${firstNames[i % 10]} ${surnames[Math.floor(i / 10) % surnames.length]}`,
      lang: i % 3 === 0 ? 'fr' : 'en',
      timezone: i % 2 === 0 ? 'Europe/Paris' : 'Europe/London',
      // Every fifth has no hire date: a due date counted from it cannot be known (an exception).
      profile: { department: dept, ...(i % 5 === 0 ? {} : { hiredate: Date.UTC(2026, i % 12, 1 + (i % 28)) }) },
    });
    await jobAssignments.create(u.id, {
      positionId: dept === 'Sales' ? agent.id : dept === 'Support' ? analyst.id : engineer.id,
      organisationId: orgs[dept].id,
      managerJobAssignmentId: dept === 'Support' ? (i <= 40 ? managers.Support : managers.SupportLead) : managers[dept],
      startDate: Date.UTC(2026, i % 12, 1),
    });
    if (i <= 40) saraTeam.push(u.id);
  }

  const supportAnalysts = await audiences.create({ name: 'Support Analysts' });
  for (const id of learnerIds.slice(20)) await audiences.addMember(supportAnalysts.id, id);
  await audiences.create({ name: 'French speakers', rules: [{ type: 'user_field', field: 'lang', value: 'fr' }] });

  const courseIds: Record<string, number> = {};
  const titles = [
    'Welcome to Waymark',
    'Health and safety',
    'Data protection',
    'Our products',
    'Customer conversations',
    'Handling complaints',
    'Negotiation basics',
    'Product deep dive',
    'Service level agreements',
    'Escalation paths',
  ];
  for (const [i, fullname] of titles.entries()) {
    const letter = String.fromCharCode(65 + i);
    const course = await courses.create({
      shortname: `C${letter}`,
      fullname: `${letter}. ${fullname}`,
      score: (i % 3) + 1,
      summary: `Course ${letter} of the demo catalogue.`,
    });
    await courses.addActivity(course.id, { type: 'page', name: 'Introduction', completionTracked: true });
    await courses.addActivity(course.id, { type: 'resource', name: 'Handbook (PDF)', completionTracked: true });
    await courses.addActivity(course.id, { type: 'url', name: 'Further reading', completionTracked: false });
    const quiz = await courses.addActivity(course.id, { type: 'quiz', name: 'Check your understanding', completionTracked: true, maxGrade: 10 });
    await site.services.quizzes.save(quiz.id, { attemptsAllowed: 3, gradingMethod: 'highest', reviewAfterSubmission: true, questions: QUIZZES[letter]! });
    courseIds[letter] = course.id;
  }
  const ids = (letters: string) => [...letters].map((l) => courseIds[l]!);

  // DOMAIN.md 3.1 worked example 1: {A,B,C} all then {D,E,F} any.
  const onboarding = await programs.create({
    shortname: 'ONBOARD',
    fullname: 'Onboarding essentials',
    summary: 'Finish the three foundation courses, then pick one specialism.',
    courseSets: [
      { label: 'Foundations', courseIds: ids('ABC'), rule: 'all', minTime: 'P1W', operator: 'then' },
      { label: 'Specialism', courseIds: ids('DEF'), rule: 'any', minTime: 'P2W' },
    ],
  });
  // Worked example 2: {A..F} some(2) and {G..J} some(3).
  const mastery = await programs.create({
    shortname: 'MASTERY',
    fullname: 'Product mastery',
    summary: 'Two of the core courses and three of the advanced ones, in any order.',
    courseSets: [
      { label: 'Core', courseIds: ids('ABCDEF'), rule: 'some', minCourses: 2, operator: 'and' },
      { label: 'Advanced', courseIds: ids('GHIJ'), rule: 'some', minCourses: 3 },
    ],
  });
  // Worked example 3: {A,B,C} any and {D} all.
  const care = await programs.create({
    shortname: 'CARE',
    fullname: 'Customer care',
    summary: 'One introductory course and the products course.',
    courseSets: [
      { label: 'Introduction', courseIds: ids('ABC'), rule: 'any', operator: 'and' },
      { label: 'Products', courseIds: ids('D'), rule: 'all' },
    ],
  });
  // The remaining rules and operators: or, optional, some by score, minimum time.
  const escalate = await programs.create({
    shortname: 'ESCALATE',
    fullname: 'Escalation specialist',
    summary: 'Either route into escalations, an optional refresher, then enough credit from the advanced courses.',
    courseSets: [
      { label: 'Route 1: complaints', courseIds: ids('F'), rule: 'all', operator: 'or' },
      { label: 'Route 2: conversations', courseIds: ids('E'), rule: 'all', operator: 'and' },
      { label: 'Refresher (optional)', courseIds: ids('B'), rule: 'optional', operator: 'then' },
      { label: 'Advanced credit', courseIds: ids('HIJ'), rule: 'some', minCourses: 0, minScore: 4, minTime: 'P1M' },
    ],
  });

  // Some history so progress pages are not empty.
  const day = 24 * 3600 * 1000;
  const now = Date.now();
  for (const [offset, learner] of learnerIds.slice(0, 8).entries()) {
    await completion.recordCourseCompletion(courseIds.A!, learner, { completedAt: now - (20 - offset) * day, source: 'import' });
    if (offset % 2 === 0) await completion.recordCourseCompletion(courseIds.B!, learner, { completedAt: now - (10 - offset) * day, source: 'import' });
  }

  // Assignment rules of every built-in source; their sync jobs run before the logins are printed.
  const assignments = site.services.assignment;
  await assignments.addRule(onboarding.program.id, {
    source: 'organisation',
    instanceId: company.id,
    includeChildren: true,
    due: { within: 'P2M', event: 'assignment_date' },
  });
  await assignments.addRule(mastery.program.id, { source: 'position', instanceId: agent.id, due: { date: '2027-06-30T00:00:00Z' } });
  await assignments.addRule(care.program.id, { source: 'audience', instanceId: supportAnalysts.id, due: { within: 'P1M', event: 'first_login' } });
  await assignments.addRule(care.program.id, { source: 'individual', instanceId: learnerIds[0]!, due: { within: 'P6W', event: 'assignment_date' } });
  await assignments.addRule(escalate.program.id, { source: 'manager', instanceId: managers.Support!, includeChildren: true });
  await assignments.addRule(escalate.program.id, { source: 'profile', instanceId: (await profileFields.findByShortname('department'))!.id, values: ['Sales'] });
  await site.jobs.drain();

  // Dynamic audiences built from rule trees, with the conditions other modules contribute.
  await audiences.create({ name: 'Onboarding graduates', rules: [{ type: 'program_completed', programId: onboarding.program.id }] });
  await audiences.create({
    name: 'Customer care: needs a nudge',
    rules: [
      { type: 'program_assignment', programId: care.program.id, state: 'open' },
      {
        op: 'not',
        rule: {
          op: 'or',
          rules: [
            { type: 'course_completed', courseId: courseIds.A! },
            { type: 'course_completed', courseId: courseIds.B! },
          ],
        },
      },
    ],
  });
  await seedRestrictedAccess(site, learnerIds, courseIds.A!);
  await seedOperatorWork(site, { support: orgs.Support.id, engineering: orgs.Engineering.id, saraTeam, courses: ids('BC') });

  await knex('site_config').insert({ name: SEEDED_FLAG, value: new Date().toISOString(), updated_at: Date.now() });
  return { created: true, logins: LOGINS };
}

/**
 * DOMAIN.md 8, restricted access: course "K. Restricted access tour", where a quiz's grade bands
 * unlock resources A (0-50 %), B (51-80 %) and C (over 80 %); French speakers see resources 4-9 and
 * English speakers 1-3 and 10; resources 9 and 10 also need audience ABC, which learners join by
 * completing course A (the first eight learners already have). Every learner is enrolled; learner01
 * to learner05 are graded 45, 50, 51, 80 and 81 %. Skipped when no plugin evaluates restriction
 * trees (restrict_access disabled), since such a tree cannot be saved.
 */
async function seedRestrictedAccess(site: Site, learnerIds: number[], courseA: number): Promise<void> {
  if (!site.extensions.list('activityAccess').length) return;
  const { audiences, courses, enrolments, completion } = site.services;
  const abc = await audiences.create({ name: 'ABC', rules: [{ type: 'course_completed', courseId: courseA }] });
  const course = await courses.create({
    shortname: 'CK',
    fullname: 'K. Restricted access tour',
    summary: 'What you can open here depends on your quiz score, your preferred language and what you completed.',
  });
  const quiz = await courses.addActivity(course.id, { type: 'quiz', name: 'Knowledge check', completionTracked: true, maxGrade: 100 });
  await site.services.quizzes.save(quiz.id, {
    attemptsAllowed: 3,
    gradingMethod: 'highest',
    reviewAfterSubmission: true,
    questions: [
      mc(
        'Who decides what you see in this course?',
        'Your quiz score, your language and what you completed',
        'Nobody: everything is open',
        'Only your manager',
      ),
      tf('A greyed activity tells you what unlocks it.', true),
      num('From which percentage does resource C open?', 81),
    ],
  });
  const band = (name: string, range: { min?: number; max?: number }) =>
    courses.addActivity(course.id, { type: 'resource', name, availability: { op: '&', c: [{ type: 'grade', id: quiz.id, ...range }], showc: [true] } });
  await band('Resource A: the basics again', { max: 51 });
  await band('Resource B: practice cases', { min: 51, max: 81 });
  await band('Resource C: advanced material', { min: 81 });
  for (let n = 1; n <= 10; n++) {
    const conditions: object[] = [{ type: 'profile', sf: 'lang', op: 'isequalto', v: n >= 4 && n <= 9 ? 'fr' : 'en' }];
    if (n >= 9) conditions.push({ type: 'audience', id: abc.id });
    await courses.addActivity(course.id, {
      type: 'resource',
      name: `Resource ${n}`,
      availability: { op: '&', c: conditions, showc: conditions.map(() => false) },
    });
  }
  for (const id of learnerIds) await enrolments.enrol(id, course.id, 'manual');
  for (const [i, grade] of [45, 50, 51, 80, 81].entries()) await completion.recordGrade(quiz.id, learnerIds[i]!, grade);
}

/**
 * What an operator finds on a Monday morning: overdue learners (a compliance program due ten days
 * ago, assigned anyway for Sara's team), open exceptions of every type (a due date already past; a
 * due date counted from a hire date some learners lack; a program three learners already follow in
 * their learning plan when a rule for all of Support reaches them), two saved reports on the
 * dashboard, and a yearly recurring program.
 */
async function seedOperatorWork(site: Site, at: { support: number; engineering: number; saraTeam: number[]; courses: number[] }): Promise<void> {
  const { programs, assignment, profileFields, savedReports } = site.services;
  const day = 24 * 3600 * 1000;
  const compliance = await programs.create({
    shortname: 'COMPLY',
    fullname: 'Compliance refresher',
    summary: 'The yearly health and safety and data protection refresher.',
    courseSets: [{ label: 'Refresher', courseIds: at.courses, rule: 'all', minTime: 'P1W' }],
  });
  await assignment.addRule(compliance.program.id, {
    source: 'organisation',
    instanceId: at.support,
    due: { date: new Date(Date.now() - 10 * day).toISOString() },
  });
  const induction = await programs.create({
    shortname: 'INDUCT',
    fullname: 'Engineering induction',
    summary: 'Within three months of your hire date.',
    courseSets: [{ label: 'Induction', courseIds: at.courses.slice(0, 1), rule: 'all' }],
  });
  const hiredate = (await profileFields.findByShortname('hiredate'))!;
  await assignment.addRule(induction.program.id, {
    source: 'organisation',
    instanceId: at.engineering,
    due: { within: 'P3M', event: 'profile_field_date', instanceId: hiredate.id },
  });
  // Yearly fire safety for everyone in Support: the course is copied for each new year (docs/recurrence.md).
  const fireSafety = await programs.create({
    shortname: 'FIRE',
    fullname: 'Fire safety (yearly)',
    summary: 'Every year, the fire safety course of that year.',
    courseSets: [{ label: 'This year', courseIds: at.courses.slice(0, 1), rule: 'all' }],
    recurrence: { period: 'P1Y', leadTime: 'P1M' },
  });
  await assignment.addRule(fireSafety.program.id, { source: 'organisation', instanceId: at.support, due: { within: 'P1Y', event: 'assignment_date' } });
  await seedLearningPlans(site, at.saraTeam.slice(0, 3), at);
  await site.jobs.drain();

  // Sara's team was told to go ahead anyway: assigned with the past date, so they are overdue.
  const { items: held } = await assignment.listExceptions({ programId: compliance.program.id, status: 'open' }, undefined, { limit: 1000, from: null });
  const team = new Set(at.saraTeam);
  const saras = held.filter((x) => team.has(x.userId)).map((x) => x.id);
  if (saras.length) await assignment.resolveExceptions(saras, 'assign', null);
  await site.jobs.drain();

  await savedReports.create({ name: 'Support: overdue learners', report: 'overdue', query: { organisationId: String(at.support) }, onDashboard: true }, null);
  await savedReports.create({ name: 'Open assignment exceptions', report: 'exceptions', query: {}, onDashboard: true }, null);
}

/**
 * Three of Sara's team follow the team leader pathway in their learning plan; then a rule assigns
 * it to all of Support, which raises `already_assigned` for those three (DOMAIN 4.1). Skipped when
 * the learning plan plugin is disabled.
 */
async function seedLearningPlans(site: Site, planners: number[], at: { support: number; courses: number[] }): Promise<void> {
  if (!site.extensions.get('assignmentConflicts', 'learning_plan')) return;
  const lead = await site.services.programs.create({
    shortname: 'LEAD',
    fullname: 'Support team leader pathway',
    summary: 'For analysts who will lead a team: the conversation and escalation courses.',
    courseSets: [{ label: 'Leading conversations', courseIds: at.courses, rule: 'all' }],
  });
  const plans = new LearningPlans(site.db);
  for (const userId of planners) await plans.add(userId, lead.program.id, null);
  await site.services.assignment.addRule(lead.program.id, {
    source: 'organisation',
    instanceId: at.support,
    due: { within: 'P6M', event: 'assignment_date' },
  });
}
