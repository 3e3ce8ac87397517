import type { Executor } from '../../kernel/db/database';
import type { PickItem, Picker } from '../../kernel/pickers';
import {
  audiencePicksById,
  fieldPicksById,
  jobPicksById,
  nodePicksById,
  searchAudiencePicks,
  searchFieldPicks,
  searchJobPicks,
  searchNodePicks,
  searchUserPicks,
  userPicksById,
  type PickRow,
} from './store/picks';

const item = (r: PickRow): PickItem => (r.hint ? { id: r.id, label: r.label, hint: r.hint } : { id: r.id, label: r.label });
const byId = (rows: PickRow[]): Map<number, PickItem> => new Map(rows.map((r) => [r.id, item(r)]));

function picker(
  noun: string,
  plural: string,
  search: (q: string, limit: number) => Promise<PickRow[]>,
  byIds: (ids: readonly number[]) => Promise<PickRow[]>,
): Picker {
  return {
    noun,
    plural,
    search: async (q, limit) => (await search(q, limit)).map(item),
    labelsOf: async (ids) => byId(await byIds(ids)),
  };
}

/**
 * The pickers of the things the people module owns, by key (the `pickers` extension point):
 * `users`, `audiences`, `static_audiences` (those whose members are added by hand), `positions`,
 * `organisations`, `profile_fields` and `managers` (a manager is one of a person's job
 * assignments: "Ann Smith — Team lead, Sales").
 */
export function peoplePickers(db: () => Executor): Record<string, Picker> {
  return {
    users: picker(
      'user',
      'users',
      (q, n) => searchUserPicks(db(), q, n),
      (ids) => userPicksById(db(), ids),
    ),
    audiences: picker(
      'audience',
      'audiences',
      (q, n) => searchAudiencePicks(db(), q, n),
      (ids) => audiencePicksById(db(), ids),
    ),
    static_audiences: picker(
      'static audience',
      'static audiences',
      (q, n) => searchAudiencePicks(db(), q, n, 'static'),
      (ids) => audiencePicksById(db(), ids, 'static'),
    ),
    positions: picker(
      'position',
      'positions',
      (q, n) => searchNodePicks(db(), 'position', q, n),
      (ids) => nodePicksById(db(), 'position', ids),
    ),
    organisations: picker(
      'organisation',
      'organisations',
      (q, n) => searchNodePicks(db(), 'organisation', q, n),
      (ids) => nodePicksById(db(), 'organisation', ids),
    ),
    profile_fields: picker(
      'profile field',
      'profile fields',
      (q, n) => searchFieldPicks(db(), q, n),
      (ids) => fieldPicksById(db(), ids),
    ),
    managers: picker(
      'manager',
      'managers',
      (q, n) => searchJobPicks(db(), q, n),
      (ids) => jobPicksById(db(), ids),
    ),
  };
}
