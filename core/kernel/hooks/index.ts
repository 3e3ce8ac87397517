import type { Logger } from '../logging';
import { HookBus } from './bus';

export * from './hook-map';
export * from './bus';

/** A hook bus; the hooks' kinds are declared by the modules that own them (ModuleDefinition.declares). */
export function createHookBus(logger?: Logger): HookBus {
  return new HookBus({ logger });
}
