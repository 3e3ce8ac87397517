import { expect } from 'chai';
import type { Knex } from 'knex';
import { HookBus, type OutboxEvent } from '../../core/kernel/hooks/bus';
import { createHookBus } from '../../core/kernel/hooks/index';
import { learningHooks } from '../../core/modules/learning/hooks';
import { abstain, allow, deny, type CollectHook, type FilterHook, type EventHook, type GuardHook, type WithinHook } from '../../core/kernel/hooks/hook-map';
import type { CompletionArgs } from '../../core/index';

declare module '../../core/kernel/hooks/hook-map' {
  interface HookMap {
    'unit_bus.check': GuardHook<{ userId: number }>;
    'unit_bus.ping': WithinHook<{ n: number }>;
    'unit_bus.happened': EventHook<{ n: number }>;
    'unit_bus.items': CollectHook<{ n: number }, string>;
    'unit_bus.title': FilterHook<string, { suffix: string }>;
  }
}

function bus(): HookBus {
  return new HookBus({ guardTimeoutMs: 30 });
}

/** Stands in for the caller's transaction: the bus only hands it on to handlers. */
const trx = { isTransaction: true } as unknown as Knex.Transaction;

/** An outbox that keeps what publish() records (the job-queue outbox is tested in integration). */
function memoryOutbox(b: HookBus): Array<{ event: OutboxEvent; subscribers: readonly string[]; trx: Knex.Transaction }> {
  const recorded: Array<{ event: OutboxEvent; subscribers: readonly string[]; trx: Knex.Transaction }> = [];
  b.useOutbox({ record: async (t, event, subscribers) => void recorded.push({ event, subscribers, trx: t }) });
  return recorded;
}

