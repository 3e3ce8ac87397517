import type { Knex } from 'knex';
import { isUniqueViolation, type Executor } from '../../kernel/db/database';
import { conflict, invalid, WaymarkError } from '../../kernel/errors';
import { num, type PeopleContext } from './context';
import {
  audienceIdsOf,
  audiencePage,
  memberCounts,
  countMatching,
  countUsers,
  deleteMember,
  deleteMembers,
  dynamicAudienceRows,
  findAudienceRow,
  insertAudience,
  insertManualMember,
  insertRuleMembers,
  isMember,
  memberIdsQuery,
  memberPage,
  updateAudienceRow,
  userIdBatch,
  usersToAdd,
  usersToRemove,
  type AudienceRow,
  type UserScope,
} from './store/audiences';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import { createRuleCompiler, type AudienceRuleContext, type ConditionLookup } from './audience-rules';
import type {
  Audience,
  AudienceCondition,
  AudienceMember,
  AudienceRuleNode,
  AudienceType,
  AudienceUpdateResult,
  CreateAudienceInput,
  UpdateAudienceInput,
} from './types';

/** The job that recomputes one audience's membership after its rules were edited. */
export const AUDIENCE_RECOMPUTE_JOB = 'people.audience_recompute';
/** The hourly job that recomputes audiences whose conditions change with time alone ("overdue"). */
export const AUDIENCE_REFRESH_JOB = 'people.audience_refresh';
/** How many things of each kind the rule editor lists by name. */
const RULE_CHOICES = 500;
/** Users per transaction of a full recompute. */
const RECOMPUTE_BATCH = 1000;

