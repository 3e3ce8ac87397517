import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { projectRoot } from '../../core/kernel/config';
import type { Site } from '../../core/site';
import { createTestSite, type TestSite } from '../utils/site';
import { csrfFrom, seedScenario, signIn, type Scenario } from '../browser/scenario';
import { decodeHtml, formEntries, formObject, optionValue } from '../utils/forms';

const html = { Accept: 'text/html' };
type Agent = ReturnType<typeof request.agent>;

/** The text of a page's problem summary, tags stripped. */
const problems = (page: string): string => decodeHtml((/<div class="error-summary"[\s\S]*?<\/div>/.exec(page)?.[0] ?? '').replace(/<[^>]+>/g, ' '));

describe('assignment rule forms generated from the source’s and the event’s schemas', () => {
  let t: TestSite;
  let site: Site;
  let s: Scenario;
  let app: express.Express;
  let admin: Agent;
  let pluginsDir: string;

  before(async () => {
    // The shipped plugins plus a third-party source that declares only a schema (no page code).
    pluginsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-rule-forms-'));
    for (const id of fs.readdirSync(path.join(projectRoot, 'plugins'))) fs.symlinkSync(path.join(projectRoot, 'plugins', id), path.join(pluginsDir, id));
    fs.symlinkSync(path.join(projectRoot, 'test/fixtures/plugins/local_schemasource'), path.join(pluginsDir, 'local_schemasource'));
    t = await createTestSite({ pluginsDir, sessionSecret: 'rule-forms-secret-0123456789' });
    site = t.site;
    s = await seedScenario(site);
    app = createApp(site);
    admin = request.agent(app);
    await signIn(admin, 'operator');
  });
  after(async () => {
    await t?.close();
    fs.rmSync(pluginsDir, { recursive: true, force: true });
  });

  const rulesUrl = () => `/admin/programs/${s.onboardingId}/assignments`;

  /** Step one without JavaScript: choose the source by its name and press "Next". */
  const chooseSource = async (label: string): Promise<string> => {
    const page = await admin.get(rulesUrl()).set(html).expect(200);
    const step = await admin
      .get(rulesUrl())
      .query({ source: optionValue(page.text, label) })
      .set(html)
      .expect(200);
    return step.text;
  };

  it('creates a profile-field rule from its generated form: the field picked by name, the values one a line, problems named in words', async () => {
    const department = await site.services.profileFields.create({ shortname: 'department', name: 'Department', type: 'text' });
    const sam = (await site.services.users.create({ username: 'sam', email: 'sam@example.com', fullname: 'Sam Sales', profile: { department: 'Sales' } })).id;
    const sue = (await site.services.users.create({ username: 'sue', email: 'sue@example.com', fullname: 'Sue Support', profile: { department: 'Support' } }))
      .id;
    const ed = (await site.services.users.create({ username: 'ed', email: 'ed@example.com', fullname: 'Ed Eng', profile: { department: 'Engineering' } })).id;

    const form = await chooseSource('Profile field value');
    // The generated form: a pick box for the field, a box for the values (the missing box), a select for the match.
    expect(form).to.contain('name="rule.instanceId_q"').and.to.contain('<label for="pick-rule.instanceId">Profile field</label>');
    expect(form).to.match(/<label for="f-rule-values">Values<\/label>\s*<textarea name="rule.values"/);
    expect(form).to.contain('name="rule.operator"');
    const blank = formObject(formEntries(form, 'id="rule-form"'));

    const empty = await admin.post(rulesUrl()).type('form').send(blank).expect(422);
    expect(problems(empty.text)).to.contain('Profile field: choose a profile field').and.to.contain('Values: enter at least one value');
    expect(problems(empty.text)).to.not.match(/• is required|^\s*is required/);

    const unknown = await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...blank, 'rule.instanceId_q': 'Dept', 'rule.values': 'Sales' })
      .expect(422);
    expect(problems(unknown.text)).to.contain('Profile field: no profile field matches “Dept”');
    // What was typed stays in the form.
    expect(unknown.text).to.contain('>Sales</textarea>');

    const added = await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...blank, 'rule.instanceId_q': 'Department', 'rule.values': 'Sales\r\nSupport\r\n', 'rule.operator': 'in', dueKind: 'none' })
      .expect(303);
    expect(added.headers.location).to.contain('notice=rule-added');
    await site.jobs.drain();
    const rule = (await site.services.assignment.listRules(s.onboardingId)).find((r) => r.source === 'profile')!;
    expect(rule.instance).to.deep.equal({ instanceId: department.id, values: ['Sales', 'Support'], operator: 'in' });
    const assigned = await site.db.knex('program_user_assignments').where({ program_id: s.onboardingId, status: 'active' }).whereIn('user_id', [sam, sue, ed]);
    expect(assigned.map((r) => Number(r.user_id)).sort((a, b) => a - b)).to.deep.equal([sam, sue].sort((a, b) => a - b));
    expect((await admin.get(rulesUrl()).set(html).expect(200)).text).to.contain('Users whose Department is Sales or Support');
  });

  it('shows the chosen due-date event’s own fields, and saves a due date relative to a course picked by name', async () => {
    const form = await chooseSource('Individual');
    const base = formObject(formEntries(form, 'id="rule-form"'));
    // Without JavaScript: choose the event, press "Show the event's fields".
    const withEvent = await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...base, 'rule.instanceId_q': 'Otto Other', dueKind: 'relative', dueWithin: 'P1M', dueEvent: 'course_completion', action: 'event' })
      .expect(200);
    expect(withEvent.text).to.contain('<label for="pick-due.instanceId">Course</label>');
    expect(problems(withEvent.text)).to.equal('');
    const filled = formObject(formEntries(withEvent.text, 'id="rule-form"'));
    expect(filled['rule.instanceId_q']).to.equal('Otto Other');
    expect(filled.dueEvent).to.equal('course_completion');

    const missing = await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...filled, action: 'add' })
      .expect(422);
    expect(problems(missing.text)).to.match(/Course: .*course/);

    await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...filled, 'due.instanceId_q': 'Customer care', action: 'add' })
      .expect(303);
    const rule = (await site.services.assignment.listRules(s.onboardingId)).find(
      (r) => r.source === 'individual' && r.instance.instanceId === s.otherId && r.due,
    )!;
    expect(rule.due).to.deep.equal({ within: 'P1M', event: 'course_completion', instanceId: s.courses.b });
  });

  it('gives a third-party source that declares only a schema a working form: labels, a picker, one value a line, a select', async () => {
    const form = await chooseSource('Sponsored learners');
    expect(form).to.contain('<label for="pick-rule.instanceId">Sponsor</label>');
    expect(form).to.match(/<label for="f-rule-usernames">Usernames<\/label>/);
    expect(form).to.contain('<option value="gold">gold</option>');
    expect(form).to.contain('<label for="f-rule-note">Note <span class="muted">(optional)</span></label>');
    const blank = formObject(formEntries(form, 'id="rule-form"'));

    const bad = await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...blank, 'rule.instanceId_q': 'Nobody at all', 'rule.note': 'x'.repeat(101) })
      .expect(422);
    const said = problems(bad.text);
    expect(said).to.contain('Sponsor: no user matches “Nobody at all”').and.to.contain('Usernames: enter at least one value');
    expect(said).to.not.contain('/usernames');

    const tooLong = await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...blank, 'rule.instanceId_q': 'Olive Operator', 'rule.usernames': 'lena', 'rule.note': 'x'.repeat(101) })
      .expect(422);
    expect(problems(tooLong.text)).to.contain('Note: enter at most 100 characters');

    await admin
      .post(rulesUrl())
      .type('form')
      .send({ ...blank, 'rule.instanceId_q': 'Olive Operator', 'rule.usernames': 'lena\r\notto', 'rule.level': 'gold', 'rule.note': 'Q3' })
      .expect(303);
    await site.jobs.drain();
    const rule = (await site.services.assignment.listRules(s.onboardingId)).find((r) => r.source === 'sponsored')!;
    expect(rule.instance).to.deep.equal({ instanceId: s.adminId, usernames: ['lena', 'otto'], level: 'gold', note: 'Q3' });
    expect(rule.description).to.equal('Sponsored gold: lena, otto');
    expect(csrfFrom(form)).to.be.a('string');
  });
});