describe('hook bus', () => {
  it('runs handlers by priority, higher first', async () => {
    const b = bus();
    const seen: string[] = [];
    b.add('p_low', 'unit_bus.ping', () => void seen.push('low'), { priority: 10 });
    b.add('p_high', 'unit_bus.ping', () => void seen.push('high'), { priority: 500 });
    b.add('p_default', 'unit_bus.ping', () => void seen.push('default'));
    await b.within('unit_bus.ping', trx, { n: 1 });
    expect(seen).to.deep.equal(['high', 'default', 'low']);
  });

  it('breaks priority ties by plugin rank, then by registration order', async () => {
    const b = bus();
    const seen: string[] = [];
    b.add('local_b', 'unit_bus.ping', () => void seen.push('b1'));
    b.add('local_a', 'unit_bus.ping', () => void seen.push('a1'));
    b.add('local_b', 'unit_bus.ping', () => void seen.push('b2'));
    await b.within('unit_bus.ping', trx, { n: 1 });
    expect(seen).to.deep.equal(['b1', 'a1', 'b2']);

    seen.length = 0;
    const rank = ['local_a', 'local_b'];
    b.setPluginRank((p) => rank.indexOf(p));
    await b.within('unit_bus.ping', trx, { n: 1 });
    expect(seen).to.deep.equal(['a1', 'b1', 'b2']);
    expect(b.handlers('unit_bus.ping').map((h) => h.plugin)).to.deep.equal(['local_a', 'local_b', 'local_b']);
  });

  it('refuses a non-integer priority', () => {
    expect(() => bus().add('p', 'unit_bus.ping', () => undefined, { priority: 1.5 }))
      .to.throw()
      .with.property('code', 'HOOK_PRIORITY_INVALID');
  });

  describe('guard', () => {
    it('lets the first decisive vote win and skips the rest', async () => {
      const b = bus();
      let lateRan = false;
      b.add('p_abstain', 'unit_bus.check', () => abstain('not my course'), { priority: 300 });
      b.add('p_deny', 'unit_bus.check', () => deny('Locked until set 1 is complete', 'SET_LOCKED'), { priority: 200 });
      b.add('p_allow', 'unit_bus.check', () => {
        lateRan = true;
        return allow();
      });
      const outcome = await b.guard('unit_bus.check', { userId: 1 });
      expect(outcome).to.deep.include({ allowed: false, decidedBy: 'p_deny', code: 'SET_LOCKED' });
      expect(outcome.reasons).to.deep.equal(['Locked until set 1 is complete']);
      expect(lateRan).to.equal(false);
    });

    it('denies when nobody allows, with every abstention reason', async () => {
      const b = bus();
      b.add('p1', 'unit_bus.check', () => abstain('no enrolment'));
      b.add('p2', 'unit_bus.check', () => abstain(['no program', 'no enrolment']));
      const outcome = await b.guard('unit_bus.check', { userId: 1 });
      expect(outcome.allowed).to.equal(false);
      expect(outcome.code).to.equal('GUARD_NO_ALLOW');
      expect(outcome.reasons).to.deep.equal(['no enrolment', 'no program']);
      expect((await new HookBus().guard('unit_bus.check', { userId: 1 })).allowed).to.equal(false);
    });

    it('fails closed when a handler throws', async () => {
      const b = bus();
      b.add(
        'p_broken',
        'unit_bus.check',
        () => {
          throw new Error('database gone');
        },
        { priority: 200 },
      );
      b.add('p_allow', 'unit_bus.check', () => allow());
      const outcome = await b.guard('unit_bus.check', { userId: 1 });
      expect(outcome).to.deep.include({ allowed: false, decidedBy: 'p_broken', code: 'GUARD_ERROR' });
    });

    it('fails closed when a handler is too slow, or returns no decision', async () => {
      const b = bus();
      b.add('p_slow', 'unit_bus.check', () => new Promise(() => undefined), { priority: 200 });
      b.add('p_allow', 'unit_bus.check', () => allow());
      expect(await b.guard('unit_bus.check', { userId: 1 })).to.deep.include({ allowed: false, code: 'GUARD_TIMEOUT' });

      const c = bus();
      c.add('p_void', 'unit_bus.check', (() => undefined) as unknown as () => ReturnType<typeof allow>);
      expect(await c.guard('unit_bus.check', { userId: 1 })).to.deep.include({ allowed: false, code: 'GUARD_INVALID_DECISION' });
    });

    it('explain() runs every handler and reports each decision, with the same outcome as guard()', async () => {
      const b = bus();
      b.add('p_allow', 'unit_bus.check', () => allow('enrolled'), { priority: 300 });
      b.add('p_deny', 'unit_bus.check', () => deny('suspended', 'USER_SUSPENDED'), { priority: 200 });
      b.add('p_broken', 'unit_bus.check', () => {
        throw new Error('boom');
      });
      const { outcome, decisions } = await b.explain('unit_bus.check', { userId: 1 });
      expect(outcome).to.deep.include({ allowed: true, decidedBy: 'p_allow' });
      expect(decisions.map((d) => [d.plugin, d.verdict, d.code])).to.deep.equal([
        ['p_allow', 'allow', undefined],
        ['p_deny', 'deny', 'USER_SUSPENDED'],
        ['p_broken', 'deny', 'GUARD_ERROR'],
      ]);
      expect(decisions[2]!.error).to.contain('boom');
      expect((await b.guard('unit_bus.check', { userId: 1 })).allowed).to.equal(true);
    });
  });

  describe('within', () => {
    it("hands every handler the caller's transaction, in priority order", async () => {
      const b = bus();
      const seen: Array<[number, Knex.Transaction]> = [];
      b.add('p1', 'unit_bus.ping', ({ n }, t) => void seen.push([n, t]));
      b.add('p2', 'unit_bus.ping', async ({ n }, t) => void seen.push([n * 10, t]), { priority: 200 });
      await b.within('unit_bus.ping', trx, { n: 2 });
      expect(seen).to.deep.equal([
        [20, trx],
        [2, trx],
      ]);
    });

    it('a throwing handler stops the run and its error reaches the caller', async () => {
      const b = bus();
      const seen: number[] = [];
      const broken = Object.assign(new Error('deadlock'), { errno: 1213 });
      b.add('p1', 'unit_bus.ping', ({ n }) => void seen.push(n), { priority: 300 });
      b.add(
        'p2',
        'unit_bus.ping',
        () => {
          throw broken;
        },
        { priority: 200 },
      );
      b.add('p3', 'unit_bus.ping', async ({ n }) => void seen.push(n * 10));
      const error = await b.within('unit_bus.ping', trx, { n: 2 }).catch((e: unknown) => e);
      expect(error).to.equal(broken);
      expect(seen).to.deep.equal([2]);
    });
  });

  describe('event', () => {
    it("records one delivery per subscriber in the caller's transaction, with one event id", async () => {
      const b = bus();
      const recorded = memoryOutbox(b);
      const ran: number[] = [];
      b.add('local_a', 'unit_bus.happened', ({ n }) => void ran.push(n));
      b.add('local_b', 'unit_bus.happened', ({ n }) => void ran.push(n), { priority: 200 });
      b.add('local_a', 'unit_bus.happened', ({ n }) => void ran.push(n));
      const id = await b.publish('unit_bus.happened', trx, { n: 7 });
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      expect(recorded).to.have.length(1);
      expect(recorded[0]!.trx).to.equal(trx);
      expect(recorded[0]!.subscribers).to.deep.equal(['local_b', 'local_a']);
      expect(recorded[0]!.event).to.deep.include({ hook: 'unit_bus.happened', id, args: { n: 7 } });
      // Publishing runs nobody: handlers run when the delivery job runs, after commit.
      expect(ran).to.deep.equal([]);
    });

    it('with no subscriber records nothing and needs no outbox', async () => {
      const b = bus();
      expect(await b.publish('unit_bus.happened', trx, { n: 1 })).to.equal(null);
      const recorded = memoryOutbox(b);
      expect(await b.publish('unit_bus.happened', trx, { n: 1 })).to.equal(null);
      expect(recorded).to.deep.equal([]);
      const bare = bus();
      bare.add('local_a', 'unit_bus.happened', () => undefined);
      expect(await bare.publish('unit_bus.happened', trx, { n: 1 }).catch((e: unknown) => e)).to.have.property('code', 'HOOK_NO_OUTBOX');
    });

    it("deliver() runs only that subscriber's handlers, with the event, and lets their error through", async () => {
      const b = bus();
      const seen: string[] = [];
      b.add('local_a', 'unit_bus.happened', ({ n }, event) => void seen.push(`a${n}:${event.id}:${event.attempt}`));
      b.add('local_b', 'unit_bus.happened', () => {
        throw new Error('smtp down');
      });
      const event = { id: 'e1', hook: 'unit_bus.happened', subscriber: 'local_a', publishedAt: 0, attempt: 2 };
      expect(await b.deliver('unit_bus.happened', 'local_a', { n: 3 }, event)).to.equal(1);
      expect(seen).to.deep.equal(['a3:e1:2']);
      expect(await b.deliver('unit_bus.happened', 'local_b', { n: 3 }, { ...event, subscriber: 'local_b' }).catch((e: Error) => e.message)).to.equal(
        'smtp down',
      );
      expect(await b.deliver('unit_bus.happened', 'local_gone', { n: 3 }, { ...event, subscriber: 'local_gone' })).to.equal(0);
    });
  });

  it('collect: concatenates contributions and drops a thrower', async () => {
    const b = bus();
    b.add('p1', 'unit_bus.items', ({ n }) => [`a${n}`, `b${n}`], { priority: 200 });
    b.add('p2', 'unit_bus.items', () => {
      throw new Error('broken');
    });
    b.add('p3', 'unit_bus.items', async () => ['c']);
    expect(await b.collect('unit_bus.items', { n: 1 })).to.deep.equal(['a1', 'b1', 'c']);
  });

  it('filter: each handler transforms the value; a thrower leaves the previous value', async () => {
    const b = bus();
    b.add('p1', 'unit_bus.title', (v, { suffix }) => `${v}${suffix}`, { priority: 300 });
    b.add(
      'p2',
      'unit_bus.title',
      () => {
        throw new Error('broken');
      },
      { priority: 200 },
    );
    b.add('p3', 'unit_bus.title', async (v) => v.toUpperCase());
    expect(await b.filter('unit_bus.title', 'intro', { suffix: '!' })).to.equal('INTRO!');
  });

  it('refuses to run a declared hook with the wrong runner', async () => {
    const b = createHookBus();
    // Declared as the learning module declares them when the kernel registers it.
    for (const [name, kind] of Object.entries(learningHooks)) b.declare(name, kind);
    let error: unknown;
    try {
      await (b as unknown as { guard(name: string, args: unknown): Promise<unknown> }).guard('onCompletion', {});
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property('code', 'HOOK_KIND_MISMATCH');
    expect(() => b.declare('onCompletion', 'guard'))
      .to.throw()
      .with.property('code', 'HOOK_KIND_MISMATCH');
    // within and event are distinct kinds: an onX hook cannot be published, nor an afterX run within.
    const runners = b as unknown as {
      publish(name: string, trx: unknown, args: unknown): Promise<unknown>;
      within(name: string, trx: unknown, args: unknown): Promise<unknown>;
    };
    expect(await runners.publish('onCompletion', trx, {}).catch((e: unknown) => e)).to.have.property('code', 'HOOK_KIND_MISMATCH');
    expect(await runners.within('afterCompletion', trx, {}).catch((e: unknown) => e)).to.have.property('code', 'HOOK_KIND_MISMATCH');
  });

  describe('forPlugin', () => {
    it("may run core hooks and its own hooks but not another plugin's", async () => {
      const b = createHookBus();
      const seen: string[] = [];
      b.add('unit_bus', 'unit_bus.ping', () => void seen.push('own'));
      b.add('core', 'onCompletion', () => void seen.push('core'));
      const own = b.forPlugin('unit_bus');
      await own.within('unit_bus.ping', trx, { n: 1 });
      await own.within('onCompletion', trx, {} as CompletionArgs);
      expect(seen).to.deep.equal(['own', 'core']);

      const other = b.forPlugin('local_other');
      let error: unknown;
      try {
        await other.within('unit_bus.ping', trx, { n: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).to.have.property('code', 'HOOK_FOREIGN');
      // A refusal is a rejected promise, never a synchronous throw, so .catch() sees it.
      const refused = await other.guard('unit_bus.check', { userId: 1 }).catch((e: unknown) => e);
      expect(refused).to.have.property('code', 'HOOK_FOREIGN');
      expect(await other.publish('unit_bus.happened', trx, { n: 1 }).catch((e: unknown) => e)).to.have.property('code', 'HOOK_FOREIGN');
      expect(seen).to.have.length(2);
    });

    it('records taps against the plugin and refuses hooks missing from plugin.json', async () => {
      const b = createHookBus();
      const hooks = b.forPlugin('local_x', ['unit_bus.ping']);
      hooks.tap('unit_bus.ping', () => undefined);
      expect(b.handlers('unit_bus.ping')).to.deep.equal([{ plugin: 'local_x', priority: 100 }]);
      expect(() => hooks.tap('unit_bus.items', () => []))
        .to.throw()
        .with.property('code', 'HOOK_UNDECLARED');
    });
  });

  it('removePlugin removes every handler of that plugin and only those', async () => {
    const b = bus();
    const seen: string[] = [];
    b.add('local_a', 'unit_bus.ping', () => void seen.push('a'));
    b.add('local_a', 'unit_bus.items', () => ['a']);
    b.add('local_b', 'unit_bus.ping', () => void seen.push('b'));
    expect(b.hooksOf('local_a').sort()).to.deep.equal(['unit_bus.items', 'unit_bus.ping']);
    expect(b.removePlugin('local_a')).to.equal(2);
    await b.within('unit_bus.ping', trx, { n: 1 });
    expect(seen).to.deep.equal(['b']);
    expect(b.hooksOf('local_a')).to.deep.equal([]);
    expect(await b.collect('unit_bus.items', { n: 1 })).to.deep.equal([]);
  });

  it('the remover returned by add() removes just that handler, even mid-run', async () => {
    const b = bus();
    const seen: string[] = [];
    const off = b.add('p', 'unit_bus.ping', () => {
      seen.push('first');
      off();
    });
    b.add('p', 'unit_bus.ping', () => void seen.push('second'));
    await b.within('unit_bus.ping', trx, { n: 1 });
    await b.within('unit_bus.ping', trx, { n: 1 });
    expect(seen).to.deep.equal(['first', 'second', 'second']);
  });

  it('reports each call to interceptors; a throwing interceptor changes nothing', async () => {
    const b = bus();
    const events: string[] = [];
    b.intercept(() => {
      throw new Error('bad interceptor');
    });
    b.intercept((e) => events.push(`${e.plugin}:${e.hook}:${e.outcome}`));
    b.add('p1', 'unit_bus.check', () => deny('no'));
    expect((await b.guard('unit_bus.check', { userId: 1 })).allowed).to.equal(false);
    expect(events).to.deep.equal(['p1:unit_bus.check:deny']);
  });
});
