import type { Executor } from '../../../kernel/db/database';
import { firstByPrefix, mergePicks, type PickItem, type Picker } from '../../../kernel/pickers';

interface Row {
  id: number;
  fullname: string;
  shortname: string;
}
const item = (r: Row): PickItem => ({ id: r.id, label: r.fullname, hint: r.shortname });

/**
 * COURSEourses by name for the `pickers` extension point: full or short name starting with the
 * text, any case; two index ranges (migration 0014) merged in name order.
 */
export function coursePicker(db: () => Executor): Picker {
  return {
    noun: 'course',
    plural: 'courses',
    async search(q, limit) {
      const lists = await Promise.all(
        ['fullname', 'shortname'].map((column) => firstByPrefix<Row>(db()('courses').select('id', 'fullname', 'shortname'), column, q, limit)),
      );
      return mergePicks(
        lists.map((l) => l.map(item)),
        limit,
      );
    },
    async labelsOf(ids) {
      if (!ids.length) return new Map();
      const rows = (await db()('courses').whereIn('id', ids).select('id', 'fullname', 'shortname')) as Row[];
      return new Map(rows.map((r) => [r.id, item(r)]));
    },
  };
}
