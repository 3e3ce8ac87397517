import type { Request, Response } from 'express';
import { DateTime } from 'luxon';
import {
  invalid,
  notFound,
  parseDateInput,
  parseId,
  pickState,
  resolvePick,
  PickError,
  WaymarkError,
  type CoursesService,
  type Database,
  type FeatureContext,
  type Picker,
  type PickState,
  type ThemeRegistrar,
} from '../../core/index';
import { coursesPage, enrolledLearners } from './store';

type RouteRegistrar = FeatureContext['routes'];
type ActivityView = Awaited<ReturnType<CoursesService['get']>>['activities'][number];
const COURSES_PAGE = 50;
import type { TreeEngine } from './tree';

/** Learners evaluated per batch when counting who matches: a few set-based statements each. */
const MATCH_BATCH = 500;
/** Condition rows the form offers; longer or nested trees are edited as JSON. */
const ROWS = 5;

export interface MatchCounts {
  enrolled: number;
  open: number;
  greyed: number;
  hidden: number;
}

/**
 * Who of the course's actively enrolled learners would open, see greyed, or not see an activity with
 * `tree`, in a section with `sectionTree` when given (the section's tree applies on top: see
 * `TreeEngine.countMatches`). For a section's own tree, `tree` alone.
 */
export async function countMatches(
  db: Database,
  engine: TreeEngine,
  courses: CoursesService,
  courseId: number,
  tree: unknown,
  sectionTree: unknown = null,
): Promise<MatchCounts> {
  const course = await courses.get(courseId);
  const counts: MatchCounts = { enrolled: 0, open: 0, greyed: 0, hidden: 0 };
  for (let after = 0; ;) {
    const userIds = await enrolledLearners(db, courseId, after, MATCH_BATCH);
    if (!userIds.length) break;
    const batch = await engine.countMatches(tree, course, userIds, sectionTree);
    counts.enrolled += userIds.length;
    counts.open += batch.open;
    counts.greyed += batch.greyed;
    counts.hidden += batch.hidden;
    after = userIds[userIds.length - 1]!;
  }
  return counts;
}

