import { expect } from 'chai';
import { checkTemplate, formatDate, PLACEHOLDERS, TemplateRenderer, type TemplateValues } from '../../plugins/notify_program/templates';
import { criteriaText } from '../../plugins/notify_program/context';

const values = (over: Partial<TemplateValues> = {}): TemplateValues => ({
  ...(Object.fromEntries(Object.keys(PLACEHOLDERS).map((k) => [k, ''])) as TemplateValues),
  ...over,
});

describe('notify_program templates', () => {
  it('accepts every documented placeholder, #if / #unless blocks and comments', () => {
    const all = Object.keys(PLACEHOLDERS)
      .map((p) => `{{${p}}}`)
      .join(' ');
    expect(checkTemplate('body', all)).to.deep.equal([]);
    expect(checkTemplate('body', '{{#if due_date}}Due {{due_date}}{{else if manager_names}}{{manager_names}}{{else}}no date{{/if}}{{! note }}')).to.deep.equal(
      [],
    );
    expect(checkTemplate('body', '{{#unless due_date}}none{{/unless}}')).to.deep.equal([]);
  });

  it('names every unknown placeholder, also inside blocks, once each', () => {
    const problems = checkTemplate('subject', '{{nope}} {{#if due_date}}{{nope}} {{other}}{{/if}} {{#if missing}}x{{/if}}');
    expect(problems.map((p) => p.code)).to.deep.equal(['TEMPLATE_PLACEHOLDER_UNKNOWN', 'TEMPLATE_PLACEHOLDER_UNKNOWN', 'TEMPLATE_PLACEHOLDER_UNKNOWN']);
    expect(problems.map((p) => /\{\{(\w+)\}\}/.exec(p.message)![1])).to.deep.equal(['nope', 'other', 'missing']);
    expect(problems.every((p) => p.path === 'subject')).to.equal(true);
  });

  it('refuses helpers, partials, unescaped output, paths and data variables', () => {
    const code = (source: string) => checkTemplate('body', source)[0]?.code;
    expect(code('{{{user_fullname}}}')).to.equal('TEMPLATE_UNESCAPED');
    expect(code('{{lookup user_fullname "x"}}')).to.equal('TEMPLATE_HELPER_NOT_ALLOWED');
    expect(code('{{#each user_fullname}}{{/each}}')).to.equal('TEMPLATE_HELPER_NOT_ALLOWED');
    expect(code('{{> header}}')).to.equal('TEMPLATE_PARTIAL_NOT_ALLOWED');
    expect(code('{{user.fullname}}')).to.equal('TEMPLATE_PLACEHOLDER_UNKNOWN');
    expect(code('{{this.user_fullname}}')).to.equal('TEMPLATE_PLACEHOLDER_UNKNOWN');
    expect(code('{{@root.user_fullname}}')).to.equal('TEMPLATE_PLACEHOLDER_UNKNOWN');
    expect(code('{{../user_fullname}}')).to.equal('TEMPLATE_PLACEHOLDER_UNKNOWN');
    expect(code('{{#if}}x{{/if}}')).to.equal('TEMPLATE_HELPER_NOT_ALLOWED');
    expect(code('{{user_fullname')).to.equal('TEMPLATE_SYNTAX');
  });

  it('renders plain text, and HTML with every value and every template character escaped', () => {
    const renderer = new TemplateRenderer();
    const out = renderer.render(
      'Hi {{user_fullname}}\n  again',
      '<b>{{program_fullname}}</b>\n{{#if due_date}}due {{due_date}}{{/if}}',
      values({ user_fullname: 'Ann <script>&', program_fullname: '"P" & <Q>' }),
    );
    expect(out.subject).to.equal('Hi Ann <script>& again');
    expect(out.text).to.equal('<b>"P" & <Q></b>\n');
    expect(out.html).to.equal('&lt;b&gt;&quot;P&quot; &amp; &lt;Q&gt;&lt;/b&gt;<br>\n');
    // A value that looks like a template is printed, never evaluated.
    expect(renderer.render('{{user_fullname}}', 'x', values({ user_fullname: '{{program_fullname}}' })).subject).to.equal('{{program_fullname}}');
  });

  it('formats dates in the recipient’s language and time zone, falling back to UTC for an unknown zone', () => {
    const at = Date.parse('2027-06-01T22:30:00Z');
    expect(formatDate(at, 'fr', 'Europe/Paris')).to.equal('2 juin 2027');
    expect(formatDate(at, 'en', 'UTC')).to.equal('June 1, 2027');
    expect(formatDate(at, 'de', 'America/New_York')).to.equal('1. Juni 2027');
    expect(formatDate(at, 'fr_ca', 'Nowhere/City')).to.equal('1 juin 2027');
    expect(formatDate(null, 'en', 'UTC')).to.equal('');
  });

  it('describes the completion criteria set by set, with the operators', () => {
    const courses = new Map([
      [1, ['Course A', 'Course B']],
      [2, ['Course C']],
      [3, ['Course D', 'Course E', 'Course F']],
    ]);
    const text = criteriaText(
      [
        { id: 1, label: 'Basics', rule: 'all', min_courses: 0, min_score: 0, operator: 'then' },
        { id: 2, label: 'Practice', rule: 'any', min_courses: 0, min_score: 0, operator: 'or' },
        { id: 3, label: 'Electives', rule: 'some', min_courses: 2, min_score: 0, operator: null },
      ],
      courses,
    );
    expect(text).to.equal('Basics: all of Course A, Course B; then Practice: any of Course C or Electives: at least 2 of Course D, Course E, Course F');
  });
});
