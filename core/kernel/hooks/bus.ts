import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { WaymarkError } from '../errors';
import type { Logger } from '../logging';
import {
  deny,
  type DeliveredEvent,
  type GuardDecision,
  type GuardExplanation,
  type GuardOutcome,
  type HandlerFor,
  type HookArgs,
  type HookCallEvent,
  type HookItem,
  type HookKind,
  type HookName,
  type HookNameOf,
  type HookValue,
} from './hook-map';

export const DEFAULT_PRIORITY = 100;

export interface TapOptions {
  /** Higher runs first (Moodle's rule). Default 100. */
  priority?: number;
}

interface Registration {
  hook: string;
  plugin: string;
  priority: number;
  /** Registration sequence: the last tie-breaker, so order is deterministic. */
  seq: number;
  handler: (...args: unknown[]) => unknown;
}

export type HookInterceptor = (event: HookCallEvent) => void;

/** One published event, as the outbox stores it. */
export interface OutboxEvent {
  hook: string;
  /** Random, stable for the event's whole life: subscribers' idempotency key. */
  id: string;
  publishedAt: number;
  args: unknown;
}

/**
 * Where `publish()` records events: in the caller's transaction, one delivery per subscriber (the
 * kernel's outbox enqueues a `core.hook_delivery` job each; see outbox.ts).
 */
export interface EventOutbox {
  record(trx: Knex.Transaction, event: OutboxEvent, subscribers: readonly string[]): Promise<void>;
}

export interface HookBusOptions {
  logger?: Logger;
  /** Guard handlers slower than this deny (fail closed). Default 5000 ms. */
  guardTimeoutMs?: number;
}

/** The runners a piece of code may call; a plugin's facade narrows which hooks it may run. */
export interface HookRunners {
  guard<N extends HookNameOf<'guard'>>(name: N, args: HookArgs<N>): Promise<GuardOutcome>;
  explain<N extends HookNameOf<'guard'>>(name: N, args: HookArgs<N>): Promise<{ outcome: GuardOutcome; decisions: GuardExplanation[] }>;
  /** Runs every handler in `trx`, in priority order; the first error propagates (the caller rolls back). */
  within<N extends HookNameOf<'within'>>(name: N, trx: Knex.Transaction, args: HookArgs<N>): Promise<void>;
  /**
   * Records the event in `trx` for delivery after commit, one delivery per current subscriber.
   * Returns the event id, or null when nobody subscribes (then nothing is written).
   */
  publish<N extends HookNameOf<'event'>>(name: N, trx: Knex.Transaction, args: HookArgs<N>): Promise<string | null>;
  collect<N extends HookNameOf<'collect'>>(name: N, args: HookArgs<N>): Promise<HookItem<N>[]>;
  filter<N extends HookNameOf<'filter'>>(name: N, value: HookValue<N>, args: HookArgs<N>): Promise<HookValue<N>>;
}

