/**
 * Compile-time tests of the hook map, checked by `tsc --noEmit` (part of `npm test`). Each
 * `@ts-expect-error` line must fail to compile; if one ever compiles, tsc reports the unused
 * directive and the suite fails. Nothing here is meant to run.
 */
import type { Knex } from 'knex';
import type { HookBus, PluginHooks } from '../../core/kernel/hooks/bus';
import { allow, deny, type FilterHook, type GuardHook, type NotifyHook } from '../../core/kernel/hooks/hook-map';
import type { CompletionArgs } from '../../core/kernel/hooks/core-hooks';

// A plugin publishes its own hooks by declaration merging, named `<pluginId>.<name>`.
declare module '../../core/kernel/hooks/hook-map' {
  interface HookMap {
    'local_typetest.synced': NotifyHook<{ count: number }>;
    'local_typetest.canSync': GuardHook<{ userId: number }>;
    'local_typetest.label': FilterHook<string, { lang: string }>;
  }
}

declare const bus: HookBus;
declare const hooks: PluginHooks;
declare const trx: Knex.Transaction;

export async function typeTests(): Promise<void> {
  const completion: CompletionArgs = { trx, userId: 1, completedAt: 0, subject: { type: 'course', courseId: 2 } };

  // Correct calls compile, and the handler parameters are inferred from the map.
  await bus.emit('onCompletion', completion);
  await bus.guard('onCourseLaunch', { userId: 1, courseId: 2 });
  hooks.tap('onCourseLaunch', ({ userId, courseId }) => (userId === courseId ? deny('no', 'SAME') : allow()));
  hooks.tap('onCompletion', async ({ subject }) => {
    if (subject.type === 'course') void subject.courseId;
  });

  // The plugin's own hooks type-check exactly like core hooks.
  await hooks.emit('local_typetest.synced', { count: 3 });
  const outcome = await hooks.guard('local_typetest.canSync', { userId: 1 });
  void outcome.allowed;
  const label: string = await hooks.filter('local_typetest.label', 'Course', { lang: 'en' });
  void label;
  hooks.tap('local_typetest.synced', ({ count }) => void count.toFixed());
  hooks.tap('local_typetest.label', (value, { lang }) => `${value} (${lang})`);

  // @ts-expect-error a misspelled hook name
  await bus.emit('onCompletoin', completion);

  // @ts-expect-error a wrong payload: courseId must be a number
  await bus.guard('onCourseLaunch', { userId: 1, courseId: '2' });

  // @ts-expect-error a payload missing a field
  await hooks.emit('local_typetest.synced', {});

  // @ts-expect-error guard() on a notify hook
  await bus.guard('onCompletion', completion);

  // @ts-expect-error emit() on a guard hook
  await bus.emit('onCourseLaunch', { userId: 1, courseId: 2 });

  // @ts-expect-error filter() on a notify hook of a plugin
  await hooks.filter('local_typetest.synced', 'x', { count: 1 });

  // @ts-expect-error a guard handler must return a decision
  hooks.tap('onCourseLaunch', () => true);

  // @ts-expect-error a filter handler must return the value's type
  hooks.tap('local_typetest.label', () => 42);

  // @ts-expect-error a misspelled plugin hook
  hooks.tap('local_typetest.sinced', () => undefined);
}
