import type { Request, Response } from 'express';
import type { RouteRegistrar } from '../../kernel/http/routes';
import { WaymarkError, invalid, type ErrorDetail } from '../../kernel/errors';
import { field, pageId, renderView } from '../../kernel/http/render';
import { parseId } from '../../kernel/http/contract';
import type { AudienceService } from './audiences';
import { pageLinks, pagePositionOf, pickOrder } from '../../kernel/http/paging';
import { PickError, pickState, postedPickState, resolvePick, type Picker, type PickState } from '../../kernel/pickers';
import { AUDIENCE_ORDERS, MEMBER_ORDERS } from './store/audiences';
import type { Audience, AudienceCondition, AudienceRuleNode } from './types';

const PAGE_SIZE = 50;
const AUDIENCE_TYPES = [
  { value: '', label: 'Any' },
  { value: 'static', label: 'Static (added by hand)' },
  { value: 'dynamic', label: 'Dynamic (rules)' },
] as const;
/** The list's orders, by AUDIENCE_ORDERS name. */
const AUDIENCE_SORTS = [
  { value: 'name', label: 'Name' },
  { value: '-id', label: 'Newest first' },
  { value: 'id', label: 'Oldest first' },
] as const;
/** Empty condition rows the editor shows below the filled ones ("Add a condition" adds one more). */
const BLANK_ROWS = 1;
const MAX_ROWS = 50;
/** Lines of "Add several" read per submit (a paste of a team, not an import). */
const MAX_LINES = 200;

/** Conditions that name one thing picked by name: the property holding its id, and its picker. */
type Instances = ReadonlyMap<string, { property: string; picker: Picker }>;

/**
 * A condition's identity in the editor: the condition without its typed value and without the
 * thing it names (picked in the row's own box), keys sorted.
 */
function conditionKey(rule: AudienceCondition, instances: Instances): string {
  const { value: _value, ...rest } = rule;
  const property = instances.get(rule.type)?.property;
  if (property) delete rest[property];
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))));
}

interface Row {
  key: string;
  value: string;
  negate: boolean;
  /** The id of the thing the condition names (a picked audience, position, course ...). */
  which: number | null;
  /** The "which one" box as posted, when its name did not resolve. */
  whichState?: PickState;
}

const isGroup = (node: AudienceRuleNode): node is Extract<AudienceRuleNode, { op: string }> => 'op' in node && typeof node.op === 'string';

/** A condition or "not condition" as an editor row; null for deeper nesting. */
function rowOf(node: AudienceRuleNode, instances: Instances): Row | null {
  let negate = false;
  let cond = node;
  if (isGroup(node)) {
    if (node.op !== 'not' || isGroup(node.rule)) return null;
    negate = true;
    cond = node.rule;
  }
  const condition = cond as AudienceCondition;
  const property = instances.get(condition.type)?.property;
  const which = property ? parseId(String(condition[property] ?? '')) : null;
  return { key: conditionKey(condition, instances), value: condition.value === undefined ? '' : String(condition.value), negate, which };
}

/**
 * The saved tree as the form shows it: "all" of rows, or "any" (one top-level or-group) of rows.
 * Deeper trees (written through the API) return null: the page shows them in words and a save
 * replaces them.
 */
function formOf(rules: AudienceRuleNode[], instances: Instances): { match: 'all' | 'any'; rows: Row[] } | null {
  const single = rules.length === 1 ? rules[0]! : null;
  if (single && isGroup(single) && single.op === 'or') {
    const rows = single.rules.map((r) => rowOf(r, instances));
    return rows.every((r) => r !== null) ? { match: 'any', rows: rows as Row[] } : null;
  }
  const rows = rules.map((r) => rowOf(r, instances));
  return rows.every((r) => r !== null) ? { match: 'all', rows: rows as Row[] } : null;
}

interface ParsedForm {
  rules: AudienceRuleNode[];
  rows: Row[];
  match: 'all' | 'any';
  /** Problems in words, each naming its condition; the rows are kept to show again. */
  problems: ErrorDetail[];
}

/**
 * Reads the editor's rows back into a rule tree (the service validates it like an API body). A
 * condition naming a thing gets it from the row's "which one" box, resolved by name.
 */
