import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import type express from 'express';
import { createApp } from '../../core/kernel/http/app';
import { createApiToken } from '../../core/kernel/auth/tokens';
import { HOOK_DELIVERY_JOB, HOOK_DELIVERY_MAX_ATTEMPTS } from '../../core/kernel/hooks/outbox';
import type { DeliveredEvent } from '../../core/kernel/hooks/hook-map';
import type { Site } from '../../core/site';
import { testDialect } from '../utils/db';
import { createTestSite, type TestSite } from '../utils/site';

/**
 * The two transactional hook kinds on a real database: `within` handlers fail the change they run
 * in (and a deadlock inside one retries the whole transaction), `event` subscribers get each event
 * after commit through the job queue, exactly once in effect, or end dead for an operator to see.
 */
describe('hook kinds: within and event', function () {
  this.timeout(120_000);
  let t: TestSite;
  let site: Site;
  let app: express.Express;
  let admin: string;
  let seq = 0;
  const api = {
    get: (url: string) => request(app).get(`/api/v1${url}`).set('Authorization', `Bearer ${admin}`),
    post: (url: string, body: unknown) =>
      request(app)
        .post(`/api/v1${url}`)
        .set('Authorization', `Bearer ${admin}`)
        .send(body as object),
    patch: (url: string, body: unknown) =>
      request(app)
        .patch(`/api/v1${url}`)
        .set('Authorization', `Bearer ${admin}`)
        .send(body as object),
  };

  async function created(res: request.Test): Promise<number> {
    const r = await res;
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return Number(r.body.id ?? r.body.rule?.id);
  }

  async function learner(): Promise<number> {
    const n = ++seq;
    return created(api.post('/users', { username: `hk_learner${n}`, email: `hk${n}@example.com`, fullname: `Learner ${n}` }));
  }

  async function program(): Promise<number> {
    const n = ++seq;
    const courseId = await created(api.post('/courses', { shortname: `hk_c${n}`, fullname: `Course ${n}` }));
    return created(api.post('/programs', { shortname: `hk_p${n}`, fullname: `Program ${n}`, courseSets: [{ courseIds: [courseId], rule: 'all' }] }));
  }

  /** Adds a rule through the API and runs its sync job. */
  async function rule(programId: number, body: Record<string, unknown>): Promise<number> {
    const id = await created(api.post(`/programs/${programId}/assignments`, body));
    await site.jobs.drain();
    return id;
  }

  const assignmentRows = (userId: number) =>
    site.db.knex('program_user_assignments').where({ user_id: userId }).orderBy('program_id').select('program_id', 'status', 'due_at');
  const deliveries = (hook: string) =>
    site.db.knex('jobs').where('name', HOOK_DELIVERY_JOB).andWhere('payload', 'like', `%"hook":"${hook}"%`).select('id', 'state', 'payload');

  before(async () => {
    t = await createTestSite({ pluginsDir: path.resolve(import.meta.dirname, '../../plugins') });
    site = t.site;
    // These tests count the bus's own deliveries: shipped subscribers (notify_program) would add theirs.
    await site.plugins.disable('notify_program');
    app = createApp(site);
    const root = await site.services.users.create({ username: 'hk_admin', email: 'hk_admin@example.com', fullname: 'Admin', isAdmin: true });
    admin = await createApiToken(site.db, root.id);
    await site.db.knex.schema.createTable('test_hook_effects', (table) => {
      table.string('event_id', 64).primary();
      table.string('hook', 100).notNullable();
      table.text('user_ids').notNullable();
    });
  });

  after(async () => {
    await t?.close();
  });

  it('declares each core hook with the kind its owning module gives it, so a wrong runner fails at run time', async () => {
    const runners = site.hooks as unknown as {
      guard(name: string, args: unknown): Promise<unknown>;
      publish(name: string, trx: unknown, args: unknown): Promise<unknown>;
    };
    for (const name of ['onAssignmentChange', 'onCompletion', 'onProgramAssigned']) {
      expect(await runners.guard(name, {}).catch((e: unknown) => e), name).to.have.property('code', 'HOOK_KIND_MISMATCH');
    }
    expect(await runners.publish('onCourseLaunch', null, {}).catch((e: unknown) => e)).to.have.property('code', 'HOOK_KIND_MISMATCH');
  });

  describe('within', () => {
    it('a sync handler that throws rolls back the job-assignment change: the API answers 5xx with nothing written', async () => {
      const position = await created(api.post('/positions', { name: `Analyst ${++seq}` }));
      const p = await program();
      await rule(p, { source: 'position', instanceId: position });
      const userId = await learner();
      const job = await created(api.post(`/users/${userId}/job-assignments`, {}));
      const before = await assignmentRows(userId);
      expect(before).to.deep.equal([]);

      const delivered: number[][] = [];
      const offEvent = site.hooks.add('test_owner', 'afterProgramAssigned', ({ userIds }) => void delivered.push(userIds));
      // Runs after the assignment module's incremental sync (priority 100), so the sync has
      // already written the learner's assignment when this fails.
      const offThrow = site.hooks.add(
        'test_owner',
        'onAssignmentChange',
        ({ change }) => {
          if (change.userId === userId) throw new Error('incremental sync failed');
        },
        { priority: 1 },
      );
      try {
        const res = await api.patch(`/job-assignments/${job}`, { positionId: position });
        expect(res.status).to.be.within(500, 599);
        expect(res.body.error).to.be.an('object');
      } finally {
        offThrow();
      }
      const unchanged = await api.get(`/job-assignments/${job}`).expect(200);
      expect(unchanged.body.positionId).to.equal(null);
      expect(await site.db.knex('job_assignments').where({ id: job }).first('position_id')).to.deep.equal({ position_id: null });
      expect(await assignmentRows(userId)).to.deep.equal(before);
      // The event it would have published rolled back with it.
      expect(await deliveries('afterProgramAssigned')).to.deep.equal([]);
      await site.jobs.drain();
      expect(delivered).to.deep.equal([]);

      // The same change without the failing handler goes through and assigns the learner.
      await api.patch(`/job-assignments/${job}`, { positionId: position }).expect(200);
      const view = await api.get(`/programs/${p}/assignments/learners/${userId}`).expect(200);
      expect(view.body.assigned).to.equal(true);
      await site.jobs.drain();
      offEvent();
      expect(delivered).to.deep.equal([[userId]]);
    });

    if (testDialect === 'mysql') {
      it('a deadlock inside a within handler retries the whole transaction, and each change commits exactly once', async () => {
        await site.db.knex.schema.createTable('test_hook_locks', (table) => {
          table.integer('id').primary();
          table.integer('n').notNullable();
        });
        await site.db.knex.schema.createTable('test_hook_writes', (table) => {
          table.increments('id');
          table.integer('job_assignment_id').notNullable();
        });
        await site.db.knex('test_hook_locks').insert([
          { id: 1, n: 0 },
          { id: 2, n: 0 },
        ]);
        const positionA = await created(api.post('/positions', { name: `Deadlock A ${++seq}` }));
        const positionB = await created(api.post('/positions', { name: `Deadlock B ${++seq}` }));
        const [ua, ub] = [await learner(), await learner()];
        const jobA = await created(api.post(`/users/${ua}/job-assignments`, {}));
        const jobB = await created(api.post(`/users/${ub}/job-assignments`, {}));

        // A barrier that the first attempts of both transactions must reach (each holding its
        // first row lock) before either asks for its second row: they cross, InnoDB picks a victim.
        let arrived = 0;
        let open!: () => void;
        const barrier = new Promise<void>((resolve) => (open = resolve));
        const safety = setTimeout(() => open(), 10_000);
        const arrive = async (): Promise<void> => {
          if (++arrived === 2) open();
          await barrier;
        };
        const runs: number[] = [];
        const deadlocks: number[] = [];
        const order = new Map([
          [jobA, [1, 2]],
          [jobB, [2, 1]],
        ]);
        const off = site.hooks.add(
          'test_owner',
          'onAssignmentChange',
          async ({ change }, trx) => {
            if (change.type !== 'job_assignment' || !order.has(change.jobAssignmentId)) return;
            const [first, second] = order.get(change.jobAssignmentId)!;
            runs.push(change.jobAssignmentId);
            await trx.raw('SELECT n FROM test_hook_locks WHERE id = ? FOR UPDATE', [first]);
            await arrive();
            try {
              await trx.raw('UPDATE test_hook_locks SET n = n + 1 WHERE id = ?', [second]);
            } catch (error) {
              if ((error as { errno?: number }).errno === 1213) deadlocks.push(change.jobAssignmentId);
              throw error;
            }
            await trx('test_hook_writes').insert({ job_assignment_id: change.jobAssignmentId });
          },
          { priority: 1000 },
        );
        try {
          const [a, b] = await Promise.all([
            api.patch(`/job-assignments/${jobA}`, { positionId: positionA }),
            api.patch(`/job-assignments/${jobB}`, { positionId: positionB }),
          ]);
          expect([a.status, b.status]).to.deep.equal([200, 200]);
        } finally {
          off();
          clearTimeout(safety);
        }
        // One of the two was the victim and ran again; both changes are in, each written once.
        expect(deadlocks).to.have.length(1);
        expect(runs).to.have.length(3);
        expect(runs.filter((id) => id === deadlocks[0])).to.have.length(2);
        const writes = await site.db.knex('test_hook_writes').orderBy('job_assignment_id').select('job_assignment_id');
        expect(writes.map((w: { job_assignment_id: number }) => w.job_assignment_id)).to.deep.equal([jobA, jobB].sort((x, y) => x - y));
        expect((await site.db.knex('test_hook_locks').orderBy('id').select('n')).map((r: { n: number }) => r.n)).to.deep.equal([1, 1]);
        expect((await api.get(`/job-assignments/${jobA}`).expect(200)).body.positionId).to.equal(positionA);
        expect((await api.get(`/job-assignments/${jobB}`).expect(200)).body.positionId).to.equal(positionB);
      });
    }
  });

  describe('event', () => {
    it('a subscriber that fails twice and then succeeds has its effect exactly once, keyed by the event id', async () => {
      const attempts: DeliveredEvent[] = [];
      const off = site.hooks.add('test_owner', 'afterProgramAssigned', async ({ userIds }, event) => {
        attempts.push(event);
        await site.db
          .knex('test_hook_effects')
          .insert({ event_id: event.id, hook: event.hook, user_ids: JSON.stringify(userIds) })
          .onConflict('event_id')
          .ignore();
        if (attempts.length <= 2) throw new Error(`mail server down (attempt ${event.attempt})`);
      });
      try {
        const p = await program();
        const userId = await learner();
        await rule(p, { source: 'individual', instanceId: userId });
      } finally {
        off();
      }
      expect(attempts.map((a) => a.attempt)).to.deep.equal([1, 2, 3]);
      expect(new Set(attempts.map((a) => a.id)).size).to.equal(1);
      const effects = await site.db.knex('test_hook_effects').where({ event_id: attempts[0]!.id });
      expect(effects).to.have.length(1);
      const [delivery] = await site.db.knex('jobs').where('name', HOOK_DELIVERY_JOB).andWhere('payload', 'like', `%${attempts[0]!.id}%`).select('id');
      const status = await api.get(`/jobs/${delivery.id}`).expect(200);
      expect(status.body).to.include({ state: 'done', attempts: 3 });
    });

    it('an event published in a transaction that rolls back is never delivered', async () => {
      const seen: string[] = [];
      const off = site.hooks.add('test_owner', 'afterProgramUnassigned', (_args, event) => void seen.push(event.id));
      const before = (await deliveries('afterProgramUnassigned')).length;
      try {
        const boom = new Error('later step failed');
        const error = await site.db
          .transaction(async (trx) => {
            expect(await site.hooks.publish('afterProgramUnassigned', trx, { programId: 1, userIds: [1] })).to.be.a('string');
            throw boom;
          })
          .catch((e: unknown) => e);
        expect(error).to.equal(boom);
        expect(await deliveries('afterProgramUnassigned')).to.have.length(before);
        await site.jobs.drain();
      } finally {
        off();
      }
      expect(seen).to.deep.equal([]);
    });

    it('a subscriber that always fails ends dead, with its error, visible through the job status', async () => {
      const off = site.hooks.add('test_owner', 'afterExceptionRaised', () => {
        throw new Error('webhook answered 503');
      });
      let eventId: string | null = null;
      try {
        eventId = await site.db.transaction((trx) =>
          site.hooks.publish('afterExceptionRaised', trx, { programId: 1, exceptions: [{ userId: 1, exceptionId: 1, type: 'time_allowance' }] }),
        );
        const { dead } = await site.jobs.drain();
        expect(dead).to.equal(1);
      } finally {
        off();
      }
      const [delivery] = await site.db.knex('jobs').where('name', HOOK_DELIVERY_JOB).andWhere('payload', 'like', `%${eventId!}%`).select('id');
      const status = await api.get(`/jobs/${delivery.id}`).expect(200);
      expect(status.body).to.include({ state: 'dead', attempts: HOOK_DELIVERY_MAX_ATTEMPTS });
      expect(status.body.lastError).to.contain('webhook answered 503');
    });

    it('a delivery whose subscriber has gone is skipped, and says so in the job result', async () => {
      const off = site.hooks.add('test_owner', 'afterCompletion', () => undefined);
      const eventId = await site.db.transaction((trx) =>
        site.hooks.publish('afterCompletion', trx, { completions: [{ userId: 1, completedAt: 0, subject: { type: 'course', courseId: 1 } }] }),
      );
      off();
      await site.jobs.drain();
      const [delivery] = await site.db.knex('jobs').where('name', HOOK_DELIVERY_JOB).andWhere('payload', 'like', `%${eventId!}%`).select('id');
      const status = await api.get(`/jobs/${delivery.id}`).expect(200);
      expect(status.body).to.include({ state: 'done' });
      expect(status.body.result).to.deep.equal({ delivered: false, reason: 'subscriber_gone' });
    });

    it('with no subscriber, publishing writes nothing', async () => {
      const before = await site.db.knex('jobs').count({ n: '*' }).first();
      const id = await site.db.transaction((trx) => site.hooks.publish('afterProgramUnassigned', trx, { programId: 1, userIds: [1, 2, 3] }));
      expect(id).to.equal(null);
      expect(await site.db.knex('jobs').count({ n: '*' }).first()).to.deep.equal(before);
    });

    it("a rule sync of N learners publishes one event per batch, carrying the batch's learners", async () => {
      const N = 23;
      const batchSize = 5;
      const audienceId = (await site.services.audiences.create({ name: `Batch ${++seq}` })).id;
      const learners: number[] = [];
      for (let i = 0; i < N; i++) learners.push(await learner());
      for (const u of learners) await site.services.audiences.addMember(audienceId, u);
      const p = await program();
      const events: number[][] = [];
      const off = site.hooks.add('test_owner', 'afterProgramAssigned', ({ programId, userIds }) => {
        if (programId === p) events.push(userIds);
      });
      // Batches are user-id ranges from the lowest user id; the learners were created one after
      // another, so they fall in ceil((offset + N) / batch) ranges: ceil(N / batch), or one more
      // when the first learner is not at the start of a range.
      const lo = Number((await site.db.knex('users').min({ lo: 'id' }).first())!.lo);
      const offset = (learners[0]! - lo) % batchSize;
      const batches = Math.ceil((offset + N) / batchSize);
      expect(new Set(learners.map((u) => Math.floor((u - lo) / batchSize))).size).to.equal(batches);
      try {
        const ruleId = await created(api.post(`/programs/${p}/assignments`, { source: 'audience', instanceId: audienceId }));
        // Run the sync with a small batch before the queued job does (that one then finds nothing new).
        await site.services.assignment.syncRule(ruleId, { batchSize });
        const recorded = (await deliveries('afterProgramAssigned')).filter((r: { payload: string }) => JSON.parse(r.payload).args.programId === p);
        expect(recorded).to.have.length(batches);
        await site.jobs.drain();
      } finally {
        off();
      }
      expect(events).to.have.length(batches);
      expect(batches)
        .to.be.at.most(Math.ceil(N / batchSize) + 1)
        .and.below(N);
      expect(events.flat().sort((a, b) => a - b)).to.deep.equal(learners);
    });
  });
});
