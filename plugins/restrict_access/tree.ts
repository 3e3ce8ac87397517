import { Ajv2020 } from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ActivityAccess, ConditionNode, ErrorDetail, Logger, RestrictedCourse, RestrictionCondition } from '../../core/index';

/**
 * Availability trees in Moodle's JSON shape (docs/restrictions.md):
 *
 * ```json
 * {"op": "&", "c": [{"type": "grade", "id": 12, "min": 51, "max": 81}, {"op": "|", "c": [...]}], "showc": [true, false]}
 * ```
 *
 * `op` is `&` (all), `|` (any), `!&` (not all) or `!|` (none). Only the root says what a learner
 * who fails sees: `showc` (one flag per child) for `&` and `!|`, `show` for `|` and `!&`; false
 * hides the activity, true (the default) lists it greyed with the explanation.
 */
export type TreeOp = '&' | '|' | '!&' | '!|';
export interface TreeNode {
  op: TreeOp;
  c: AnyNode[];
  showc?: boolean[];
  show?: boolean;
}
type AnyNode = TreeNode | ConditionNode;

const OPS: readonly string[] = ['&', '|', '!&', '!|'];
/** Deeper nesting than this is refused: nobody needs it, and it bounds the walk. */
const MAX_DEPTH = 10;
/** Conditions in one tree; beyond it an operator wants a different design (an audience). */
const MAX_CONDITIONS = 50;

/** Where a failing condition's type has no contribution (its plugin was disabled): it fails, closed. */
const UNKNOWN_CONDITION = 'a condition this site cannot check right now';