/** What a plugin sees: tap any hook it declared, run core hooks and its own `<id>.*` hooks. */
export interface PluginHooks extends HookRunners {
  tap<N extends HookName>(name: N, handler: HandlerFor<N>, options?: TapOptions): () => void;
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`guard timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The typed hook bus. Handlers are recorded against the plugin that registered them so a whole
 * plugin can be unhooked at once when it is disabled.
 */
export class HookBus implements HookRunners {
  private readonly registrations = new Map<string, Registration[]>();
  private readonly kinds = new Map<string, HookKind>();
  private readonly interceptors: HookInterceptor[] = [];
  private seq = 0;
  private outbox: EventOutbox | null = null;
  private rank: (plugin: string) => number = () => 0;
  private readonly guardTimeoutMs: number;

  constructor(private readonly options: HookBusOptions = {}) {
    this.guardTimeoutMs = options.guardTimeoutMs ?? 5000;
    const logger = options.logger;
    if (logger) {
      // Checked per call (the level may change at runtime): winston formats even lines it then drops.
      this.intercept(
        (e) =>
          logger.isLevelEnabled('debug') &&
          logger.debug('hook', {
            hook: e.hook,
            plugin: e.plugin,
            kind: e.kind,
            durationMs: e.durationMs,
            outcome: e.outcome,
            error: e.error ? String(e.error) : undefined,
          }),
      );
    }
  }

  /** Declares a hook's kind so that running it with the wrong runner fails loudly at runtime too. */
  declare(name: string, kind: HookKind): void {
    const known = this.kinds.get(name);
    if (known && known !== kind) throw new WaymarkError('HOOK_KIND_MISMATCH', `Hook ${name} is a ${known} hook, not ${kind}`);
    this.kinds.set(name, kind);
  }

  /** Where publish() records events (the kernel plugs in the job-queue outbox). */
  useOutbox(outbox: EventOutbox): void {
    this.outbox = outbox;
  }

  /** Ties between equal priorities go to the plugin that loads first (dependency order). */
  setPluginRank(rank: (plugin: string) => number): void {
    this.rank = rank;
    for (const list of this.registrations.values()) this.sort(list);
  }

  intercept(interceptor: HookInterceptor): () => void {
    this.interceptors.push(interceptor);
    return () => {
      const i = this.interceptors.indexOf(interceptor);
      if (i >= 0) this.interceptors.splice(i, 1);
    };
  }

  /** Registers a handler on behalf of `plugin`; returns the function that removes it. */
  add<N extends HookName>(plugin: string, name: N, handler: HandlerFor<N>, options: TapOptions = {}): () => void {
    const priority = options.priority ?? DEFAULT_PRIORITY;
    if (!Number.isInteger(priority)) throw new WaymarkError('HOOK_PRIORITY_INVALID', `Priority for ${name} must be an integer`);
    const registration: Registration = { hook: name, plugin, priority, seq: this.seq++, handler: handler as Registration['handler'] };
    const list = this.registrations.get(name) ?? [];
    list.push(registration);
    this.sort(list);
    this.registrations.set(name, list);
    return () => {
      const current = this.registrations.get(name);
      if (!current) return;
      const i = current.indexOf(registration);
      if (i >= 0) current.splice(i, 1);
    };
  }

  /** Removes every handler the plugin registered (disable / uninstall). */
  removePlugin(plugin: string): number {
    let removed = 0;
    for (const [name, list] of this.registrations) {
      const kept = list.filter((r) => r.plugin !== plugin);
      removed += list.length - kept.length;
      this.registrations.set(name, kept);
    }
    return removed;
  }

  /** Who handles a hook, in run order (introspection for admin pages and the contract suite). */
  handlers(name: string): Array<{ plugin: string; priority: number }> {
    return (this.registrations.get(name) ?? []).map((r) => ({ plugin: r.plugin, priority: r.priority }));
  }

  /** Every hook a plugin currently has a handler on. */
  hooksOf(plugin: string): string[] {
    return [...this.registrations].filter(([, list]) => list.some((r) => r.plugin === plugin)).map(([name]) => name);
  }

  async guard<N extends HookNameOf<'guard'>>(name: N, args: HookArgs<N>): Promise<GuardOutcome> {
    this.checkKind(name, 'guard');
    const abstentions: string[] = [];
    for (const r of this.snapshot(name)) {
      const decision = await this.runGuardHandler(r, args);
      if (decision.verdict === 'abstain') {
        abstentions.push(...decision.reasons);
        continue;
      }
      return { allowed: decision.verdict === 'allow', decidedBy: r.plugin, code: decision.code, reasons: decision.reasons };
    }
    return { allowed: false, reasons: abstentions.length ? unique(abstentions) : ['Nothing allows this.'], code: 'GUARD_NO_ALLOW' };
  }

  /** Runs every guard handler (even after a decisive vote) and reports each decision. */
  async explain<N extends HookNameOf<'guard'>>(name: N, args: HookArgs<N>): Promise<{ outcome: GuardOutcome; decisions: GuardExplanation[] }> {
    this.checkKind(name, 'guard');
    const decisions: GuardExplanation[] = [];
    let outcome: GuardOutcome | undefined;
    const abstentions: string[] = [];
    for (const r of this.snapshot(name)) {
      const started = performance.now();
      const decision = await this.runGuardHandler(r, args);
      decisions.push({
        plugin: r.plugin,
        priority: r.priority,
        verdict: decision.verdict,
        reasons: decision.reasons,
        code: decision.code,
        error: (decision as GuardDecision & { error?: string }).error,
        durationMs: performance.now() - started,
      });
      if (decision.verdict === 'abstain') abstentions.push(...decision.reasons);
      else outcome ??= { allowed: decision.verdict === 'allow', decidedBy: r.plugin, code: decision.code, reasons: decision.reasons };
    }
    return {
      outcome: outcome ?? { allowed: false, reasons: abstentions.length ? unique(abstentions) : ['Nothing allows this.'], code: 'GUARD_NO_ALLOW' },
      decisions,
    };
  }

  async within<N extends HookNameOf<'within'>>(name: N, trx: Knex.Transaction, args: HookArgs<N>): Promise<void> {
    this.checkKind(name, 'within');
    const list = this.registrations.get(name);
    if (!list || list.length === 0) return;
    for (const r of [...list]) await this.call(r, 'within', () => r.handler(args, trx));
  }

  async publish<N extends HookNameOf<'event'>>(name: N, trx: Knex.Transaction, args: HookArgs<N>): Promise<string | null> {
    this.checkKind(name, 'event');
    // Nobody listening: nothing to record, so publishing on a hot path costs nothing.
    if (!this.registrations.get(name)?.length) return null;
    const subscribers = this.subscribers(name);
    if (!this.outbox) throw new WaymarkError('HOOK_NO_OUTBOX', `Event ${name} has subscribers but this bus has no outbox to record it in`);
    const event: OutboxEvent = { hook: name, id: crypto.randomUUID(), publishedAt: Date.now(), args };
    await this.outbox.record(trx, event, subscribers);
    return event.id;
  }

  /** The features (plugins, modules) with a handler on a hook, each once, in run order. */
  subscribers(name: string): string[] {
    return [...new Set((this.registrations.get(name) ?? []).map((r) => r.plugin))];
  }

  /**
   * Delivers one event to one subscriber: runs that subscriber's handlers on the hook in priority
   * order; the first error propagates (the delivery job retries). Returns how many handlers ran: 0
   * means the subscriber has no handler on the hook in this process.
   */
  async deliver(name: string, subscriber: string, args: unknown, event: DeliveredEvent): Promise<number> {
    this.checkKind(name, 'event');
    const mine = this.snapshot(name).filter((r) => r.plugin === subscriber);
    for (const r of mine) await this.call(r, 'event', () => r.handler(args, event));
    return mine.length;
  }

  async collect<N extends HookNameOf<'collect'>>(name: N, args: HookArgs<N>): Promise<HookItem<N>[]> {
    this.checkKind(name, 'collect');
    const items: HookItem<N>[] = [];
    for (const r of this.snapshot(name)) {
      try {
        const contributed = (await this.call(r, 'collect', () => r.handler(args))) as HookItem<N>[] | undefined;
        if (Array.isArray(contributed)) items.push(...contributed);
      } catch {
        // dropped and logged by call()
      }
    }
    return items;
  }

  async filter<N extends HookNameOf<'filter'>>(name: N, value: HookValue<N>, args: HookArgs<N>): Promise<HookValue<N>> {
    this.checkKind(name, 'filter');
    let current = value;
    for (const r of this.snapshot(name)) {
      try {
        current = (await this.call(r, 'filter', () => r.handler(current, args))) as HookValue<N>;
      } catch {
        // previous value kept, logged by call()
      }
    }
    return current;
  }

  /**
   * The facade handed to one plugin: it may tap any hook (recorded against its id) but may only
   * run core hooks and hooks in its own `<id>.` namespace.
   */
  forPlugin(plugin: string, declaredTaps?: readonly string[]): PluginHooks {
    const ownsOrCore = (name: string): void => {
      if (name.includes('.') && !name.startsWith(`${plugin}.`)) {
        throw new WaymarkError('HOOK_FOREIGN', `Plugin ${plugin} may not run hook ${name}: it belongs to another plugin`, 403);
      }
    };
    return {
      tap: (name, handler, options) => {
        if (declaredTaps && !declaredTaps.includes(name)) {
          throw new WaymarkError('HOOK_UNDECLARED', `Plugin ${plugin} taps ${name} but its plugin.json "hooks" does not list it`);
        }
        return this.add(plugin, name, handler, options);
      },
      // async, so a refusal is a rejected promise like every other runner failure (callers using
      // .catch() would otherwise miss a synchronous throw).
      guard: async (name, args) => (ownsOrCore(name), this.guard(name, args)),
      explain: async (name, args) => (ownsOrCore(name), this.explain(name, args)),
      within: async (name, trx, args) => (ownsOrCore(name), this.within(name, trx, args)),
      publish: async (name, trx, args) => (ownsOrCore(name), this.publish(name, trx, args)),
      collect: async (name, args) => (ownsOrCore(name), this.collect(name, args)),
      filter: async (name, value, args) => (ownsOrCore(name), this.filter(name, value, args)),
    };
  }

  private async runGuardHandler(r: Registration, args: unknown): Promise<GuardDecision & { error?: string }> {
    try {
      const decision = (await this.call(r, 'guard', () => withTimeout(Promise.resolve(r.handler(args)), this.guardTimeoutMs))) as GuardDecision;
      if (!decision || !['allow', 'deny', 'abstain'].includes(decision.verdict)) {
        return { ...deny('This check could not be completed.', 'GUARD_INVALID_DECISION'), error: 'handler returned no decision' };
      }
      return decision;
    } catch (error) {
      // Fail closed: a broken or slow guard must never let someone through.
      return { ...deny('This check could not be completed.', error instanceof TimeoutError ? 'GUARD_TIMEOUT' : 'GUARD_ERROR'), error: String(error) };
    }
  }

  private async call(r: Registration, kind: HookKind, run: () => unknown): Promise<unknown> {
    const started = performance.now();
    try {
      const result = await run();
      const outcome = kind === 'guard' ? ((result as GuardDecision | undefined)?.verdict ?? 'ok') : 'ok';
      this.report({ hook: r.hook, kind, plugin: r.plugin, durationMs: performance.now() - started, outcome });
      return result;
    } catch (error) {
      const outcome = error instanceof TimeoutError ? 'timeout' : 'error';
      this.report({ hook: r.hook, kind, plugin: r.plugin, durationMs: performance.now() - started, outcome, error });
      // A within or event failure is the caller's to report (it rolls back, or the delivery retries):
      // a warning here, so a retried deadlock does not read as an outage.
      const level = kind === 'within' || kind === 'event' ? 'warn' : 'error';
      this.options.logger?.[level]('hook handler failed', {
        hook: r.hook,
        kind,
        plugin: r.plugin,
        error: error instanceof Error ? error.stack : String(error),
      });
      throw error;
    }
  }

  private report(event: HookCallEvent): void {
    for (const interceptor of this.interceptors) {
      try {
        interceptor(event);
      } catch {
        // an interceptor must never change the outcome of a hook
      }
    }
  }

  private checkKind(name: string, kind: HookKind): void {
    const known = this.kinds.get(name);
    if (known && known !== kind) throw new WaymarkError('HOOK_KIND_MISMATCH', `Hook ${name} is a ${known} hook; it cannot be run with ${kind}()`);
  }

  /** A copy, so a handler that unsubscribes mid-run does not skip its neighbour. */
  private snapshot(name: string): Registration[] {
    return [...(this.registrations.get(name) ?? [])];
  }

  private sort(list: Registration[]): void {
    list.sort((a, b) => b.priority - a.priority || this.rank(a.plugin) - this.rank(b.plugin) || a.seq - b.seq);
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