async function rulesFromForm(body: unknown, needsValue: Set<string>, instances: Instances): Promise<ParsedForm> {
  const match = field(body, 'match') === 'any' ? 'any' : 'all';
  const count = Math.min(parseId(field(body, 'rows')) ?? 0, MAX_ROWS);
  const rows: Row[] = [];
  const nodes: AudienceRuleNode[] = [];
  const problems: ErrorDetail[] = [];
  for (let i = 0; i < count; i++) {
    const key = field(body, `cond_${i}`);
    if (!key) continue;
    const row: Row = { key, value: field(body, `value_${i}`), negate: field(body, `not_${i}`) !== '', which: null };
    rows.push(row);
    let condition: AudienceCondition;
    try {
      condition = JSON.parse(key) as AudienceCondition;
      if (typeof condition !== 'object' || condition === null || typeof condition.type !== 'string') throw new Error('not a condition');
    } catch {
      problems.push({ path: `cond_${i}`, code: 'AUDIENCE_RULE_INVALID', message: `Condition ${rows.length}: choose a condition from the list` });
      continue;
    }
    const instance = instances.get(condition.type);
    if (instance) {
      try {
        const picked = await resolvePick(instance.picker, body, `which_${i}`, { label: `Condition ${rows.length}`, required: true });
        row.which = picked!.id;
        condition = { ...condition, [instance.property]: picked!.id };
      } catch (error) {
        if (!(error instanceof PickError)) throw error;
        row.whichState = error.state;
        problems.push({ path: `which_${i}`, code: error.code, message: error.message });
        continue;
      }
    }
    if (needsValue.has(condition.type)) {
      if (!row.value) problems.push({ path: `value_${i}`, code: 'REQUIRED', message: `Condition ${rows.length}: enter the value to match` });
      condition = { ...condition, value: row.value };
    }
    nodes.push(row.negate ? { op: 'not', rule: condition } : condition);
  }
  if (!problems.length && nodes.length === 0) problems.push({ path: 'rules', code: 'AUDIENCE_RULES_EMPTY', message: 'Choose at least one condition' });
  const rules: AudienceRuleNode[] = match === 'any' && nodes.length > 1 ? [{ op: 'or', rules: nodes }] : nodes;
  return { rules, rows, match, problems };
}