const PAGE = `<div class="wrap">
  <h1>Restrictions: {{target.name}}</h1>
  <p><a href="/admin/restrict_access?course={{course.id}}">All sections and activities of {{course.fullname}}</a></p>
  {{#if target.isSection}}<p class="muted">A section's restriction applies to every activity in it, on top of the activity's own.</p>{{/if}}
  {{#if target.section}}<p class="muted">In section <a href="/admin/restrict_access/sections/{{target.section.id}}">{{target.section.name}}</a>{{#if target.section.restricted}}, whose restriction applies too: the counts include it{{/if}}.</p>{{/if}}
  {{#if notice}}<p class="notice" role="status">{{notice}}</p>{{/if}}
  {{#if errors.length}}<div class="callout callout-error" role="alert"><p>The restriction was not saved:</p><ul>{{#each errors}}<li>{{this}}</li>{{/each}}</ul></div>{{/if}}
  {{#if counts}}<p class="callout" id="matches" role="status">{{counts.label}}: of {{counts.enrolled}} enrolled learners, <strong>{{counts.open}}</strong> can open it, {{counts.greyed}} see it greyed and {{counts.hidden}} do not see it.</p>{{/if}}
  <form class="form" method="post" action="/admin/restrict_access/{{target.path}}" data-live-count="/admin/restrict_access/{{target.path}}/count" novalidate>
    {{> csrf}}
    {{#if builder}}
    <fieldset>
      <legend>Learners may open it when they meet</legend>
      <label for="ra-join">Which conditions</label>
      <select id="ra-join" name="join"><option value="all"{{#if (eq form.join "all")}} selected{{/if}}>all of these</option><option value="any"{{#if (eq form.join "any")}} selected{{/if}}>any of these</option></select>
      <label for="ra-hide">Learners who do not</label>
      <select id="ra-hide" name="hide"><option value="grey"{{#if (eq form.hide "grey")}} selected{{/if}}>see it greyed, with why</option><option value="hide"{{#if (eq form.hide "hide")}} selected{{/if}}>do not see it</option></select>
    </fieldset>
    {{#each form.rows}}
    <fieldset class="card">
      <legend>Condition {{n}}</legend>
      <label for="ra-{{n}}-type">Kind</label>
      <select id="ra-{{n}}-type" name="c{{n}}_type">
        <option value="">(none)</option>
        <option value="grade"{{#if (eq type "grade")}} selected{{/if}}>Grade in an activity</option>
        <option value="completion"{{#if (eq type "completion")}} selected{{/if}}>Completion of an activity</option>
        <option value="profile"{{#if (eq type "profile")}} selected{{/if}}>User profile</option>
        <option value="date"{{#if (eq type "date")}} selected{{/if}}>Date</option>
        <option value="audience"{{#if (eq type "audience")}} selected{{/if}}>Member of an audience</option>
      </select>
      <label for="ra-{{n}}-activity">Activity (grade, completion)</label>
      <select id="ra-{{n}}-activity" name="c{{n}}_activity"><option value="">Choose an activity…</option>{{#each activities}}<option value="{{id}}"{{#if (eq id ../activity)}} selected{{/if}}>{{name}}</option>{{/each}}</select>
      <label for="ra-{{n}}-min">Grade at least (%)</label>
      <input id="ra-{{n}}-min" name="c{{n}}_min" type="number" inputmode="decimal" min="0" max="100" step="any" value="{{min}}">
      <label for="ra-{{n}}-max">Grade below (%)</label>
      <input id="ra-{{n}}-max" name="c{{n}}_max" type="number" inputmode="decimal" min="0" max="100" step="any" value="{{max}}">
      <label for="ra-{{n}}-state">Completion state</label>
      <select id="ra-{{n}}-state" name="c{{n}}_state">{{#each states}}<option value="{{value}}"{{#if selected}} selected{{/if}}>{{label}}</option>{{/each}}</select>
      <label for="ra-{{n}}-field">Profile field</label>
      <select id="ra-{{n}}-field" name="c{{n}}_field">{{#each fields}}<option value="{{value}}"{{#if selected}} selected{{/if}}>{{label}}</option>{{/each}}</select>
      <label for="ra-{{n}}-op">Profile test</label>
      <select id="ra-{{n}}-op" name="c{{n}}_op">{{#each ops}}<option value="{{value}}"{{#if selected}} selected{{/if}}>{{label}}</option>{{/each}}</select>
      <label for="ra-{{n}}-value">Profile value (a language as its code: fr, en)</label>
      <input id="ra-{{n}}-value" name="c{{n}}_value" maxlength="255" value="{{value}}">
      <label for="ra-{{n}}-when">Date test</label>
      <select id="ra-{{n}}-when" name="c{{n}}_when"><option value=">="{{#if (eq when ">=")}} selected{{/if}}>from</option><option value="<"{{#if (eq when "<")}} selected{{/if}}>until</option></select>
      <label for="ra-{{n}}-at">Date and time <span class="muted">({{@root.timezone}} time)</span></label>
      <input id="ra-{{n}}-at" name="c{{n}}_at" type="datetime-local" value="{{at}}">
      {{> pick name=audienceName picker="audiences" label="Audience (member of an audience)" state=audienceState}}
    </fieldset>
    {{/each}}
    {{else}}
    <p class="muted">This restriction is nested, negated or uses conditions the form does not show: edit it as JSON.</p>
    {{/if}}
    <details{{#unless builder}} open{{/unless}}>
      <summary>Edit as JSON (Moodle's availability format)</summary>
      <label for="ra-json">Restriction tree</label>
      <textarea id="ra-json" name="json" rows="8" spellcheck="false">{{json}}</textarea>
      <label><input type="checkbox" name="useJson" value="1"{{#unless builder}} checked{{/unless}}> Use the JSON above instead of the form</label>
    </details>
    <p class="muted" data-live-output role="status" aria-live="polite"></p>
    <div class="actions">
      <button type="submit" name="action" value="count" class="button button-quiet">Count who matches</button>
      <button type="submit" name="action" value="save" class="button">Save</button>
      <button type="submit" name="action" value="remove" class="button button-quiet">Remove the restriction</button>
    </div>
  </form>
  <script src="/admin/restrict_access/live-count.js" defer></script>
</div>`;

