import type { Knex } from 'knex';
import { Ajv2020 } from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Executor } from '../../kernel/db/database';
import { invalid, WaymarkError, type ErrorDetail } from '../../kernel/errors';
import type { JsonSchema } from '../../kernel/http/routes';
import type { AudienceCondition, AudienceRuleGroup, AudienceRuleNode } from './types';

/** The node as an and / or / not group, or null for a condition. */
const groupOf = (node: AudienceRuleNode): AudienceRuleGroup | null => ('op' in node && typeof node.op === 'string' ? (node as AudienceRuleGroup) : null);

/**
 * The audience-rule-condition extension point: one entry per condition `type` ("completed course",
 * "completed program", a plugin's own). A condition says WHO matches as set-based SQL; the people
 * module joins the conditions of a rule tree with and / or / not, diffs the result against the
 * materialised membership and fires the membership changes.
 */
export interface AudienceRuleCondition<Rule extends AudienceCondition = AudienceCondition> {
  /** Operator-facing name: "Completed program". */
  label: string;
  /** JSON Schema of the whole condition object, `type` included (validated with Ajv when saved). */
  schema: JsonSchema;
  /** Checks that what the condition names exists; paths are relative to the condition. Optional. */
  validate?(rule: Rule, ctx: AudienceRuleContext): Promise<ErrorDetail[]>;
  /**
   * Optional lookups done once per evaluation before `members` (a name resolved to an id, a node's
   * current path); the result is handed to `members`. Separate because a query builder is
   * thenable: `members` must return it unawaited.
   */
  prepare?(rule: Rule, ctx: AudienceRuleContext): Promise<unknown>;
  /**
   * The user ids matching the condition, as a subquery selecting one column named `user_id`. It
   * runs for every user at once when an audience is recomputed: set-based, no LIMIT or ORDER BY.
   */
  members(rule: Rule, ctx: AudienceRuleContext, prepared: unknown): Knex.QueryBuilder;
  /** "Completed program Onboarding". */
  describe(rule: Rule, ctx: AudienceRuleContext): Promise<string>;
  /**
   * For the operator's rule editor: what the condition can name, by name, each a ready condition
   * ("Completed program Onboarding" → `{type, programId}`), at most `limit` of them. Optional:
   * without it the condition is written through the API only.
   */
  picker?(ctx: AudienceRuleContext, limit: number): Promise<Array<{ label: string; rule: AudienceCondition }>>;
  /**
   * For the editor, instead of `picker`: the condition names one thing by id in `property`, which
   * the operator picks by name with the `pickers` entry `picker` (any number of them, never a
   * capped list). `templates` are the condition's variants without that property, each shown as
   * one choice ("Member of audience …", "Position … and all below").
   */
  instance?: AudienceRuleInstance;
  /** Whether the editor also asks for a typed value, stored in the condition's `value` (profile field, language). */
  needsValue?: boolean;
  /**
   * True when the condition can change with no event for the user (time passing: "has an overdue
   * assignment"); audiences using it are also recomputed by the hourly refresh job.
   */
  changesWithTime?: boolean;
}

/** A condition that names a thing by id, picked by name in the editor (see `AudienceRuleCondition.instance`). */
export interface AudienceRuleInstance {
  property: string;
  picker: string;
  templates: Array<{ label: string; rule: AudienceCondition }>;
}

/** What a condition is handed: the executor of the current unit of work (query only through it). */
export interface AudienceRuleContext {
  db: Executor;
  /** The time the rules are evaluated at (epoch ms). */
  now: number;
  /** The audience whose rules these are; null while it is being created. */
  audienceId: number | null;
}

declare module '../../kernel/extensions' {
  interface ExtensionPointMap {
    audienceRuleConditions: AudienceRuleCondition;
  }
}

/** The conditions a tree may use, by type (the extension point's current contributions). */
export interface ConditionLookup {
  get(type: string): AudienceRuleCondition | undefined;
  types(): string[];
}

