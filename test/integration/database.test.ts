import { expect } from 'chai';
import { createDatabase, isUniqueViolation, type Database } from '../../core/kernel/db/database';
import { prepareStatement } from '../../core/kernel/db/statements';
import { createTestDatabase, testDialect, type TestDatabase } from '../utils/db';

/** A promise-based barrier: both sides arrive before either goes on (no sleeps). */
function barrier(parties: number): () => Promise<void> {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    if (++waiting === parties) release();
    await all;
  };
}

describe(`database layer (${testDialect})`, () => {
  let testDb: TestDatabase;
  let a: Database;
  let b: Database;

  before(async () => {
    testDb = await createTestDatabase();
    a = createDatabase(testDb.url);
    b = testDialect === 'mysql' ? createDatabase(testDb.url) : a;
    await a.knex.schema.createTable('counters', (t) => {
      t.string('name', 20).primary();
      t.integer('value').notNullable();
    });
    await a.knex('counters').insert([
      { name: 'x', value: 0 },
      { name: 'y', value: 0 },
    ]);
  });

  after(async () => {
    await a.close();
    if (b !== a) await b.close();
    await testDb.drop();
  });

  it('rolls back every write of a failed transaction', async () => {
    const failing = a.transaction(async (trx) => {
      await trx('counters').where({ name: 'x' }).update({ value: 99 });
      throw new Error('boom');
    });
    const error = await failing.catch((e: Error) => e);
    expect(String(error)).to.contain('boom');
    const row = await a.knex('counters').where({ name: 'x' }).first();
    expect(row.value).to.equal(0);
  });

  // SQLite: one connection per process (better-sqlite3 is synchronous, so a second in-process
  // connection would block the event loop while waiting for the lock); processes share via WAL.
  it('loses no update when concurrent transactions read-modify-write the same row', async () => {
    const increment = (db: Database) =>
      db.transaction(async (trx) => {
        const query = trx('counters').where({ name: 'y' }).first();
        const row = db.dialect === 'mysql' ? await query.forUpdate() : await query;
        await trx('counters')
          .where({ name: 'y' })
          .update({ value: row.value + 1 });
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 && testDialect === 'mysql' ? b : a)));
    const row = await a.knex('counters').where({ name: 'y' }).first();
    expect(row.value).to.equal(20);
  });

  if (testDialect === 'mysql') {
    it('retries a transaction chosen as a deadlock victim, so both callers succeed', async () => {
      const bothLocked = barrier(2);
      let attemptsA = 0;
      let attemptsB = 0;
      const first = a.transaction(async (trx) => {
        attemptsA++;
        await trx('counters').where({ name: 'x' }).increment('value', 1);
        if (attemptsA === 1) await bothLocked();
        await trx('counters').where({ name: 'y' }).increment('value', 1);
      });
      const second = b.transaction(async (trx) => {
        attemptsB++;
        await trx('counters').where({ name: 'y' }).increment('value', 10);
        if (attemptsB === 1) await bothLocked();
        await trx('counters').where({ name: 'x' }).increment('value', 10);
      });
      await Promise.all([first, second]);
      const rows = await a.knex('counters').orderBy('name');
      expect(rows.map((r: { value: number }) => r.value)).to.deep.equal([11, 31]);
      expect(attemptsA + attemptsB).to.equal(3); // exactly one victim, retried once
    });
  }

  it('answers a prepared read while a write transaction is open, with committed data only', async () => {
    const read = prepareStatement<{ value: number }>(a, 'SELECT value FROM counters WHERE name = ?');
    await a.knex('counters').insert({ name: 'seen', value: 1 });
    await a.transaction(async (trx) => {
      await trx('counters').where({ name: 'seen' }).update({ value: 2 });
      // On SQLite this used to queue for the one connection the transaction holds (and never return here).
      expect(await read.all(['seen'])).to.deep.equal([{ value: 1 }]);
    });
    expect(await read.all(['seen'])).to.deep.equal([{ value: 2 }]);
  });

  it('reports a unique-index violation in a dialect-independent way', async () => {
    const error = await a
      .knex('counters')
      .insert({ name: 'x', value: 1 })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).to.equal(true);
  });
});