/**
 * The editor's live "who matches" count: posts the form (CSRF token included) to the count route as
 * it changes and shows the sentence. Served by a route of the plugin, since a plugin has no static
 * folder and the site's CSP allows scripts from the site only. Without it, "Count who matches" does
 * the same through a page load.
 */
const LIVE_COUNT_JS = `(function () {
  const form = document.querySelector('form[data-live-count]');
  const output = document.querySelector('[data-live-output]');
  if (!form || !output) return;
  let timer = null;
  let latest = 0;
  async function refresh() {
    const asked = ++latest;
    try {
      const res = await fetch(form.dataset.liveCount, { method: 'POST', body: new URLSearchParams(new FormData(form)), headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      const data = await res.json();
      // An older answer arriving after a newer one must not overwrite it.
      if (asked === latest) output.textContent = data.message || '';
    } catch (error) {
      if (asked === latest) output.textContent = '';
    }
  }
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  };
  form.addEventListener('change', schedule);
  form.addEventListener('input', schedule);
})();
`;

const LIST = `<div class="wrap">
  <h1>Restricted access</h1>
  {{> admin-nav}}
  <form class="filters" method="get" action="/admin/restrict_access">
    <div><label for="ra-search">Course name</label><input id="ra-search" name="search" value="{{search}}" maxlength="100"></div>
    <button type="submit" class="button button-quiet">Find courses</button>
  </form>
  {{#if course}}
  <h2>{{course.fullname}}</h2>
  {{#if course.sections.length}}
  <h3>Sections</h3>
  <ol class="courses sections">
    {{#each course.sections}}
    <li class="course"><span class="course-name"><a href="/admin/restrict_access/sections/{{id}}">{{name}}</a></span><span class="chip">{{activities}} {{#if (eq activities 1)}}activity{{else}}activities{{/if}}</span><span class="course-state">{{#if restricted}}Restricted{{else}}Open to everyone enrolled{{/if}}</span></li>
    {{/each}}
  </ol>
  <h3>Activities</h3>
  {{/if}}
  <ol class="courses activities">
    {{#each course.activities}}
    <li class="course"><span class="course-name"><a href="/admin/restrict_access/activities/{{id}}">{{name}}</a></span><span class="chip">{{type}}</span>{{#if section}}<span class="chip">in {{section}}</span>{{/if}}<span class="course-state">{{#if restricted}}Restricted{{else}}Open to everyone enrolled{{/if}}</span></li>
    {{else}}<li class="empty">This course has no activities.</li>
    {{/each}}
  </ol>
  {{else}}
  <ul class="courses">
    {{#each courses}}<li class="course"><span class="course-name"><a href="/admin/restrict_access?course={{id}}">{{fullname}}</a></span><span class="chip">{{shortname}}</span></li>{{else}}<li class="empty">No course matches.</li>{{/each}}
  </ul>
  <nav class="pager" aria-label="Pages">{{#if previous}}<a href="/admin/restrict_access?search={{search}}&amp;page={{previous}}">← Previous</a>{{/if}}{{#if next}}<a href="/admin/restrict_access?search={{search}}&amp;page={{next}}">Next →</a>{{/if}}</nav>
  {{/if}}
</div>`;

const NAV = `<li><a href="/admin/restrict_access"{{#if (eq @root.adminNav "restrict_access")}} aria-current="page"{{/if}}>Restrictions</a></li>`;

const NOTICES: Record<string, string> = { saved: 'The restriction was saved.', removed: 'The restriction was removed: everyone enrolled can open it.' };
const STANDARD_FIELDS = [
  ['lang', 'Preferred language'],
  ['email', 'Email address'],
  ['fullname', 'Full name'],
  ['username', 'Username'],
  ['timezone', 'Time zone'],
] as const;
const PROFILE_OPS = [
  ['isequalto', 'is'],
  ['isnotequalto', 'is not'],
  ['contains', 'contains'],
  ['doesnotcontain', 'does not contain'],
  ['isempty', 'is empty'],
  ['isnotempty', 'is filled in'],
] as const;
const STATES = [
  ['complete', 'is complete'],
  ['incomplete', 'is not complete'],
  ['passed', 'is passed (50% or more)'],
  ['failed', 'is failed (below 50%)'],
] as const;

