import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import type { ErrorDetail } from '../../core/index';

/**
 * The placeholders a message template may use (DOMAIN 7), with what they say. Templates are
 * Handlebars: `{{program_fullname}}`, and `{{#if due_date}}…{{else}}…{{/if}}` / `{{#unless …}}`.
 * Nothing else: no other helpers, partials, `{{{unescaped}}}` output or paths into objects, so a
 * template can only print these values, and every one is checked when the message is saved.
 */
export const PLACEHOLDERS = {
  program_fullname: 'The program’s full name',
  courseset_label: 'The course set’s label (course set messages; empty otherwise)',
  due_date: 'The due date (the course set’s for course set messages, else the program’s), in the recipient’s language and time zone; empty when there is none',
  completion_criteria: 'What completes the program, set by set',
  user_fullname: 'The learner’s full name',
  manager_names: 'The learner’s managers, comma separated',
  recipient_fullname: 'The full name of whoever receives this copy (the learner, a manager or an administrator)',
  exception_count: 'How many learners an exception report lists',
  exception_learners: 'The learners an exception report lists, one a line, with the reason',
  extension_due_date: 'Extension messages: the date asked for, or once approved the new due date (empty when declined)',
  extension_reason: 'Extension messages: why the learner asked',
  extension_decision: 'Extension decided: "approved" or "declined"',
  extension_decision_reason: 'Extension decided: what the manager wrote, if anything',
  recurring_course: 'The program’s recurring course as it is now (for a new period: the period’s copy, e.g. “Fire safety 2027”)',
} as const;

export type Placeholder = keyof typeof PLACEHOLDERS;
export type TemplateValues = Record<Placeholder, string>;

const ALLOWED = new Set<string>(Object.keys(PLACEHOLDERS));
const BLOCK_HELPERS = new Set(['if', 'unless']);

type Node = hbs.AST.Node;

function placeholderName(node: hbs.AST.Expression): string | null {
  if (node.type !== 'PathExpression') return null;
  const path = node as hbs.AST.PathExpression;
  if (path.data || path.depth !== 0 || path.parts.length !== 1 || path.original !== path.parts[0]) return null;
  return path.parts[0]!;
}

function describe(node: hbs.AST.Expression): string {
  if (node.type === 'PathExpression') return (node as hbs.AST.PathExpression).original;
  if ('original' in node) return String((node as { original: unknown }).original);
  return node.type;
}

/**
 * Checks one template field and returns every problem (empty when it is fine): a syntax error, an
 * unknown placeholder (named), a helper, partial or unescaped output. `field` is the body property.
 */
export function checkTemplate(field: string, source: string): ErrorDetail[] {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'syntax error';
    return [{ path: field, code: 'TEMPLATE_SYNTAX', message: `${field}: ${message}` }];
  }
  const problems: ErrorDetail[] = [];
  const unknown = (name: string): void => {
    if (problems.some((p) => p.code === 'TEMPLATE_PLACEHOLDER_UNKNOWN' && p.message.includes(`{{${name}}}`))) return;
    problems.push({
      path: field,
      code: 'TEMPLATE_PLACEHOLDER_UNKNOWN',
      message: `${field}: unknown placeholder {{${name}}}; use one of ${[...ALLOWED].join(', ')}`,
    });
  };
  const refuse = (code: string, message: string): void => void problems.push({ path: field, code, message: `${field}: ${message}` });
  const walk = (program: hbs.AST.Program | undefined): void => {
    for (const node of program?.body ?? []) visit(node);
  };
  const visit = (node: Node): void => {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement': {
        const m = node as hbs.AST.MustacheStatement;
        const name = placeholderName(m.path as hbs.AST.Expression);
        if (m.params.length || (m.hash?.pairs.length ?? 0) > 0) {
          refuse(
            'TEMPLATE_HELPER_NOT_ALLOWED',
            `{{${describe(m.path as hbs.AST.Expression)} …}} calls a helper; only placeholders, #if and #unless are allowed`,
          );
        } else if (name === null || !ALLOWED.has(name)) unknown(describe(m.path as hbs.AST.Expression));
        else if (!m.escaped) refuse('TEMPLATE_UNESCAPED', `{{{${name}}}} would print without escaping; write {{${name}}}`);
        return;
      }
      case 'BlockStatement': {
        const b = node as hbs.AST.BlockStatement;
        const helper = describe(b.path);
        if (!BLOCK_HELPERS.has(helper) || b.params.length !== 1 || (b.hash?.pairs.length ?? 0) > 0) {
          refuse('TEMPLATE_HELPER_NOT_ALLOWED', `{{#${helper}}} is not allowed; only {{#if placeholder}} and {{#unless placeholder}} blocks`);
          return;
        }
        const name = placeholderName(b.params[0]!);
        if (name === null || !ALLOWED.has(name)) unknown(describe(b.params[0]!));
        walk(b.program);
        walk(b.inverse);
        return;
      }
      default:
        refuse('TEMPLATE_PARTIAL_NOT_ALLOWED', `${node.type.replace(/Statement$/, '').toLowerCase()} tags are not allowed in messages`);
    }
  };
  walk(ast);
  return problems;
}

/** Collapses a rendered subject to one line (a learner's name cannot start a new header line). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Plain text as HTML: every character escaped, line breaks kept. */
export function textToHtml(text: string): string {
  return Handlebars.Utils.escapeExpression(text).replace(/\r?\n/g, '<br>\n');
}

type Compiled = (values: TemplateValues) => string;

const MAX_CACHED = 500;

/**
 * Renders checked templates to plain text. Compiled templates are kept by their source text (so an
 * edit is simply a new entry: nothing to invalidate), at most MAX_CACHED, oldest dropped first.
 * Values are printed as they are; whoever puts the text into HTML escapes it (textToHtml, or the
 * theme's `{{ }}`), so no value, and no template text, can add markup.
 */
export class TemplateRenderer {
  private readonly hb = Handlebars.create();
  private readonly compiled = new Map<string, Compiled>();

  private get(source: string): Compiled {
    let template = this.compiled.get(source);
    if (!template) {
      template = this.hb.compile<TemplateValues>(source, { noEscape: true, strict: true, knownHelpers: { if: true, unless: true }, knownHelpersOnly: true });
      if (this.compiled.size >= MAX_CACHED) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(source, template);
    }
    return template;
  }

  render(subject: string, body: string, values: TemplateValues): { subject: string; text: string; html: string } {
    const text = this.get(body)(values);
    return { subject: oneLine(this.get(subject)(values)), text, html: textToHtml(text) };
  }
}

/** A date in the recipient's language and time zone (`3 March 2027`, `3 mars 2027`); UTC if the zone is unknown. */
export function formatDate(ms: number | null, lang: string, timezone: string): string {
  if (ms === null) return '';
  let dt = DateTime.fromMillis(ms, { zone: timezone });
  if (!dt.isValid) dt = DateTime.fromMillis(ms, { zone: 'utc' });
  const local = dt.setLocale((lang || 'en').replace(/_/g, '-'));
  return (local.isValid ? local : dt.setLocale('en')).toLocaleString(DateTime.DATE_FULL);
}
