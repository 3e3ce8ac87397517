import type { Logger } from '../logging';
import { HookBus } from './bus';
import { CORE_HOOK_KINDS } from './core-hooks';

export * from './hook-map';
export * from './bus';
export * from './core-hooks';

/** A bus with the core hooks declared. */
export function createHookBus(logger?: Logger): HookBus {
  const bus = new HookBus({ logger });
  for (const [name, kind] of Object.entries(CORE_HOOK_KINDS)) bus.declare(name, kind);
  return bus;
}