/** The conditions known now, by type. */
export type ConditionLookup = (type: string) => RestrictionCondition | undefined;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A node with a `type` is a condition (some conditions, like Moodle's profile condition, have an `op` of their own); anything else is a tree. */
const isTree = (node: Record<string, unknown>): boolean => !('type' in node);

/** Every condition node of these trees, by type. */
function conditionsByType(trees: readonly unknown[]): Map<string, ConditionNode[]> {
  const byType = new Map<string, ConditionNode[]>();
  const collect = (node: unknown, depth: number): void => {
    if (!isObject(node) || depth > MAX_DEPTH) return;
    if (isTree(node)) {
      if (Array.isArray(node.c)) for (const child of node.c) collect(child, depth + 1);
    } else if (typeof node.type === 'string') {
      const list = byType.get(node.type) ?? [];
      list.push(node as ConditionNode);
      byType.set(node.type, list);
    }
  };
  for (const tree of trees) collect(tree, 1);
  return byType;
}

/** The tree's root uses `showc` (per child) when it joins with "all", `show` otherwise. */
const rootIsAll = (op: TreeOp): boolean => op === '&' || op === '!|';

/**
 * A node's result, with what its explanation needs: the text is built only for activities whose
 * explanation is shown (plain data rather than closures, since a page evaluates thousands of nodes).
 */
type Outcome =
  | { pass: boolean; kind: 'unknown' }
  | { pass: boolean; kind: 'condition'; condition: RestrictionCondition; node: ConditionNode; negated: boolean; fact: unknown }
  | { pass: boolean; kind: 'tree'; all: boolean; outcomes: Outcome[] };

export class TreeEngine {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false });
  private readonly validators = new WeakMap<object, ValidateFunction>();

  constructor(
    private readonly conditionOf: ConditionLookup,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    addFormats(this.ajv);
  }

  /**
   * The tree with the activities its conditions name renamed through `activityIds` (a course copy):
   * each condition that names activities says how (its `remap`); others are kept as they are.
   */
  remap(tree: unknown, activityIds: ReadonlyMap<number, number>): unknown {
    const walk = (node: unknown): unknown => {
      if (!isObject(node)) return node;
      if (isTree(node)) return { ...node, c: Array.isArray(node.c) ? node.c.map(walk) : node.c };
      const condition = typeof node.type === 'string' ? this.conditionOf(node.type) : undefined;
      return condition?.remap ? condition.remap(node as ConditionNode, activityIds) : node;
    };
    return walk(tree);
  }

  /** Every problem of a tree about to be saved, with the JSON-pointer path of the bad node ("/c/1/min"). */
  async check(tree: unknown, course: RestrictedCourse): Promise<ErrorDetail[]> {
    const details: ErrorDetail[] = [];
    let conditions = 0;
    const pending: Array<Promise<void>> = [];
    const walk = (node: unknown, path: string, depth: number, root: boolean): void => {
      if (!isObject(node)) {
        details.push({ path, code: 'NOT_AN_OBJECT', message: 'must be a tree ({op, c}) or a condition ({type, ...})' });
        return;
      }
      if (!isTree(node)) {
        conditions++;
        this.checkCondition(node, path, course, details, pending);
        return;
      }
      if (depth > MAX_DEPTH) {
        details.push({ path, code: 'TOO_DEEP', message: `trees nest at most ${MAX_DEPTH} levels` });
        return;
      }
      const allowed = root ? ['op', 'c', 'showc', 'show'] : ['op', 'c'];
      for (const key of Object.keys(node)) {
        if (!allowed.includes(key)) {
          const why = key === 'showc' || key === 'show' ? 'only the root of a tree says whether a failing item is shown' : 'is not an allowed property';
          details.push({ path: `${path}/${key}`, code: 'additionalProperties', message: why });
        }
      }
      if (typeof node.op !== 'string' || !OPS.includes(node.op)) {
        details.push({ path: `${path}/op`, code: 'enum', message: 'must be one of "&", "|", "!&", "!|"' });
      }
      // An empty root ({op: "&", c: []}, what Moodle stores for an unrestricted activity) restricts nothing.
      if (!Array.isArray(node.c) || (node.c.length === 0 && !root)) {
        details.push({ path: `${path}/c`, code: 'REQUIRED', message: 'must be a list of conditions and trees, not empty below the root' });
        return;
      }
      const op = node.op as TreeOp;
      if (root && OPS.includes(op)) {
        if (rootIsAll(op)) {
          if (node.show !== undefined)
            details.push({ path: `${path}/show`, code: 'WRONG_SHOW', message: `a root joined with "${op}" says per child: use showc` });
          if (
            node.showc !== undefined &&
            (!Array.isArray(node.showc) || node.showc.length !== node.c.length || node.showc.some((v) => typeof v !== 'boolean'))
          ) {
            details.push({ path: `${path}/showc`, code: 'SHOWC_LENGTH', message: 'must hold one true/false per condition in c' });
          }
        } else {
          if (node.showc !== undefined) details.push({ path: `${path}/showc`, code: 'WRONG_SHOW', message: `a root joined with "${op}" says once: use show` });
          if (node.show !== undefined && typeof node.show !== 'boolean') details.push({ path: `${path}/show`, code: 'type', message: 'must be true or false' });
        }
      }
      node.c.forEach((child, i) => walk(child, `${path}/c/${i}`, depth + 1, false));
    };
    walk(tree, '', 1, true);
    if (conditions > MAX_CONDITIONS) details.push({ path: '', code: 'TOO_MANY_CONDITIONS', message: `a tree holds at most ${MAX_CONDITIONS} conditions` });
    await Promise.all(pending);
    return details;
  }

  private checkCondition(node: Record<string, unknown>, path: string, course: RestrictedCourse, details: ErrorDetail[], pending: Array<Promise<void>>): void {
    const type = node.type;
    const condition = typeof type === 'string' ? this.conditionOf(type) : undefined;
    if (!condition) {
      details.push({ path: `${path}/type`, code: 'UNKNOWN_CONDITION', message: `unknown condition type ${JSON.stringify(type ?? null)}` });
      return;
    }
    const validate = this.validator(condition);
    if (!validate(node)) {
      for (const error of validate.errors ?? []) {
        const params = error.params as Record<string, unknown>;
        const sub =
          error.keyword === 'required'
            ? `/${String(params.missingProperty)}`
            : error.keyword === 'additionalProperties'
              ? `/${String(params.additionalProperty)}`
              : '';
        const message =
          error.keyword === 'required'
            ? 'is required'
            : error.keyword === 'additionalProperties'
              ? 'is not an allowed property'
              : (error.message ?? 'is invalid');
        details.push({ path: `${path}${error.instancePath}${sub}`, code: error.keyword, message });
      }
      return;
    }
    if (condition.check) {
      pending.push(
        Promise.resolve(condition.check(node as ConditionNode, course)).then((found) => {
          for (const d of found) details.push({ ...d, path: `${path}${d.path ? (d.path.startsWith('/') ? d.path : `/${d.path}`) : ''}` });
        }),
      );
    }
  }

  private validator(condition: RestrictionCondition): ValidateFunction {
    let fn = this.validators.get(condition);
    if (!fn) {
      fn = this.ajv.compile(condition.schema);
      this.validators.set(condition, fn);
    }
    return fn;
  }

  /**
   * One learner's access to every restricted activity of the course: each condition type present
   * loads its facts once (a bounded number of queries, whatever the number of activities), then
   * every tree is evaluated in memory.
   */
  async evaluate(userId: number, course: RestrictedCourse): Promise<Map<number, ActivityAccess>> {
    const now = this.now();
    const trees = course.activities.filter((a) => isObject(a.availability)).map((a) => ({ id: a.id, tree: a.availability as Record<string, unknown> }));
    const sectionTrees = (course.sections ?? [])
      .filter((s) => isObject(s.availability))
      .map((s) => ({ id: s.id, tree: s.availability as Record<string, unknown> }));
    const byType = conditionsByType([...trees, ...sectionTrees].map((t) => t.tree));

    const facts = new Map<string, unknown>();
    await Promise.all(
      [...byType].map(async ([type, conditions]) => {
        const condition = this.conditionOf(type);
        if (condition) facts.set(type, await condition.load({ userId, course, conditions, now }));
      }),
    );

    const access = new Map<number, ActivityAccess>();
    for (const { id, tree } of trees) access.set(id, this.accessOf(tree, course, facts, now, id));
    // A section the learner fails locks (or hides) every activity in it, whatever the activity's own tree says.
    const sectionAccess = new Map(sectionTrees.map(({ id, tree }) => [id, this.accessOf(tree, course, facts, now, 0)]));
    for (const a of course.activities) {
      const section = a.sectionId === null || a.sectionId === undefined ? undefined : sectionAccess.get(a.sectionId);
      if (!section || section.available) continue;
      const own = access.get(a.id);
      const ownReason = own && !own.available ? own.explanation : null;
      access.set(a.id, {
        visible: section.visible && (own?.visible ?? true),
        available: false,
        explanation: [section.explanation, ownReason].filter((e) => e !== null).join(' '),
      });
    }
    // An activity whose stored availability is not a tree at all (legacy, unvalidated) is locked, not opened.
    for (const a of course.activities) {
      if (a.availability !== null && a.availability !== undefined && !access.has(a.id)) {
        access.set(a.id, { visible: true, available: false, explanation: `Not available until ${UNKNOWN_CONDITION}.` });
      }
    }
    return access;
  }

  /**
   * How the learners `userIds` fare against one tree (saved or proposed) in `course`, and against
   * `sectionTree` too when given (the tree of the section the activity is in: a learner who fails
   * it cannot open the activity, and does not see it when the section hides), as `evaluate`
   * combines them. Facts are loaded per condition type for the whole batch (set-based `loadMany`;
   * `load` per learner for a condition without it), then the trees are evaluated in memory for each learner.
   */
  async countMatches(
    tree: unknown,
    course: RestrictedCourse,
    userIds: readonly number[],
    sectionTree: unknown = null,
  ): Promise<{ open: number; greyed: number; hidden: number }> {
    const counts = { open: 0, greyed: 0, hidden: 0 };
    const trees = [sectionTree, tree].filter(isObject);
    if (!trees.length || !userIds.length) return { ...counts, open: userIds.length };
    const now = this.now();
    const perUser = new Map<string, Map<number, unknown>>();
    await Promise.all(
      [...conditionsByType(trees)].map(async ([type, conditions]) => {
        const condition = this.conditionOf(type);
        if (!condition) return;
        if (condition.loadMany) {
          perUser.set(type, await condition.loadMany({ userIds, course, conditions, now }));
        } else {
          const loaded = new Map<number, unknown>();
          for (const userId of userIds) loaded.set(userId, await condition.load({ userId, course, conditions, now }));
          perUser.set(type, loaded);
        }
      }),
    );
    for (const userId of userIds) {
      const facts = new Map<string, unknown>();
      for (const [type, loaded] of perUser) if (loaded.has(userId)) facts.set(type, loaded.get(userId));
      // Open when every tree lets the learner in; listed when none of the failing ones hides.
      const access = trees.map((t) => this.accessOf(t, course, facts, now, 0));
      if (access.every((a) => a.available)) counts.open++;
      else if (access.every((a) => a.visible)) counts.greyed++;
      else counts.hidden++;
    }
    return counts;
  }

  private accessOf(tree: Record<string, unknown>, course: RestrictedCourse, facts: Map<string, unknown>, now: number, activityId: number): ActivityAccess {
    const op = (OPS.includes(tree.op as string) ? tree.op : '&') as TreeOp;
    const children = Array.isArray(tree.c) ? (tree.c as unknown[]) : [];
    const outcomes = children.map((child) => this.node(child, op.startsWith('!'), course, facts, now, activityId, 2));
    const all = op.endsWith('&') !== op.startsWith('!');
    const pass = children.length === 0 || (all ? outcomes.every((o) => o.pass) : outcomes.some((o) => o.pass));
    if (pass) return { visible: true, available: true, explanation: null };
    const failing = all ? outcomes.map((o, i) => ({ o, i })).filter(({ o }) => !o.pass) : outcomes.map((o, i) => ({ o, i }));
    const visible = rootIsAll(op) ? !failing.some(({ i }) => Array.isArray(tree.showc) && (tree.showc as unknown[])[i] === false) : tree.show !== false;
    const text = failing.map(({ o }) => this.text(o, course, activityId)).join(all ? ' and ' : ' or ');
    return { visible, available: false, explanation: `Available if ${failing.length > 1 && !all ? 'one of these holds: ' : ''}${text || UNKNOWN_CONDITION}.` };
  }

  private node(
    node: unknown,
    negated: boolean,
    course: RestrictedCourse,
    facts: Map<string, unknown>,
    now: number,
    activityId: number,
    depth: number,
  ): Outcome {
    if (!isObject(node) || depth > MAX_DEPTH) return { pass: false, kind: 'unknown' };
    if (isTree(node)) {
      const op = (OPS.includes(node.op as string) ? node.op : '&') as TreeOp;
      const innerNegated = negated !== op.startsWith('!');
      // De Morgan: "none of" is "all of the negations", "not all of" is "any of the negations".
      const all = op.endsWith('&') !== innerNegated;
      const children = Array.isArray(node.c) ? (node.c as unknown[]) : [];
      const outcomes = children.map((child) => this.node(child, innerNegated, course, facts, now, activityId, depth + 1));
      const pass = children.length > 0 && (all ? outcomes.every((o) => o.pass) : outcomes.some((o) => o.pass));
      return { pass, kind: 'tree', all, outcomes };
    }
    const condition = typeof node.type === 'string' ? this.conditionOf(node.type) : undefined;
    // Unknown types fail whichever way they are negated: a disabled condition plugin never opens anything.
    if (!condition || !facts.has(node.type as string)) return { pass: false, kind: 'unknown' };
    const fact = facts.get(node.type as string);
    try {
      const met = condition.evaluate(node as ConditionNode, fact, now);
      return { pass: met !== negated, kind: 'condition', condition, node: node as ConditionNode, negated, fact };
    } catch (error) {
      this.logger.error('restriction condition failed; treated as not met', { type: node.type, activityId, error: String(error) });
      return { pass: false, kind: 'unknown' };
    }
  }

  /** The learner-facing clause of an outcome: failing parts of an "all", every part of an "any". */
  private text(outcome: Outcome, course: RestrictedCourse, activityId: number): string {
    if (outcome.kind === 'unknown') return UNKNOWN_CONDITION;
    if (outcome.kind === 'condition') {
      try {
        return outcome.condition.explain(outcome.node, outcome.negated, course, outcome.fact);
      } catch (error) {
        this.logger.error('restriction condition could not explain itself', { type: outcome.node.type, activityId, error: String(error) });
        return UNKNOWN_CONDITION;
      }
    }
    const shown = outcome.all ? outcome.outcomes.filter((o) => !o.pass) : outcome.outcomes;
    const joined = shown.map((o) => this.text(o, course, activityId)).join(outcome.all ? ' and ' : ' or ');
    return shown.length > 1 ? `(${joined})` : joined;
  }
}
