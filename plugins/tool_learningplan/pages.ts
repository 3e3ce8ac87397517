import type { Request, Response } from 'express';
import {
  notFound,
  pageLinks,
  pagePositionOf,
  parseId,
  PickError,
  pickState,
  postedPickState,
  resolvePick,
  WaymarkError,
  type FeatureContext,
  type PickState,
  type Picker,
  type ThemeRegistrar,
  type UserService,
} from '../../core/index';
import { PLAN_ORDER, type LearningPlans, type ProgramRoute } from './plans';

export interface PlanPageDeps {
  plans: LearningPlans;
  users: UserService;
  /** The `programs` picker: a program is added by its name. */
  programs(): Picker;
}

const PAGE = 50;

/** Redirect notices: fixed texts chosen by key, so a crafted link cannot put words on the page. */
const NOTICES: Record<string, string> = {
  added: 'The program was added to the plan.',
  removed: 'The program was taken out of the plan.',
};

const ROUTE_WORDS: Record<ProgramRoute, string> = {
  none: 'Not assigned by the program',
  exception: 'Held by an exception',
  assigned: 'Also assigned by the program',
};

const PLAN_PAGE = `<div class="wrap wide">
  <p class="breadcrumb"><a href="/admin/users">Users</a> › <a href="/admin/users/{{account.id}}">{{account.fullname}}</a></p>
  <h1>Learning plan of {{account.fullname}}</h1>
  {{> admin-nav}}
  {{#if notice}}<p class="notice" role="status">{{notice}}</p>{{/if}}
  <p>A program in a learner's plan is theirs outside the program's own assignment rules. When a rule later reaches them, the
    program's assignment waits in an <a href="/admin/exceptions">already assigned exception</a> until you decide which route stands.</p>
  {{#if items.length}}
  <div class="table-scroll" role="region" aria-labelledby="plan-caption" tabindex="0">
  <table class="table record-table">
    <caption id="plan-caption">Programs in the plan, in the order they were added</caption>
    <thead><tr><th scope="col">Program</th><th scope="col">Added</th><th scope="col">Program assignment</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>
      {{#each items}}
      <tr>
        <th scope="row">{{fullname}} <span class="muted">{{shortname}}</span></th>
        <td data-label="Added"><time datetime="{{addedAt}}">{{formatDate addedAt format="date"}}</time>{{#if addedBy}} <span class="muted">by {{addedBy.fullname}}</span>{{/if}}</td>
        <td data-label="Program assignment">{{routeWords}}</td>
        <td class="actions">
          <form method="post" action="/admin/users/{{../account.id}}/learning-plan/{{programId}}/remove">{{> csrf}}<button type="submit" class="link-button">Take out<span class="sr-only"> {{fullname}}</span></button></form>
        </td>
      </tr>
      {{/each}}
    </tbody>
  </table>
  </div>
  {{> pager}}
  {{else}}<p class="empty">{{account.fullname}} has no programs in their plan.</p>{{/if}}
  <h2>Add a program</h2>
  {{#if errors.length}}<div class="errors" role="alert"><ul>{{#each errors}}<li>{{this}}</li>{{/each}}</ul></div>{{/if}}
  <form class="form" method="post" action="/admin/users/{{account.id}}/learning-plan">
    {{> csrf}}
    {{> pick name="program" picker="programs" label="Program" state=programPick required=true}}
    <div class="actions"><button type="submit" class="button">Add to the plan</button></div>
  </form>
</div>`;

/** A path id, or a 404 naming what it was meant to be. */
function idOf(value: unknown, what: string): number {
  const id = parseId(value);
  if (id === null) throw notFound(what, String(value));
  return id;
}

/**
 * The operator's page of a learner's plan, `/admin/users/{id}/learning-plan`: the programs in it,
 * paged, each taken out with one button; a program is added by its name. Linked from the user page
 * through people's `userAdminSections`.
 */
export function registerPlanPages(deps: PlanPageDeps, routes: FeatureContext['routes'], theme: ThemeRegistrar): void {
  theme.partial('plan', PLAN_PAGE);

  const show = async (req: Request, res: Response, over: { errors?: string[]; programPick?: PickState } = {}, status?: number): Promise<void> => {
    const user = await deps.users.get(idOf(req.params.id, 'User'));
    const base = `/admin/users/${user.id}/learning-plan`;
    const position = pagePositionOf(PLAN_ORDER, req.method === 'GET' ? (req.query as Record<string, unknown>) : {}, PAGE);
    const page = await deps.plans.list(user.id, position);
    res.locals.render(
      'tool_learningplan/plan',
      {
        title: `Learning plan of ${user.fullname}`,
        adminNav: 'users',
        notice: NOTICES[String(req.query.notice ?? '')] ?? null,
        // Not `user`: the layout's header shows the signed-in user under that name.
        account: { id: user.id, fullname: user.fullname },
        items: page.items.map((item) => ({ ...item, routeWords: ROUTE_WORDS[item.programAssignment] })),
        pager: pageLinks(base, {}, page, position, PAGE),
        errors: over.errors ?? [],
        programPick: over.programPick ?? (await pickState(deps.programs(), null)),
      },
      status === undefined ? {} : { status },
    );
  };

  routes.page({ method: 'get', path: '/admin/users/:id/learning-plan', access: 'admin', handler: (req, res) => show(req, res) });
  routes.page({
    method: 'post',
    path: '/admin/users/:id/learning-plan',
    access: 'admin',
    async handler(req, res) {
      const userId = idOf(req.params.id, 'User');
      try {
        const program = await resolvePick(deps.programs(), req.body, 'program', { label: 'Program', required: true });
        await deps.plans.add(userId, program!.id, req.user!.id);
      } catch (error) {
        if (error instanceof PickError) return show(req, res, { errors: [error.message], programPick: error.state }, 422);
        // A program the learner already has another way is the operator's to see, not a failure page.
        if (error instanceof WaymarkError && error.status === 409) {
          return show(req, res, { errors: [error.message], programPick: postedPickState(req.body, 'program') }, 409);
        }
        throw error;
      }
      res.redirect(303, `/admin/users/${userId}/learning-plan?notice=added`);
    },
  });
  routes.page({
    method: 'post',
    path: '/admin/users/:id/learning-plan/:programId/remove',
    access: 'admin',
    async handler(req, res) {
      const userId = idOf(req.params.id, 'User');
      await deps.plans.remove(userId, idOf(req.params.programId, 'Program in this learning plan'));
      res.redirect(303, `/admin/users/${userId}/learning-plan?notice=removed`);
    },
  });
}