interface Row {
  type: string;
  activity?: number;
  min?: number;
  max?: number;
  state?: string;
  field?: string;
  op?: string;
  value?: string;
  when?: string;
  /** The moment as typed (a `datetime-local` value, in the site time zone). */
  at?: string;
  /** That moment as stored: an ISO date-time in UTC. */
  t?: string;
  audience?: number;
  /** The audience box as posted, when its name did not resolve (the error and the candidates). */
  audienceState?: PickState;
}
interface FormState {
  join: 'all' | 'any';
  hide: 'grey' | 'hide';
  rows: Row[];
}

const text = (body: Record<string, unknown>, name: string): string => (typeof body[name] === 'string' ? (body[name] as string).trim() : '');
const num = (value: string): number | undefined => (value === '' || !Number.isFinite(Number(value)) ? undefined : Number(value));

/** The form's rows as a flat tree (null when every row is empty). */
function treeFromForm(form: FormState): unknown {
  const c = form.rows.flatMap((r): object[] => {
    switch (r.type) {
      case 'grade':
        return [{ type: 'grade', id: r.activity ?? 0, ...(r.min !== undefined ? { min: r.min } : {}), ...(r.max !== undefined ? { max: r.max } : {}) }];
      case 'completion':
        return [{ type: 'completion', id: r.activity ?? 0, e: r.state ?? 'complete' }];
      case 'profile':
        return [
          { type: 'profile', sf: r.field ?? 'lang', op: r.op ?? 'isequalto', ...(r.op === 'isempty' || r.op === 'isnotempty' ? {} : { v: r.value ?? '' }) },
        ];
      case 'date':
        return [{ type: 'date', d: r.when === '<' ? '<' : '>=', t: r.t ?? '' }];
      case 'audience':
        return [{ type: 'audience', id: r.audience ?? 0 }];
      default:
        return [];
    }
  });
  if (!c.length) return null;
  const hide = form.hide === 'hide';
  return form.join === 'all' ? { op: '&', c, showc: c.map(() => !hide) } : { op: '|', c, show: !hide };
}

/** A stored tree as form rows, or null when the form cannot show it (nested, negated, audiences, custom fields, too long). */
function formFromTree(tree: unknown, zone: string): FormState | null {
  const blank = (): Row => ({ type: '' });
  if (tree === null || tree === undefined) return { join: 'all', hide: 'grey', rows: Array.from({ length: ROWS }, blank) };
  const t = tree as { op?: string; c?: unknown[]; showc?: boolean[]; show?: boolean };
  if ((t.op !== '&' && t.op !== '|') || !Array.isArray(t.c) || t.c.length > ROWS) return null;
  const rows: Row[] = [];
  for (const node of t.c as Array<Record<string, unknown>>) {
    if (node.type === 'grade')
      rows.push({ type: 'grade', activity: Number(node.id), min: node.min as number | undefined, max: node.max as number | undefined });
    else if (node.type === 'completion' && node.pass === undefined) rows.push({ type: 'completion', activity: Number(node.id), state: String(node.e) });
    else if (node.type === 'profile' && typeof node.sf === 'string')
      rows.push({ type: 'profile', field: node.sf, op: String(node.op), value: (node.v as string) ?? '' });
    else if (node.type === 'audience') rows.push({ type: 'audience', audience: Number(node.id) });
    else if (node.type === 'date' && typeof node.t === 'string')
      rows.push({ type: 'date', when: String(node.d), at: DateTime.fromMillis(Date.parse(node.t), { zone }).toFormat("yyyy-MM-dd'T'HH:mm") });
    else return null;
  }
  const hidden = t.op === '&' ? (t.showc ?? []).some((v) => v === false) : t.show === false;
  while (rows.length < ROWS) rows.push(blank());
  return { join: t.op === '&' ? 'all' : 'any', hide: hidden ? 'hide' : 'grey', rows };
}

