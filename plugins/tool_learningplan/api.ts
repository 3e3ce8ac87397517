import {
  cursorQuery,
  forbidden,
  Id,
  listResponse,
  noQuery,
  object,
  pagePosition,
  pathParams,
  queryParams,
  UserId,
  type ApiRequest,
  type ApiRoute,
  type JobAssignmentService,
  type UserService,
} from '../../core/index';
import { PLAN_ORDER, type LearningPlans } from './plans';

export interface PlanApiDeps {
  plans: LearningPlans;
  users: UserService;
  jobAssignments: JobAssignmentService;
}

const PLAN_PAGE = 50;

const planItem = object({
  programId: Id,
  fullname: { type: 'string' },
  shortname: { type: 'string' },
  addedAt: { type: 'string', format: 'date-time' },
  addedBy: { anyOf: [object({ id: Id, fullname: { type: 'string' } }), { type: 'null' }] },
  programAssignment: {
    enum: ['none', 'exception', 'assigned'],
    description: "The program's own assignment of this learner: none, held by an exception, or assigned",
  },
});

/**
 * The learner whose plan a request names, after checking who asks: the learner, one of their
 * managers (direct or indirect) or an administrator may read it; only an administrator changes it.
 */
async function planOwner(deps: PlanApiDeps, req: ApiRequest, write: boolean): Promise<number> {
  const userId = req.params.id!;
  const viewer = req.user!;
  if (write && !viewer.isAdmin) throw forbidden("Only an administrator may change a learner's plan");
  if (!viewer.isAdmin && viewer.id !== userId && !(await deps.jobAssignments.manages(viewer.id, userId))) {
    throw forbidden("You may only read your own learning plan or your team's");
  }
  await deps.users.get(userId);
  return userId;
}

/** `/tool_learningplan/users/{id}/plan`: read (paged), add a program, take one out. `me` is the caller. */
export function planRoutes(deps: PlanApiDeps): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/tool_learningplan/users/:id/plan',
      summary: "A learner's learning plan: its programs in the order they were added, with how the program's own assignment stands",
      tags: ['tool_learningplan'],
      access: 'user',
      params: pathParams({ id: UserId }),
      query: queryParams(cursorQuery(PLAN_PAGE)),
      response: listResponse(planItem),
      handler: async (req) => {
        const userId = await planOwner(deps, req, false);
        const page = await deps.plans.list(userId, pagePosition(PLAN_ORDER, req.query, PLAN_PAGE));
        return { body: { items: page.items, nextCursor: page.nextCursor } };
      },
    },
    {
      method: 'post',
      path: '/tool_learningplan/users/:id/plan',
      summary:
        "Adds a program to a learner's plan. 409 when the program's own rules already assign it to them; a rule that reaches them later raises an already_assigned exception",
      tags: ['tool_learningplan'],
      access: 'admin',
      params: pathParams({ id: UserId }),
      query: noQuery,
      body: object({ programId: Id }),
      response: planItem,
      successStatus: 201,
      handler: async (req) => {
        const userId = await planOwner(deps, req, true);
        return { status: 201, body: await deps.plans.add(userId, (req.body as { programId: number }).programId, req.user!.id) };
      },
    },
    {
      method: 'delete',
      path: '/tool_learningplan/users/:id/plan/:programId',
      summary: "Takes a program out of a learner's plan (an exception it raised stays until an operator resolves it)",
      tags: ['tool_learningplan'],
      access: 'admin',
      params: pathParams({ id: UserId, programId: Id }),
      query: noQuery,
      successStatus: 204,
      handler: async (req) => {
        await deps.plans.remove(await planOwner(deps, req, true), req.params.programId!);
        return { status: 204 };
      },
    },
  ];
}
