/**
 * Compile-time tests of the hook map, checked by `tsc --noEmit` (part of `npm test`). Each
 * `@ts-expect-error` line must fail to compile; if one ever compiles, tsc reports the unused
 * directive and the suite fails. Nothing here is meant to run.
 */
import type { Knex } from 'knex';
import type { HookBus, PluginHooks } from '../../core/kernel/hooks/bus';
import { allow, deny, type EventHook, type FilterHook, type GuardHook, type WithinHook } from '../../core/kernel/hooks/hook-map';
import type { CompletionArgs } from '../../core/index';

// A plugin publishes its own hooks by declaration merging, named `<pluginId>.<name>`.
declare module '../../core/kernel/hooks/hook-map' {
  interface HookMap {
    'local_typetest.synced': EventHook<{ count: number }>;
    'local_typetest.syncing': WithinHook<{ count: number }>;
    'local_typetest.canSync': GuardHook<{ userId: number }>;
    'local_typetest.label': FilterHook<string, { lang: string }>;
  }
}

declare const bus: HookBus;
declare const hooks: PluginHooks;
declare const trx: Knex.Transaction;

export async function typeTests(): Promise<void> {
  const completion: CompletionArgs = { userId: 1, completedAt: 0, subject: { type: 'course', courseId: 2 } };

  // Correct calls compile, and the handler parameters are inferred from the map.
  await bus.within('onCompletion', trx, completion);
  const eventId: string | null = await bus.publish('afterCompletion', trx, { completions: [completion] });
  void eventId;
  await bus.guard('onCourseLaunch', { userId: 1, courseId: 2 });
  hooks.tap('onCourseLaunch', ({ userId, courseId }) => (userId === courseId ? deny('no', 'SAME') : allow()));
  hooks.tap('onCompletion', async ({ subject }, t) => {
    if (subject.type === 'course') await t('course_completions').where('course_id', subject.courseId);
  });
  hooks.tap('afterProgramAssigned', async ({ programId, userIds }, event) => {
    void [programId, userIds.length, event.id.toUpperCase(), event.attempt.toFixed()];
  });

  // The plugin's own hooks type-check exactly like core hooks.
  await hooks.publish('local_typetest.synced', trx, { count: 3 });
  await hooks.within('local_typetest.syncing', trx, { count: 3 });
  const outcome = await hooks.guard('local_typetest.canSync', { userId: 1 });
  void outcome.allowed;
  const label: string = await hooks.filter('local_typetest.label', 'Course', { lang: 'en' });
  void label;
  hooks.tap('local_typetest.synced', ({ count }, event) => void [count.toFixed(), event.id]);
  hooks.tap('local_typetest.label', (value, { lang }) => `${value} (${lang})`);

  // @ts-expect-error a misspelled hook name
  await bus.within('onCompletoin', trx, completion);

  // @ts-expect-error a wrong payload: courseId must be a number
  await bus.guard('onCourseLaunch', { userId: 1, courseId: '2' });

  // @ts-expect-error a wrong event payload: userIds is a list (events carry batches)
  await bus.publish('afterProgramAssigned', trx, { programId: 1, userIds: 2 });

  // @ts-expect-error a payload missing a field
  await hooks.publish('local_typetest.synced', trx, {});

  // @ts-expect-error publish() on a within hook
  await bus.publish('onCompletion', trx, completion);

  // @ts-expect-error within() on an event hook
  await bus.within('afterCompletion', trx, { completions: [completion] });

  // @ts-expect-error within() needs the caller's transaction
  await bus.within('onCompletion', completion);

  // @ts-expect-error guard() on a within hook
  await bus.guard('onCompletion', completion);

  // @ts-expect-error publish() on a guard hook
  await bus.publish('onCourseLaunch', trx, { userId: 1, courseId: 2 });

  // @ts-expect-error filter() on an event hook of a plugin
  await hooks.filter('local_typetest.synced', 'x', { count: 1 });

  // @ts-expect-error a guard handler must return a decision
  hooks.tap('onCourseLaunch', () => true);

  // @ts-expect-error a filter handler must return the value's type
  hooks.tap('local_typetest.label', () => 42);

  // @ts-expect-error an event handler's second argument is the event, not a transaction
  hooks.tap('afterCompletion', async (_args, t: Knex.Transaction) => void t);

  // @ts-expect-error a misspelled plugin hook
  hooks.tap('local_typetest.sinced', () => undefined);
}
