import type { Knex } from 'knex';

/**
 * The hook map: one entry per hook name, saying its kind and payload. It is an interface so that
 * core modules and plugins extend it by declaration merging:
 *
 * ```ts
 * declare module './hook-map' {
 *   interface HookMap { 'myplugin.synced': EventHook<{ count: number }> }
 * }
 * ```
 *
 * Plugin hooks are named `<pluginId>.<name>`; unprefixed names belong to core.
 */
export interface HookMap {}

/** A guard: handlers vote allow / deny / abstain in priority order; first decisive vote wins. */
export interface GuardHook<Args> {
  kind: 'guard';
  args: Args;
}
/**
 * Runs inside the caller's transaction (`within(name, trx, args)`), in priority order; each handler
 * gets the args and the transaction. A handler that throws aborts the run and the error reaches the
 * caller, so the caller's transaction rolls back (and a deadlock retries the whole transaction).
 * Never for outside effects (mail, webhooks): use an event.
 */
export interface WithinHook<Args> {
  kind: 'within';
  args: Args;
}
/**
 * Published in the caller's transaction (`publish(name, trx, args)`) into the outbox and delivered
 * after commit to each subscriber through the job queue: at least once, with retries and backoff,
 * then `dead`. Args must be JSON (they are stored); handlers get the event's stable id to dedupe.
 */
export interface EventHook<Args> {
  kind: 'event';
  args: Args;
}
/** A collection: each handler contributes items; the runner concatenates them. */
export interface CollectHook<Args, Item> {
  kind: 'collect';
  args: Args;
  item: Item;
}
/** A filter: each handler transforms the value in turn. */
export interface FilterHook<Value, Args> {
  kind: 'filter';
  args: Args;
  value: Value;
}

export type HookSpec = GuardHook<unknown> | WithinHook<unknown> | EventHook<unknown> | CollectHook<unknown, unknown> | FilterHook<unknown, unknown>;
export type HookKind = HookSpec['kind'];

export type HookName = keyof HookMap & string;
/** Names of hooks of one kind, so `guard()` only accepts guard hooks at compile time. */
export type HookNameOf<K extends HookKind> = {
  [N in HookName]: HookMap[N] extends { kind: K } ? N : never;
}[HookName];
export type HookArgs<N extends HookName> = HookMap[N] extends { args: infer A } ? A : never;
export type HookItem<N extends HookName> = HookMap[N] extends { item: infer I } ? I : never;
export type HookValue<N extends HookName> = HookMap[N] extends { value: infer V } ? V : never;

export type GuardVerdict = 'allow' | 'deny' | 'abstain';

/** What one guard handler says. Reasons are written for the person who was refused. */
export interface GuardDecision {
  verdict: GuardVerdict;
  reasons: string[];
  /** Stable machine-readable code for the decision, e.g. `ENROL_PROGRAM_SET_LOCKED`. */
  code?: string;
}

export const allow = (reason?: string): GuardDecision => ({ verdict: 'allow', reasons: reason ? [reason] : [] });
export const deny = (reasons: string | string[], code?: string): GuardDecision => ({
  verdict: 'deny',
  reasons: Array.isArray(reasons) ? reasons : [reasons],
  code,
});
export const abstain = (reasons: string | string[] = [], code?: string): GuardDecision => ({
  verdict: 'abstain',
  reasons: Array.isArray(reasons) ? reasons : [reasons],
  code,
});

export type HandlerFor<N extends HookName> =
  HookMap[N] extends GuardHook<infer A>
    ? (args: A) => GuardDecision | Promise<GuardDecision>
    : HookMap[N] extends WithinHook<infer A>
      ? (args: A, trx: Knex.Transaction) => void | Promise<void>
      : HookMap[N] extends EventHook<infer A>
        ? (args: A, event: DeliveredEvent) => void | Promise<void>
        : HookMap[N] extends CollectHook<infer A, infer I>
          ? (args: A) => I[] | Promise<I[]>
          : HookMap[N] extends FilterHook<infer V, infer A>
            ? (value: V, args: A) => V | Promise<V>
            : never;

/** What an event subscriber learns about the delivery besides the args. */
export interface DeliveredEvent {
  /** Stable across retries and redeliveries of this event: use it as the idempotency key. */
  id: string;
  hook: string;
  /** The subscriber (plugin or module id) this delivery is for. */
  subscriber: string;
  /** Epoch ms when the event was published (its transaction committed shortly after). */
  publishedAt: number;
  /** 1 on the first delivery attempt. */
  attempt: number;
}

/** The result of a guard run: the final answer plus who gave it. */
export interface GuardOutcome {
  allowed: boolean;
  /** Plugin id (or `core`) whose vote decided; undefined when nobody voted and the guard failed closed. */
  decidedBy?: string;
  code?: string;
  /** Reasons to show the person: the deciding vote's, or every abstention's when nobody allowed. */
  reasons: string[];
}

/** One handler's decision in an explain() run, for operator diagnostics. */
export interface GuardExplanation {
  plugin: string;
  priority: number;
  verdict: GuardVerdict;
  reasons: string[];
  code?: string;
  error?: string;
  durationMs: number;
}

export interface HookCallEvent {
  hook: string;
  kind: HookKind;
  plugin: string;
  durationMs: number;
  outcome: 'ok' | 'error' | 'timeout' | GuardVerdict;
  error?: unknown;
}