/** The posted form; an audience typed by name that does not resolve is a problem, the row keeps its candidates. */
async function formFromBody(body: Record<string, unknown>, audiences: Picker, zone: string): Promise<{ form: FormState; problems: string[] }> {
  const rows: Row[] = [];
  const problems: string[] = [];
  for (let n = 1; n <= ROWS; n++) {
    const f = (name: string) => text(body, `c${n}_${name}`);
    let audience: number | undefined;
    let audienceState: PickState | undefined;
    try {
      audience = (await resolvePick(audiences, body, `c${n}_audience`, { label: `Condition ${n}`, required: f('type') === 'audience' }))?.id;
    } catch (error) {
      if (!(error instanceof PickError)) throw error;
      audienceState = error.state;
      // An unresolved audience in a row of another kind is left alone: the row does not use it.
      if (f('type') === 'audience') problems.push(error.message);
    }
    // The form's moment is the site's wall-clock time (a datetime-local box has no zone), read
    // strictly: 2027-02-30T10:00 is a problem named by its row, not a rolled-over date.
    let t: string | undefined;
    if (f('type') === 'date' && f('at') !== '') {
      try {
        t = new Date(parseDateInput(f('at'), { field: `Condition ${n}`, zone })).toISOString();
      } catch (error) {
        if (!(error instanceof WaymarkError)) throw error;
        problems.push(error.message);
      }
    }
    rows.push({
      type: f('type'),
      activity: parseId(f('activity')) ?? undefined,
      min: num(f('min')),
      max: num(f('max')),
      state: f('state'),
      field: f('field'),
      op: f('op'),
      value: f('value'),
      when: f('when'),
      at: f('at'),
      ...(t ? { t } : {}),
      audience,
      ...(audienceState ? { audienceState } : {}),
    });
  }
  return { form: { join: text(body, 'join') === 'any' ? 'any' : 'all', hide: text(body, 'hide') === 'hide' ? 'hide' : 'grey', rows }, problems };
}

async function rowView(row: Row, n: number, activities: ActivityView[], audiences: Picker) {
  return {
    ...row,
    n,
    activities: activities.map((a) => ({ id: a.id, name: a.name })),
    audienceName: `c${n}_audience`,
    audienceState: row.audienceState ?? (await pickState(audiences, row.audience ?? null)),
    states: STATES.map(([value, label]) => ({ value, label, selected: value === row.state })),
    fields: STANDARD_FIELDS.map(([value, label]) => ({ value, label, selected: value === row.field })),
    ops: PROFILE_OPS.map(([value, label]) => ({ value, label, selected: value === row.op })),
  };
}

export interface RestrictionPageDeps {
  db: Database;
  engine: TreeEngine;
  courses: CoursesService;
  /** The `audiences` picker: an audience condition names its audience by name. */
  audiences: () => Picker;
  /** The site's time zone: the form's date box shows and reads moments there. */
  timezone: string;
}

/**
 * The operator's restriction editor for one activity: a form for flat trees of grade, completion,
 * profile and date conditions, with activities picked by name; JSON for anything else; "Count who
 * matches" evaluates the tree in the form (saved or not) for every enrolled learner.
 */
