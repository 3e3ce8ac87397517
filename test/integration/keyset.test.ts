import { expect } from 'chai';
import { createDatabase, type Database } from '../../core/kernel/db/database';
import { encodeCursor, keysetPage, seek, type KeysetOrder, type KeyValue, type PagePosition } from '../../core/kernel/db/keyset';
import { pagePosition } from '../../core/kernel/http/paging';
import { createTestDatabase, testDialect, type TestDatabase } from '../utils/db';

interface Person {
  id: number;
  name: string;
  score: number;
}

describe(`keyset paging (${testDialect})`, () => {
  let testDb: TestDatabase;
  let db: Database;
  // Deliberately many ties on `name` and `score`, so the unique last key decides positions.
  const people: Person[] = Array.from({ length: 47 }, (_, i) => ({ id: i + 1, name: `p${i % 5}`, score: (i * 7) % 4 }));
  const byName: KeysetOrder = {
    name: 'name',
    keys: [
      { column: 'name', direction: 'asc' },
      { column: 'id', direction: 'asc' },
    ],
  };
  const byScoreDesc: KeysetOrder = {
    name: '-score',
    keys: [
      { column: 'score', direction: 'desc' },
      { column: 'name', direction: 'asc' },
      { column: 'id', direction: 'desc' },
    ],
  };

  before(async () => {
    testDb = await createTestDatabase();
    db = createDatabase(testDb.url);
    await db.knex.schema.createTable('people', (t) => {
      t.integer('id').primary();
      t.string('name', 20).notNullable();
      t.integer('score').notNullable();
    });
    await db.knex('people').insert(people);
  });

  after(async () => {
    await db.close();
    await testDb.drop();
  });

  const keyOf = (order: KeysetOrder) => (row: Person) => order.keys.map((k) => row[k.column as keyof Person] as KeyValue);

  async function page(order: KeysetOrder, position: PagePosition) {
    const rows = (await seek(db.knex('people').select('id', 'name', 'score'), order, position)) as Person[];
    return keysetPage(rows, order, position, keyOf(order));
  }

  function sorted(order: KeysetOrder): number[] {
    return [...people]
      .sort((a, b) => {
        for (const key of order.keys) {
          const col = key.column as keyof Person;
          const cmp = a[col] < b[col] ? -1 : a[col] > b[col] ? 1 : 0;
          if (cmp !== 0) return key.direction === 'asc' ? cmp : -cmp;
        }
        return 0;
      })
      .map((p) => p.id);
  }

  for (const order of [byName, byScoreDesc]) {
    it(`walks every row exactly once, forward and back, in order "${order.name}"`, async () => {
      const seen: number[] = [];
      const cursors: (string | null)[] = [];
      let position: PagePosition = { limit: 10, from: null };
      for (;;) {
        const p = await page(order, position);
        seen.push(...p.items.map((r) => r.id));
        cursors.push(p.prevCursor);
        if (p.nextCursor === null) break;
        position = pagePosition(order, { limit: 10, cursor: p.nextCursor });
      }
      expect(seen).to.deep.equal(sorted(order));
      expect(cursors[0]).to.equal(null);

      // Back from the last page: the previous links give the same pages in reverse.
      const back: number[][] = [];
      let before = cursors[cursors.length - 1];
      while (before !== null && before !== undefined) {
        const p = await page(order, pagePosition(order, { limit: 10, before }));
        back.unshift(p.items.map((r) => r.id));
        before = p.prevCursor;
      }
      expect(back.flat()).to.deep.equal(seen.slice(0, back.flat().length));
      expect(back.flat()).to.have.length(40);
    });
  }

  it('keeps its place when rows are inserted ahead of the reader', async () => {
    const first = await page(byName, { limit: 5, from: null });
    await db.knex('people').insert({ id: 1000, name: 'a-first', score: 0 });
    try {
      const second = await page(byName, pagePosition(byName, { limit: 5, cursor: first.nextCursor }));
      expect(second.items.map((r) => r.id)).to.deep.equal(sorted(byName).slice(5, 10));
    } finally {
      await db.knex('people').where({ id: 1000 }).delete();
    }
  });

  it('refuses a cursor written for another order, or garbled, with 400 QUERY_INVALID', () => {
    const other = encodeCursor(byScoreDesc, [3, 'p1', 4]);
    for (const cursor of [other, 'not-a-cursor', encodeCursor(byName, ['p1'])]) {
      expect(() => pagePosition(byName, { cursor }))
        .to.throw()
        .with.property('code', 'QUERY_INVALID');
    }
  });
});