/** Operator pages for audiences: the list, and the rule editor with its "who matches" count. */
export function registerAudiencePages(pages: RouteRegistrar, audiences: () => AudienceService, pickers: (key: string) => Picker): void {
  const users = () => pickers('users');
  const choicesFor = async (audienceId: number | null) => {
    const groups = await audiences().ruleChoices(audienceId);
    const instances: Instances = new Map(
      groups.flatMap((g) => (g.instance ? [[g.type, { property: g.instance.property, picker: pickers(g.instance.picker) }] as const] : [])),
    );
    return { groups, needsValue: new Set(groups.filter((g) => g.needsValue).map((g) => g.type)), instances };
  };

  pages.page({
    method: 'get',
    path: '/admin/audiences',
    access: 'admin',
    async handler(req, res) {
      // Searched by the start of the name, filtered by type, in a chosen order, paged by keyset:
      // the same list as GET /api/v1/audiences, with member counts for the page shown.
      const query = req.query as Record<string, unknown>;
      const q = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : '';
      const type = query.type === 'static' || query.type === 'dynamic' ? query.type : undefined;
      const order = pickOrder(AUDIENCE_ORDERS, query.sort);
      const position = pagePositionOf(order, query, PAGE_SIZE);
      const page = await audiences().listWithMembers({ ...(q ? { q } : {}), ...(type ? { type } : {}) }, order, position);
      const rows = [];
      for (const a of page.items) rows.push({ ...a, description: await audiences().describe(a) });
      const links: Record<string, string> = { ...(q ? { q } : {}), ...(type ? { type } : {}), ...(order.name !== 'name' ? { sort: order.name } : {}) };
      renderView(req, res, 'admin/audiences', {
        title: 'Audiences',
        adminNav: 'audiences',
        audiences: rows,
        q,
        filtered: Boolean(q || type),
        types: AUDIENCE_TYPES.map((t) => ({ ...t, selected: t.value === (type ?? '') })),
        sorts: AUDIENCE_SORTS.map((o) => ({ ...o, selected: o.value === order.name })),
        pager: pageLinks('/admin/audiences', links, page, position, PAGE_SIZE),
      });
    },
  });

  pages.page({
    method: 'post',
    path: '/admin/audiences',
    access: 'admin',
    async handler(req, res) {
      const audience = await audiences().create({ name: field(req.body, 'name') });
      res.redirect(303, `/admin/audiences/${audience.id}?notice=audience-saved`);
    },
  });

  const showEditor = async (
    req: Request,
    res: Response,
    audience: Audience | null,
    state: {
      match: 'all' | 'any';
      rows: Row[];
      extraRows?: number;
      count?: number | null;
      name?: string;
      errors?: string[];
      member?: PickState;
      /** Lines pasted into "Add several", kept when some did not resolve. */
      pasted?: string;
    } | null,
    status?: number,
  ): Promise<void> => {
    // A static audience's members, paged by name; added one by one by picking a user by name.
    let members: { items: unknown[]; pager: unknown; member: PickState } | null = null;
    if (audience?.type === 'static') {
      const order = MEMBER_ORDERS[1]!;
      const position = pagePositionOf(order, req.query as Record<string, unknown>, PAGE_SIZE);
      const page = await audiences().members(audience.id, {}, order, position);
      members = {
        items: page.items,
        pager: pageLinks(`/admin/audiences/${audience.id}`, {}, page, position, PAGE_SIZE),
        member: state?.member ?? (await pickState(users(), null)),
      };
    }
    const { groups, instances } = await choicesFor(audience?.id ?? null);
    const saved = audience?.rules ? formOf(audience.rules, instances) : { match: 'all' as const, rows: [] };
    const form = state ?? saved ?? { match: 'all' as const, rows: [] };
    const blanks = Math.min(BLANK_ROWS + (state?.extraRows ?? 0), MAX_ROWS - form.rows.length);
    const blank = (): Row => ({ key: '', value: '', negate: false, which: null });
    const typeOf = (key: string): string | null => {
      try {
        return String((JSON.parse(key) as AudienceCondition).type);
      } catch {
        return null;
      }
    };
    const rows = await Promise.all(
      [...form.rows, ...Array.from({ length: Math.max(blanks, 0) }, blank)].map(async (row, index) => {
        const type = typeOf(row.key);
        const group = groups.find((g) => g.type === type && g.instance);
        // The row's "which one" box searches what its condition names (a blank row: audiences, the first such kind).
        const whichPicker = group?.instance?.picker ?? groups.find((g) => g.instance)?.instance?.picker ?? 'audiences';
        return {
          index,
          number: index + 1,
          value: row.value,
          negate: row.negate,
          whichName: `which_${index}`,
          whichPicker,
          whichState: row.whichState ?? (await pickState(pickers(whichPicker), group ? row.which : null)),
          groups: groups.map((g) => ({
            label: g.label,
            picker: g.instance?.picker ?? '',
            options: g.options.map((o) => ({
              label: o.label,
              key: conditionKey(o.rule, instances),
              selected: conditionKey(o.rule, instances) === row.key,
            })),
          })),
        };
      }),
    );
    renderView(
      req,
      res,
      'admin/audience-edit',
      {
        title: audience ? `Audience ${audience.name}` : 'New dynamic audience',
        adminNav: 'audiences',
        audience,
        isStatic: audience?.type === 'static',
        action: audience ? `/admin/audiences/${audience.id}` : '/admin/audiences/new',
        name: state?.name ?? audience?.name ?? '',
        description: audience ? await audiences().describe(audience) : null,
        // A tree deeper than the form can show is described in words; saving the form replaces it.
        nested: audience?.rules ? saved === null : false,
        matchAny: form.match === 'any',
        rows,
        rowCount: rows.length,
        count: state?.count ?? null,
        errors: state?.errors ?? [],
        members: members?.items ?? [],
        pager: members?.pager ?? null,
        member: members?.member ?? null,
        pasted: state?.pasted ?? '',
        // After an Add, the box is ready for the next person (several are added one after another).
        memberFocus: req.query.notice === 'member-added' || Boolean(state?.member),
      },
      status,
    );
  };

  pages.page({ method: 'get', path: '/admin/audiences/new', access: 'admin', handler: (req, res) => showEditor(req, res, null, null) });

  pages.page({
    method: 'get',
    path: '/admin/audiences/:id',
    access: 'admin',
    async handler(req, res) {
      await showEditor(req, res, await audiences().get(pageId(req.params.id, 'Audience')), null);
    },
  });

  /**
   * One form, three buttons: "count" shows who matches (so the page works without JavaScript),
   * "add" adds an empty condition row, "save" saves. Nothing is saved unless "save" was pressed.
   */
  const submit = async (req: Request, res: Response, audience: Audience | null): Promise<void> => {
    const action = field(req.body, 'action');
    const name = field(req.body, 'name');
    const { needsValue, instances } = await choicesFor(audience?.id ?? null);
    if (audience?.type === 'static') {
      await audiences().update(audience.id, { name });
      return res.redirect(303, `/admin/audiences/${audience.id}?notice=audience-saved`);
    }
    let parsed: ParsedForm | null = null;
    try {
      if (action === 'add') {
        const match = field(req.body, 'match') === 'any' ? 'any' : 'all';
        const count = Math.min(parseId(field(req.body, 'rows')) ?? 0, MAX_ROWS);
        const rows: Row[] = [];
        for (let i = 0; i < count; i++) {
          const key = field(req.body, `cond_${i}`);
          if (key)
            rows.push({
              key,
              value: field(req.body, `value_${i}`),
              negate: field(req.body, `not_${i}`) !== '',
              which: null,
              whichState: postedPickState(req.body, `which_${i}`),
            });
        }
        // One more row than the form had: the filled ones keep their place, the blanks grow by one.
        return showEditor(req, res, audience, { match, rows, extraRows: Math.max(count + 1 - rows.length - BLANK_ROWS, 0), name });
      }
      parsed = await rulesFromForm(req.body, needsValue, instances);
      if (parsed.problems.length)
        return showEditor(req, res, audience, { match: parsed.match, rows: parsed.rows, name, errors: parsed.problems.map((p) => p.message) }, 422);
      if (action === 'count') {
        const count = await audiences().countMatching(parsed.rules, audience?.id ?? null);
        return showEditor(req, res, audience, { match: parsed.match, rows: parsed.rows, count, name });
      }
      if (audience) {
        await audiences().update(audience.id, { name, rules: parsed.rules });
        return res.redirect(303, `/admin/audiences/${audience.id}?notice=audience-recomputing`);
      }
      const created = await audiences().create({ name, rules: parsed.rules });
      return res.redirect(303, `/admin/audiences/${created.id}?notice=audience-saved`);
    } catch (error) {
      if (error instanceof WaymarkError && (error.status === 422 || error.status === 400 || error.status === 409)) {
        const messages = error.details.length ? error.details.map((d) => d.message) : [error.message];
        const fallback = { match: (field(req.body, 'match') === 'any' ? 'any' : 'all') as 'all' | 'any', rows: [] as Row[] };
        return showEditor(req, res, audience, { ...(parsed ?? fallback), name, errors: messages }, 422);
      }
      throw error;
    }
  };

  pages.page({ method: 'post', path: '/admin/audiences/new', access: 'admin', handler: (req, res) => submit(req, res, null) });
  pages.page({
    method: 'post',
    path: '/admin/audiences/:id',
    access: 'admin',
    async handler(req, res) {
      await submit(req, res, await audiences().get(pageId(req.params.id, 'Audience')));
    },
  });

  // Static members: add one user picked by name (each submit adds one, so several are added by
  // submitting again), or remove one.
  pages.page({
    method: 'post',
    path: '/admin/audiences/:id/members',
    access: 'admin',
    async handler(req, res) {
      const audience = await audiences().get(pageId(req.params.id, 'Audience'));
      if (audience.type !== 'static') throw invalid('AUDIENCE_NOT_STATIC', 'Only a static audience has members added by hand', []);
      const remove = parseId(field(req.body, 'remove'));
      if (remove !== null) {
        await audiences().removeMember(audience.id, remove);
        return res.redirect(303, `/admin/audiences/${audience.id}?notice=member-removed`);
      }
      // Several people at once: one name or email per line. Each line is resolved as the box would
      // be (one match, or an exact name among several); those are added, the rest are named.
      const lines = (typeof req.body?.members === 'string' ? (req.body.members as string) : '')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '')
        .slice(0, MAX_LINES);
      if (lines.length) {
        const problems: string[] = [];
        let added = 0;
        for (const [i, line] of lines.entries()) {
          try {
            const user = await resolvePick(users(), { member_q: line }, 'member', { label: `Line ${i + 1}` });
            if (user && (await audiences().addMember(audience.id, user.id))) added++;
          } catch (error) {
            if (!(error instanceof PickError)) throw error;
            problems.push(error.message);
          }
        }
        if (problems.length) {
          const summary = `${added} of ${lines.length} added; these lines were not:`;
          return showEditor(req, res, audience, { match: 'all', rows: [], errors: [summary, ...problems], pasted: lines.join('\n') }, 422);
        }
        return res.redirect(303, `/admin/audiences/${audience.id}?notice=member-added`);
      }
      try {
        const user = await resolvePick(users(), req.body, 'member', { label: 'Person', required: true });
        await audiences().addMember(audience.id, user!.id);
      } catch (error) {
        if (error instanceof PickError) return showEditor(req, res, audience, { match: 'all', rows: [], errors: [error.message], member: error.state }, 422);
        throw error;
      }
      res.redirect(303, `/admin/audiences/${audience.id}?notice=member-added`);
    },
  });

  // The live count: the editor's script posts the same form here and shows the number as it changes.
  pages.page({
    method: 'post',
    path: '/admin/audience-count',
    access: 'admin',
    async handler(req, res) {
      const audienceId = parseId(field(req.body, 'audienceId'));
      try {
        const { needsValue, instances } = await choicesFor(audienceId);
        const { rules, problems } = await rulesFromForm(req.body, needsValue, instances);
        if (problems.length) {
          res.status(422).json({ count: null, message: problems[0]!.message });
          return;
        }
        res.json({ count: await audiences().countMatching(rules, audienceId) });
      } catch (error) {
        if (error instanceof WaymarkError && (error.status === 422 || error.status === 400)) {
          res.status(422).json({ count: null, message: error.message });
          return;
        }
        throw error;
      }
    },
  });
}
