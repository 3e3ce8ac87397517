import type { Knex } from 'knex';
import { isUniqueViolation, type Executor } from '../../kernel/db/database';
import { conflict, invalid, WaymarkError, type ErrorDetail } from '../../kernel/errors';
import { num, type PeopleContext } from './context';
import { nodeNotFoundCode, type HierarchyService } from './hierarchy';
import {
  audienceIdsOf,
  audiencePage,
  courseExists,
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
  usersToAdd,
  usersToRemove,
  type AudienceRow,
  type CompiledRule,
  type UserScope,
} from './store/audiences';
import type { ProfileFieldService } from './profile-fields';
import type { KeysetOrder, KeysetPage, PagePosition } from '../../kernel/db/keyset';
import type { Audience, AudienceMember, AudienceRule, AudienceType, CreateAudienceInput } from './types';

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
   * `trx`, firing an audience_membership change for every membership that flips. Audiences are
   * evaluated in id order: a rule may only name an older audience, so a flip cascades forward.
   */
  recomputeForUsers(trx: Knex.Transaction, users: number[] | Knex.QueryBuilder | null): Promise<number>;
  /** One page of audiences (name prefix, type), in a named order of {@link AUDIENCE_ORDERS}. */
  list(filter: { q?: string; type?: AudienceType }, order: KeysetOrder, position: PagePosition): Promise<KeysetPage<Audience>>;
}

export interface AudienceDeps {
  profileFields: ProfileFieldService;
  hierarchy: HierarchyService;
  userExists(trx: Knex.Transaction, userId: number): Promise<boolean>;
}

function toAudience(row: AudienceRow): Audience {
  return {
    id: num(row.id),
    name: row.name,
    type: row.type as AudienceType,
    rules: row.rules ? (JSON.parse(row.rules) as AudienceRule[]) : null,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

const ruleError = (index: number, code: string, message: string, field = ''): WaymarkError =>
  invalid(code, message, [{ path: `rules/${index}${field ? `/${field}` : ''}`, code, message } satisfies ErrorDetail]);

export function createAudienceService(ctx: PeopleContext, deps: AudienceDeps): AudienceService {
  const knex = ctx.db.knex;

  async function find(id: number, executor: Executor = knex): Promise<Audience | null> {
    if (!Number.isInteger(id)) return null;
    const row = await findAudienceRow(executor, id);
    return row ? toAudience(row) : null;
  }

  /** Validates rules and resolves names to ids and paths. Paths are read at evaluation time so moves apply. */
  async function compile(trx: Executor, rules: AudienceRule[]): Promise<CompiledRule[]> {
    const out: CompiledRule[] = [];
    for (const [i, rule] of rules.entries()) {
      switch (rule.type) {
        case 'profile_field': {
          const field = await deps.profileFields.findByShortname(rule.field, trx);
          if (!field) throw ruleError(i, 'USER_PROFILE_FIELD_UNKNOWN', `Unknown profile field "${rule.field}"`, 'field');
          const stored = deps.profileFields.normalise(field, rule.value, `rules/${i}/value`);
          out.push(
            stored.valueDate !== null
              ? { type: 'profile_field', fieldId: field.id, column: 'value_date', value: stored.valueDate }
              : { type: 'profile_field', fieldId: field.id, column: 'value_text', value: stored.valueText ?? '' },
          );
          break;
        }
        case 'user_field':
          if (rule.field !== 'lang' && rule.field !== 'timezone')
            throw ruleError(i, 'AUDIENCE_RULE_INVALID', 'user_field rules support lang and timezone', 'field');
          if (typeof rule.value !== 'string') throw ruleError(i, 'AUDIENCE_RULE_INVALID', 'value must be a string', 'value');
          out.push({ type: 'user_field', column: rule.field, value: rule.value });
          break;
        case 'position':
        case 'organisation': {
          const nodeId = rule.type === 'position' ? rule.positionId : rule.organisationId;
          const key = rule.type === 'position' ? 'positionId' : 'organisationId';
          const node = await deps.hierarchy.find(rule.type, nodeId, trx);
          if (!node) throw ruleError(i, nodeNotFoundCode(rule.type), `No ${rule.type} with id ${nodeId}`, key);
          out.push({ type: 'hierarchy', column: `${rule.type}_id`, kind: rule.type, nodeId, path: rule.includeChildren ? node.path : null });
          break;
        }
        case 'audience': {
          const other = await find(rule.audienceId, trx);
          if (!other) throw ruleError(i, 'AUDIENCE_NOT_FOUND', `No audience with id ${rule.audienceId}`, 'audienceId');
          out.push({ type: 'audience', audienceId: other.id });
          break;
        }
        case 'course_completed': {
          if (!Number.isInteger(rule.courseId) || !(await courseExists(trx, rule.courseId)))
            throw ruleError(i, 'COURSE_NOT_FOUND', `No course with id ${rule.courseId}`, 'courseId');
          out.push({ type: 'course_completed', courseId: rule.courseId });
          break;
        }
        default:
          throw ruleError(i, 'AUDIENCE_RULE_UNSUPPORTED', `Unsupported rule type "${(rule as { type?: unknown }).type}"`, 'type');
      }
    }
    return out;
  }

  /**
   * Brings one dynamic audience in line with its rules for `users`: desired minus current are
   * added, current minus desired removed, both as set queries; returns the flips.
   */
  async function sync(trx: Knex.Transaction, audience: Audience, users: UserScope): Promise<Array<{ userId: number; member: boolean }>> {
    const rules = await compile(trx, audience.rules ?? []);
    const toAdd = await usersToAdd(trx, audience.id, rules, users);
    const toRemove = await usersToRemove(trx, audience.id, rules, users);
    const now = ctx.db.now();
    await insertRuleMembers(trx, audience.id, toAdd, now);
    await deleteMembers(trx, audience.id, toRemove);
    return [...toAdd.map((userId) => ({ userId, member: true })), ...toRemove.map((userId) => ({ userId, member: false }))];
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
      if (dynamic && (!Array.isArray(input.rules) || input.rules.length === 0)) {
        throw invalid('AUDIENCE_RULES_EMPTY', 'A dynamic audience needs at least one rule', [{ path: 'rules', message: 'empty' }]);
      }
      return ctx.tx(trx, async (t) => {
        if (dynamic) await compile(t, input.rules!);
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

    async recomputeForUsers(trx, users) {
      if (Array.isArray(users) && users.length === 0) return 0;
      const dynamics = (await dynamicAudienceRows(trx)).map(toAudience);
      let flips = 0;
      for (const audience of dynamics) {
        for (const flip of await sync(trx, audience, users)) {
          flips++;
          await ctx.changed(trx, { type: 'audience_membership', userId: flip.userId, audienceId: audience.id, member: flip.member });
        }
      }
      return flips;
    },
  };
  return service;
}