export interface AudienceService {
  /**
   * Creates a static audience, or a dynamic one when `rules` is given (a user is a member when
   * every rule matches). A dynamic audience's membership is computed at once, set-based.
   */
  create(input: CreateAudienceInput, trx?: Executor): Promise<Audience>;
  /** 404 AUDIENCE_NOT_FOUND when missing. */
  get(id: number, executor?: Executor): Promise<Audience>;
  find(id: number, executor?: Executor): Promise<Audience | null>;
  /** Adds a user to a static audience; false (and no event) when already a member. 409 AUDIENCE_DYNAMIC on a dynamic one. */
  addMember(audienceId: number, userId: number, trx?: Executor): Promise<boolean>;
  /** Removes a user from a static audience; false (and no event) when not a member. */
  removeMember(audienceId: number, userId: number, trx?: Executor): Promise<boolean>;
  isMember(audienceId: number, userId: number, executor?: Executor): Promise<boolean>;
  /** A subquery of the audience's member user ids (index on audience_id, user_id). */
  membersQuery(audienceId: number, executor?: Executor): Knex.QueryBuilder;
  /** A keyset page of members with names (name or username prefix), in a named order of {@link MEMBER_ORDERS}; 404 for no audience. */
  members(audienceId: number, filter: { q?: string }, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<AudienceMember>>;
  /** Audience ids the user belongs to. */
  audiencesOf(userId: number, executor?: Executor): Promise<number[]>;
  /**
   * Recomputes dynamic audience membership for the given users (all users when null) inside
   * `trx`, telling listeners of the flips per audience (one `audience_membership` change when one
   * learner flipped, one `onAudienceMembershipBatch` when several did). Audiences are
   * evaluated in id order: a rule may only name an older audience, so a flip cascades forward.
   */
  recomputeForUsers(trx: Knex.Transaction, users: number[] | Knex.QueryBuilder | null): Promise<number>;
  /** One page of audiences (name prefix, type), in a named order of {@link AUDIENCE_ORDERS}. */
  list(filter: { q?: string; type?: AudienceType }, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<Audience>>;
  /**
   * Renames an audience or replaces a dynamic audience's rules. New rules are validated (422 naming
   * the bad node) and saved at once; membership follows in the `people.audience_recompute` job,
   * whose id is returned (null when the rules did not change). 409 AUDIENCE_STATIC for rules on a static audience.
   */
  update(id: number, input: UpdateAudienceInput): Promise<AudienceUpdateResult>;
  /** How many users match these rules now (validated like a save; 422 on a bad node). */
  countMatching(rules: unknown, audienceId?: number | null): Promise<number>;
  /** The rules in words: "Completed course A and not (Position Analyst)". */
  describe(audience: Audience): Promise<string>;
  /** {@link list}, with each audience's member count. */
  listWithMembers(filter: { q?: string; type?: AudienceType }, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<Audience & { members: number }>>;
  /**
   * The body of the recompute job: brings the audience's membership in line with its rules in
   * batches of users (one transaction each, firing a membership change per flip so audience-based
   * program assignment follows), reporting progress; returns the counts.
   */
  recompute(audienceId: number, progress?: (done: number, total: number, message: string) => Promise<void>): Promise<{ added: number; removed: number }>;
  /**
   * What the operator's rule editor offers, by condition: a condition naming one thing offers its
   * templates and the picker that finds the thing by name (`instance`); others offer their choices
   * as ready conditions (bounded lists). Conditions with neither are API-only.
   */
  ruleChoices(audienceId: number | null): Promise<
    Array<{
      type: string;
      label: string;
      needsValue: boolean;
      options: Array<{ label: string; rule: AudienceCondition }>;
      instance: { property: string; picker: string } | null;
    }>
  >;
  /** Recomputes every dynamic audience whose rules change with time alone (the hourly job). */
  refreshTimeDependent(): Promise<{ audiences: number; added: number; removed: number }>;
}

export interface AudienceDeps {
  userExists(trx: Knex.Transaction, userId: number): Promise<boolean>;
  /** The audience rule conditions (the extension point's contributions). */
  conditions: ConditionLookup;
  /** Queues the recompute job inside the saving transaction. */
  enqueueRecompute(trx: Knex.Transaction, audienceId: number): Promise<number>;
}

function toAudience(row: AudienceRow): Audience {
  return {
    id: num(row.id),
    name: row.name,
    type: row.type as AudienceType,
    rules: row.rules ? (JSON.parse(row.rules) as AudienceRuleNode[]) : null,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export function createAudienceService(ctx: PeopleContext, deps: AudienceDeps): AudienceService {
  const knex = ctx.db.knex;

  async function find(id: number, executor: Executor = knex): Promise<Audience | null> {
    if (!Number.isInteger(id)) return null;
    const row = await findAudienceRow(executor, id);
    return row ? toAudience(row) : null;
  }

  const compiler = createRuleCompiler(deps.conditions);
  const ruleContext = (db: Executor, audienceId: number | null): AudienceRuleContext => ({ db, now: ctx.db.now(), audienceId });

  /**
   * Brings one dynamic audience in line with its rules for `users`: desired minus current are
   * added, current minus desired removed, both as set queries; returns the flips.
   */
  async function sync(trx: Knex.Transaction, audience: Audience, users: UserScope): Promise<Array<{ userId: number; member: boolean }>> {
    const rules = await compiler.resolve(audience.rules ?? [], ruleContext(trx, audience.id));
    const toAdd = await usersToAdd(trx, audience.id, rules, users);
    const toRemove = await usersToRemove(trx, audience.id, rules, users);
    const now = ctx.db.now();
    await insertRuleMembers(trx, audience.id, toAdd, now);
    await deleteMembers(trx, audience.id, toRemove);
    return [...toAdd.map((userId) => ({ userId, member: true })), ...toRemove.map((userId) => ({ userId, member: false }))];
  }

  /**
   * Tells listeners (audience-based program assignment) about one audience's flips: a single
   * learner's flip as one `audience_membership` change, as on the incremental path; several as one
   * `onAudienceMembershipBatch` over the flipped learners' id range, which assignment answers with
   * set-based statements for the range rather than one sync per learner.
   */
  async function tell(trx: Knex.Transaction, audienceId: number, flips: ReadonlyArray<{ userId: number; member: boolean }>): Promise<void> {
    if (flips.length === 0) return;
    if (flips.length === 1) {
      await ctx.changed(trx, { type: 'audience_membership', userId: flips[0]!.userId, audienceId, member: flips[0]!.member });
      return;
    }
    const added: number[] = [];
    const removed: number[] = [];
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const flip of flips) {
      (flip.member ? added : removed).push(flip.userId);
      lo = Math.min(lo, flip.userId);
      hi = Math.max(hi, flip.userId);
    }
    await ctx.changedInBatch(trx, { audienceId, added, removed, range: { lo, hi } });
  }

  /** Tells listeners about `flips` and cascades them to later audiences naming this one. */
  async function announce(trx: Knex.Transaction, audienceId: number, flips: Array<{ userId: number; member: boolean }>): Promise<void> {
    await tell(trx, audienceId, flips);
    if (flips.length)
      await service.recomputeForUsers(
        trx,
        flips.map((f) => f.userId),
      );
  }

  async function requireUser(trx: Knex.Transaction, userId: number): Promise<void> {
    if (!(await deps.userExists(trx, userId))) throw new WaymarkError('USER_NOT_FOUND', `User ${userId} not found`, 404);
  }

  async function requireStatic(trx: Executor, audienceId: number): Promise<Audience> {
    const audience = await service.get(audienceId, trx);
    if (audience.type === 'dynamic') throw conflict('AUDIENCE_DYNAMIC', `Audience ${audienceId} is dynamic: its members come from its rules`);
    return audience;
  }

  const service: AudienceService = {
    async list(filter, order, position) {
      const page = await audiencePage(knex, filter, order, position);
      return { ...page, items: page.items.map(toAudience) };
    },
    async create(input, trx) {
      const name = input.name?.trim();
      if (!name) throw invalid('AUDIENCE_NAME_REQUIRED', 'name is required', [{ path: 'name', message: 'required' }]);
      const dynamic = input.rules !== undefined;
      return ctx.tx(trx, async (t) => {
        if (dynamic) await compiler.validate(input.rules, ruleContext(t, null));
        const now = ctx.db.now();
        const id = await insertAudience(t, {
          name,
          type: dynamic ? 'dynamic' : 'static',
          rules: dynamic ? JSON.stringify(input.rules) : null,
          created_at: now,
          updated_at: now,
        });
        const audience = (await find(id, t))!;
        // Nothing can reference an audience that did not exist a moment ago, so its initial
        // members are written without per-member events.
        if (dynamic) await sync(t, audience, null);
        return audience;
      });
    },

    async get(id, executor) {
      const audience = await find(id, executor);
      if (!audience) throw new WaymarkError('AUDIENCE_NOT_FOUND', `Audience ${id} not found`, 404);
      return audience;
    },

    find,

    async addMember(audienceId, userId, trx) {
      return ctx.tx(trx, async (t) => {
        await requireStatic(t, audienceId);
        await requireUser(t, userId);
        // The unique (audience_id, user_id) index decides: a duplicate is a no-op, not an error.
        // Both databases roll back only the failed statement, so the transaction carries on.
        try {
          await insertManualMember(t, audienceId, userId, ctx.db.now());
        } catch (error) {
          if (isUniqueViolation(error)) return false;
          throw error;
        }
        await ctx.changed(t, { type: 'audience_membership', userId, audienceId, member: true });
        await service.recomputeForUsers(t, [userId]);
        return true;
      });
    },

    async removeMember(audienceId, userId, trx) {
      return ctx.tx(trx, async (t) => {
        await requireStatic(t, audienceId);
        const removed = await deleteMember(t, audienceId, userId);
        if (!removed) return false;
        await ctx.changed(t, { type: 'audience_membership', userId, audienceId, member: false });
        await service.recomputeForUsers(t, [userId]);
        return true;
      });
    },

    async isMember(audienceId, userId, executor = knex) {
      return isMember(executor, audienceId, userId);
    },

    membersQuery(audienceId, executor = knex) {
      return memberIdsQuery(executor, audienceId);
    },

    async members(audienceId, filter, order, position) {
      await service.get(audienceId);
      const page = await memberPage(knex, audienceId, filter, order, position);
      return {
        ...page,
        items: page.items.map((r) => ({ userId: num(r.user_id), username: r.username, fullname: r.fullname, source: r.source, addedAt: num(r.added_at) })),
      };
    },

    async audiencesOf(userId, executor = knex) {
      return audienceIdsOf(executor, userId);
    },

    async update(id, input) {
      return ctx.tx(undefined, async (t) => {
        const audience = await service.get(id, t);
        const patch: { name?: string; rules?: string } = {};
        if (input.name !== undefined) {
          const name = input.name.trim();
          if (!name) throw invalid('AUDIENCE_NAME_REQUIRED', 'name is required', [{ path: 'name', message: 'required' }]);
          patch.name = name;
        }
        let rulesChanged = false;
        if (input.rules !== undefined) {
          if (audience.type === 'static') throw conflict('AUDIENCE_STATIC', `Audience ${id} is static: its members are added by hand`);
          const rules = await compiler.validate(input.rules, ruleContext(t, id));
          patch.rules = JSON.stringify(rules);
          rulesChanged = patch.rules !== JSON.stringify(audience.rules);
        }
        if (Object.keys(patch).length) await updateAudienceRow(t, id, patch, ctx.db.now());
        // Membership is recomputed set-based in the background: an audience of any size saves at once.
        const jobId = rulesChanged ? await deps.enqueueRecompute(t, id) : null;
        if (rulesChanged) ctx.logger.info('audience rules changed; recompute queued', { audienceId: id, jobId });
        return { audience: (await find(id, t))!, jobId };
      });
    },

    async countMatching(rules, audienceId = null) {
      const validated = await compiler.validate(rules, ruleContext(knex, audienceId));
      return countMatching(knex, await compiler.resolve(validated, ruleContext(knex, audienceId)));
    },

    async describe(audience) {
      if (!audience.rules) return 'Members added by hand';
      return compiler.describe(audience.rules, ruleContext(knex, audience.id));
    },

    async listWithMembers(filter, order, position) {
      const page = await audiencePage(knex, filter, order, position);
      const counts = await memberCounts(
        knex,
        page.items.map((r) => Number(r.id)),
      );
      return { ...page, items: page.items.map((r) => ({ ...toAudience(r), members: counts.get(Number(r.id)) ?? 0 })) };
    },

    async recompute(audienceId, progress) {
      let added = 0;
      let removed = 0;
      // Rules saved while the job runs are picked up by starting over: at most one job per audience
      // is queued or running (dedupe key), so the last edit always ends up applied.
      for (;;) {
        const start = await find(audienceId);
        if (!start || start.type !== 'dynamic') return { added, removed };
        const total = await countUsers(knex);
        let after = 0;
        let done = 0;
        for (;;) {
          const batch = await userIdBatch(knex, after, RECOMPUTE_BATCH);
          if (batch.length === 0) break;
          await ctx.tx(undefined, async (t) => {
            const audience = await find(audienceId, t);
            if (!audience || audience.type !== 'dynamic') return;
            const flips = await sync(t, audience, batch);
            for (const flip of flips) {
              if (flip.member) added++;
              else removed++;
            }
            await announce(t, audienceId, flips);
          });
          after = batch[batch.length - 1]!;
          done += batch.length;
          await progress?.(Math.min(done, total), total, `added ${added}, removed ${removed}`);
        }
        const end = await find(audienceId);
        if (!end || end.updatedAt === start.updatedAt) break;
      }
      ctx.logger.info('audience recomputed', { audienceId, added, removed });
      return { added, removed };
    },

    async ruleChoices(audienceId) {
      const out = [];
      for (const type of deps.conditions.types()) {
        const condition = deps.conditions.get(type)!;
        const needsValue = condition.needsValue === true;
        if (condition.instance) {
          const { property, picker, templates } = condition.instance;
          out.push({ type, label: condition.label, needsValue, options: templates, instance: { property, picker } });
          continue;
        }
        if (!condition.picker) continue;
        const options = await condition.picker(ruleContext(knex, audienceId), RULE_CHOICES);
        out.push({ type, label: condition.label, needsValue, options, instance: null });
      }
      return out.sort((a, b) => a.label.localeCompare(b.label));
    },

    async refreshTimeDependent() {
      const audiences = (await dynamicAudienceRows(knex)).map(toAudience).filter((a) => compiler.changesWithTime(a.rules ?? []));
      let added = 0;
      let removed = 0;
      for (const audience of audiences) {
        const counts = await service.recompute(audience.id);
        added += counts.added;
        removed += counts.removed;
      }
      return { audiences: audiences.length, added, removed };
    },

    async recomputeForUsers(trx, users) {
      if (Array.isArray(users) && users.length === 0) return 0;
      const dynamics = (await dynamicAudienceRows(trx)).map(toAudience);
      let flips = 0;
      for (const audience of dynamics) {
        const changed = await sync(trx, audience, users);
        flips += changed.length;
        await tell(trx, audience.id, changed);
      }
      return flips;
    },
  };
  return service;
}