export function registerRestrictionPages(deps: RestrictionPageDeps, routes: RouteRegistrar, theme: ThemeRegistrar): void {
  theme.partial('activity', PAGE);
  theme.partial('list', LIST);
  theme.partial('nav', NAV);
  theme.slot('admin.nav', 'nav');

  routes.page({
    method: 'get',
    path: '/admin/restrict_access',
    access: 'admin',
    async handler(req, res) {
      const courseId = parseId(req.query.course);
      const search = typeof req.query.search === 'string' ? req.query.search.trim().slice(0, 100) : '';
      const page = parseId(req.query.page) ?? 1;
      if (courseId !== null) {
        const course = await deps.courses.get(courseId);
        const sectionName = new Map(course.sections.map((section) => [section.id, section.name]));
        const activities = course.activities.map((a) => ({
          id: a.id,
          name: a.name,
          type: a.type,
          restricted: a.availability !== null,
          section: a.sectionId === null ? null : (sectionName.get(a.sectionId) ?? null),
        }));
        const sections = course.sections.map((section) => ({
          id: section.id,
          name: section.name,
          restricted: section.availability !== null,
          activities: course.activities.filter((a) => a.sectionId === section.id).length,
        }));
        return res.locals.render('restrict_access/list', {
          title: 'Restricted access',
          adminNav: 'restrict_access',
          search,
          course: { ...course, activities, sections },
        });
      }
      const rows = await coursesPage(deps.db, search, (page - 1) * COURSES_PAGE, COURSES_PAGE + 1);
      res.locals.render('restrict_access/list', {
        title: 'Restricted access',
        adminNav: 'restrict_access',
        search,
        courses: rows.slice(0, COURSES_PAGE),
        previous: page > 1 ? page - 1 : null,
        next: rows.length > COURSES_PAGE ? page + 1 : null,
      });
    },
  });

  /** The activity or section a restriction page edits, with what the page and the count need. */
  interface Target {
    kind: 'activity' | 'section';
    id: number;
    name: string;
    availability: unknown;
    /** `activities/12`, `sections/3`: the page's path under /admin/restrict_access. */
    path: string;
    isSection: boolean;
    /** An activity's section, if it is in one. */
    section: { id: number; name: string; restricted: boolean } | null;
    /** The tree of that section, which applies on top of the activity's own (null when none). */
    sectionTree: unknown;
    course: Awaited<ReturnType<CoursesService['get']>>;
    /** The activities a condition of this tree may name: all of the course's but the activity itself. */
    others: ActivityView[];
  }

  async function loadTarget(kind: Target['kind'], rawId: unknown): Promise<Target> {
    const id = parseId(rawId);
    if (id === null) throw notFound(kind === 'section' ? 'Section' : 'Activity', String(rawId));
    if (kind === 'section') {
      const section = await deps.courses.getSection(id);
      const course = await deps.courses.get(section.courseId);
      return {
        kind,
        id,
        name: section.name,
        availability: section.availability,
        path: `sections/${id}`,
        isSection: true,
        section: null,
        sectionTree: null,
        course,
        others: course.activities,
      };
    }
    const activity = await deps.courses.getActivity(id);
    const course = await deps.courses.get(activity.courseId);
    const section = activity.sectionId === null ? undefined : course.sections.find((x) => x.id === activity.sectionId);
    return {
      kind,
      id,
      name: activity.name,
      availability: activity.availability,
      path: `activities/${id}`,
      isSection: false,
      section: section ? { id: section.id, name: section.name, restricted: section.availability !== null } : null,
      sectionTree: section?.availability ?? null,
      course,
      others: course.activities.filter((a) => a.id !== id),
    };
  }

  const show = async (
    req: Request,
    res: Response,
    kind: Target['kind'],
    state: { form?: FormState | null; json?: string; errors?: string[]; counts?: MatchCounts & { label: string } } = {},
    status = 200,
  ): Promise<void> => {
    const target = await loadTarget(kind, req.params.id);
    const { course, others } = target;
    const form = state.form === undefined ? formFromTree(target.availability, deps.timezone) : state.form;
    const rows = form ? await Promise.all(form.rows.map((r, i) => rowView(r, i + 1, others, deps.audiences()))) : [];
    const counts =
      state.counts ??
      (target.availability === null && target.sectionTree === null
        ? null
        : {
            ...(await countMatches(deps.db, deps.engine, deps.courses, course.id, target.availability, target.sectionTree)),
            label: target.availability === null ? 'With the restriction of its section' : 'With the saved restriction',
          });
    res.locals.render(
      'restrict_access/activity',
      {
        title: `Restrictions: ${target.name}`,
        course: { id: course.id, fullname: course.fullname },
        target: { name: target.name, path: target.path, isSection: target.isSection, section: target.section },
        notice: NOTICES[String(req.query.notice ?? '')] ?? null,
        builder: form !== null,
        form: form ? { ...form, rows } : null,
        json: state.json ?? (target.availability === null ? '' : JSON.stringify(target.availability, null, 2)),
        errors: state.errors ?? [],
        counts,
        timezone: deps.timezone,
      },
      { status },
    );
  };

  /** The tree a posted editor stands for (its form, or its JSON), or the problems that stop it. */
  async function postedTree(body: Record<string, unknown>): Promise<{ form: FormState | null; json: string; tree?: unknown; errors?: string[] }> {
    const useJson = text(body, 'useJson') === '1';
    const posted = useJson ? null : await formFromBody(body, deps.audiences(), deps.timezone);
    const form = posted?.form ?? null;
    const json = text(body, 'json');
    if (posted?.problems.length) return { form, json, errors: posted.problems };
    try {
      return { form, json, tree: useJson ? (json === '' ? null : (JSON.parse(json) as unknown)) : treeFromForm(form!) };
    } catch {
      return { form, json, errors: ['The JSON is not valid JSON.'] };
    }
  }

  /** Who of the enrolled learners would open, see greyed or not see the target with `tree`; a bad tree is a 422. */
  async function countFor(target: Target, tree: unknown): Promise<MatchCounts> {
    const problems = tree === null ? [] : await deps.engine.check(tree, { id: target.course.id, activities: target.others });
    if (problems.length) throw invalid('AVAILABILITY_INVALID', problems[0]!.message, problems);
    return countMatches(deps.db, deps.engine, deps.courses, target.course.id, tree, target.sectionTree);
  }

  const problemsOf = (error: WaymarkError): string[] => (error.details.length ? error.details.map((d) => `${d.path ?? ''}: ${d.message}`) : [error.message]);

  /** Saves, removes or counts the tree in the form (or its JSON) for an activity or a section. */
  async function post(req: Request, res: Response, kind: Target['kind']): Promise<void> {
    const target = await loadTarget(kind, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const action = text(body, 'action');
    const save = (availability: unknown) =>
      kind === 'section' ? deps.courses.updateSection(target.id, { availability }) : deps.courses.updateActivity(target.id, { availability });
    if (action === 'remove') {
      await save(null);
      return res.redirect(303, `/admin/restrict_access/${target.path}?notice=removed`);
    }
    const { form, json, tree, errors } = await postedTree(body);
    if (errors) return show(req, res, kind, { form, json, errors }, 422);
    try {
      if (action === 'count') {
        const counts = await countFor(target, tree);
        return show(req, res, kind, {
          form,
          json: json || (tree === null ? '' : JSON.stringify(tree, null, 2)),
          counts: { ...counts, label: 'With the restriction in the form' },
        });
      }
      await save(tree);
    } catch (error) {
      if (error instanceof WaymarkError && error.status === 422) {
        return show(req, res, kind, { form, json, errors: problemsOf(error) }, 422);
      }
      throw error;
    }
    res.redirect(303, `/admin/restrict_access/${target.path}?notice=saved`);
  }

  for (const kind of ['activity', 'section'] as const) {
    const path = `/admin/restrict_access/${kind === 'section' ? 'sections' : 'activities'}/:id`;
    routes.page({ method: 'get', path, access: 'admin', handler: (req, res) => show(req, res, kind) });
    routes.page({ method: 'post', path, access: 'admin', handler: (req, res) => post(req, res, kind) });
    // The live count: the editor's script posts the same form here as it changes.
    routes.page({
      method: 'post',
      path: `${path}/count`,
      access: 'admin',
      async handler(req, res) {
        const target = await loadTarget(kind, req.params.id);
        const { tree, errors } = await postedTree((req.body ?? {}) as Record<string, unknown>);
        if (errors) {
          res.status(422).json({ message: errors.join(' ') });
          return;
        }
        try {
          const c = await countFor(target, tree);
          res.json({
            ...c,
            message: `With the restriction in the form: of ${c.enrolled} enrolled learners, ${c.open} can open it, ${c.greyed} see it greyed and ${c.hidden} do not see it.`,
          });
        } catch (error) {
          if (!(error instanceof WaymarkError && error.status === 422)) throw error;
          res.status(422).json({ message: problemsOf(error).join(' ') });
        }
      },
    });
  }
  routes.page({
    method: 'get',
    path: '/admin/restrict_access/live-count.js',
    access: 'admin',
    handler(_req, res) {
      res.type('text/javascript').send(LIVE_COUNT_JS);
    },
  });
}
