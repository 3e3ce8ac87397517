import { WaymarkError } from '../errors';
import type { ModuleDefinition } from './module';
import type { ServiceRef } from './services';

/**
 * Core modules in dependency order: a module comes after every module that provides a service it
 * declares (services the kernel already provides need no ordering). A cycle or a dependency nobody
 * provides is a programming error, reported at start-up.
 */
export function orderModules(modules: readonly ModuleDefinition[], provided: (ref: ServiceRef<unknown>) => boolean): ModuleDefinition[] {
  const provider = new Map<string, ModuleDefinition>();
  for (const m of modules) for (const ref of Object.values(m.provides)) provider.set(ref.id, m);
  const ordered: ModuleDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (m: ModuleDefinition, path: string[]): void => {
    if (state.get(m.id) === 'done') return;
    if (state.get(m.id) === 'visiting') throw new WaymarkError('MODULE_CYCLE', `Core modules depend on each other in a cycle: ${[...path, m.id].join(' -> ')}`);
    state.set(m.id, 'visiting');
    for (const ref of Object.values(m.deps)) {
      const dep = provider.get(ref.id);
      if (!dep && provided(ref)) continue;
      if (!dep) throw new WaymarkError('SERVICE_MISSING', `Module ${m.id} needs service ${ref.id}, which no module provides`);
      if (dep !== m) visit(dep, [...path, m.id]);
    }
    state.set(m.id, 'done');
    ordered.push(m);
  };
  for (const m of modules) visit(m, []);
  return ordered;
}