/** How deep a rule tree may nest (and / or / not levels); deeper trees are 422. */
export const MAX_RULE_DEPTH = 8;
/** How many conditions one audience may have. */
export const MAX_RULE_CONDITIONS = 100;

/** A rule tree with each condition's subquery resolved, ready to become a WHERE clause. */
export type ResolvedNode =
  { kind: 'condition'; members: Knex.QueryBuilder } | { kind: 'and' | 'or'; children: ResolvedNode[] } | { kind: 'not'; child: ResolvedNode };

const ruleProblem = (path: string, code: string, message: string): WaymarkError => invalid(code, message, [{ path, code, message }]);

function toDetail(prefix: string, e: ErrorObject): ErrorDetail {
  const extra = e.keyword === 'additionalProperties' ? `/${String((e.params as { additionalProperty?: string }).additionalProperty)}` : '';
  return { path: `${prefix}${e.instancePath}${extra}`, code: 'AUDIENCE_RULE_INVALID', message: e.message ?? 'invalid' };
}

/** Validates rule trees against the contributed conditions' schemas and resolves them to SQL. */
export function createRuleCompiler(conditions: ConditionLookup) {
  const ajv = new Ajv2020({ allErrors: true, strict: 'log', strictRequired: false, coerceTypes: false, logger: false });
  addFormats(ajv);
  const compiled = new WeakMap<JsonSchema, ValidateFunction>();
  const validator = (schema: JsonSchema): ValidateFunction => {
    let fn = compiled.get(schema);
    if (!fn) {
      fn = ajv.compile(schema);
      compiled.set(schema, fn);
    }
    return fn;
  };

  const isNode = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

  /** Checks the tree's shape and every condition (schema, then existence); throws 422 naming the bad node's path. */
  async function check(node: unknown, path: string, depth: number, ctx: AudienceRuleContext, counter: { n: number }): Promise<void> {
    if (!isNode(node)) throw ruleProblem(path, 'AUDIENCE_RULE_INVALID', 'A rule must be an object');
    if (depth > MAX_RULE_DEPTH) throw ruleProblem(path, 'AUDIENCE_RULE_TOO_DEEP', `Rules may nest at most ${MAX_RULE_DEPTH} levels`);
    if ('op' in node) {
      const op = node.op;
      if (op === 'and' || op === 'or') {
        const extra = Object.keys(node).find((k) => k !== 'op' && k !== 'rules');
        if (extra) throw ruleProblem(`${path}/${extra}`, 'AUDIENCE_RULE_INVALID', `"${op}" takes only "rules"`);
        if (!Array.isArray(node.rules) || node.rules.length === 0)
          throw ruleProblem(`${path}/rules`, 'AUDIENCE_RULES_EMPTY', `"${op}" needs at least one rule`);
        for (const [i, child] of node.rules.entries()) await check(child, `${path}/rules/${i}`, depth + 1, ctx, counter);
        return;
      }
      if (op === 'not') {
        const extra = Object.keys(node).find((k) => k !== 'op' && k !== 'rule');
        if (extra) throw ruleProblem(`${path}/${extra}`, 'AUDIENCE_RULE_INVALID', '"not" takes only "rule"');
        await check(node.rule, `${path}/rule`, depth + 1, ctx, counter);
        return;
      }
      throw ruleProblem(`${path}/op`, 'AUDIENCE_RULE_INVALID', 'op must be "and", "or" or "not"');
    }
    const type = node.type;
    const condition = typeof type === 'string' ? conditions.get(type) : undefined;
    if (!condition) {
      throw ruleProblem(`${path}/type`, 'AUDIENCE_RULE_UNSUPPORTED', `Unsupported rule type "${String(type)}" (known: ${conditions.types().join(', ')})`);
    }
    if (++counter.n > MAX_RULE_CONDITIONS) throw ruleProblem(path, 'AUDIENCE_RULE_TOO_MANY', `An audience may have at most ${MAX_RULE_CONDITIONS} conditions`);
    const fn = validator(condition.schema);
    if (!fn(node)) {
      const details = (fn.errors ?? []).map((e) => toDetail(path, e));
      throw invalid('AUDIENCE_RULE_INVALID', `${details[0]!.path}: ${details[0]!.message}`, details);
    }
    const problems = (await condition.validate?.(node as AudienceCondition, ctx)) ?? [];
    if (problems.length) {
      const details = problems.map((p) => ({ ...p, path: p.path ? `${path}/${p.path}` : path }));
      throw invalid(details[0]!.code ?? 'AUDIENCE_RULE_INVALID', details[0]!.message, details);
    }
  }

  async function resolve(node: AudienceRuleNode, ctx: AudienceRuleContext): Promise<ResolvedNode> {
    const group = groupOf(node);
    if (group) {
      if (group.op === 'not') return { kind: 'not', child: await resolve(group.rule, ctx) };
      const children: ResolvedNode[] = [];
      for (const child of group.rules) children.push(await resolve(child, ctx));
      return { kind: group.op, children };
    }
    node = node as AudienceCondition;
    const condition = conditions.get(node.type);
    if (!condition) {
      // A plugin that contributed the condition was disabled after the rule was saved: fail closed
      // (nobody matches) rather than widening the audience to everyone.
      return { kind: 'condition', members: ctx.db.queryBuilder().select(ctx.db.raw('NULL as user_id')).whereRaw('1 = 0') };
    }
    const prepared = condition.prepare ? await condition.prepare(node, ctx) : undefined;
    return { kind: 'condition', members: condition.members(node, ctx, prepared) };
  }

  return {
    /** The top-level list is an implicit "and". Throws 422 (path `rules/...`) on the first bad node. */
    async validate(rules: unknown, ctx: AudienceRuleContext): Promise<AudienceRuleNode[]> {
      if (!Array.isArray(rules) || rules.length === 0) throw ruleProblem('rules', 'AUDIENCE_RULES_EMPTY', 'A dynamic audience needs at least one rule');
      const counter = { n: 0 };
      for (const [i, rule] of rules.entries()) await check(rule, `rules/${i}`, 1, ctx, counter);
      return rules as AudienceRuleNode[];
    },
    /** Resolves a validated tree to subqueries. */
    async resolve(rules: AudienceRuleNode[], ctx: AudienceRuleContext): Promise<ResolvedNode> {
      return resolve({ op: 'and', rules }, ctx);
    },
    /** Whether any condition of the tree changes with time alone. */
    changesWithTime(rules: AudienceRuleNode[]): boolean {
      const walk = (node: AudienceRuleNode): boolean => {
        const group = groupOf(node);
        if (group) return group.op === 'not' ? walk(group.rule) : group.rules.some(walk);
        return conditions.get((node as AudienceCondition).type)?.changesWithTime === true;
      };
      return rules.some(walk);
    },
    /** The tree in words, for operators: "Completed course A and not (Position Analyst)". */
    async describe(rules: AudienceRuleNode[], ctx: AudienceRuleContext): Promise<string> {
      const text = async (node: AudienceRuleNode): Promise<string> => {
        const group = groupOf(node);
        if (group) {
          if (group.op === 'not') return `not (${await text(group.rule)})`;
          const parts: string[] = [];
          for (const child of group.rules) parts.push(await text(child));
          return parts.length === 1 ? parts[0]! : `(${parts.join(` ${group.op} `)})`;
        }
        const condition = conditions.get((node as AudienceCondition).type);
        return condition ? condition.describe(node as AudienceCondition, ctx) : `unknown condition "${(node as AudienceCondition).type}" (matches nobody)`;
      };
      const all = await text({ op: 'and', rules });
      return all.startsWith('(') && rules.length > 1 ? all.slice(1, -1) : all;
    },
  };
}
