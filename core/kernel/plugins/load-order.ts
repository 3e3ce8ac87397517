import semver from 'semver';
import { PluginErrorCode } from './codes';
import type { PluginProblem } from './manifest';
import type { PluginManifest } from './types';

export interface LoadOrder {
  /** Plugins whose dependency graph is sound, dependencies first; ties broken by id. */
  order: string[];
  /** Plugins refused by the graph: missing dependency, wrong dependency version, or a cycle. */
  problems: Map<string, PluginProblem>;
}

/**
 * Sorts valid plugins into load order. `manifests` holds every plugin whose plugin.json is valid;
 * `invalid` names discovered plugins whose manifest is not (they exist, so depending on one is
 * not "missing": the dependent is held back at start-up with PM018 instead).
 */
export function resolveLoadOrder(manifests: ReadonlyMap<string, PluginManifest>, invalid: ReadonlySet<string> = new Set()): LoadOrder {
  const problems = new Map<string, PluginProblem>();
  const ids = [...manifests.keys()].sort();

  for (const id of ids) {
    for (const [dep, range] of Object.entries(manifests.get(id)!.requires ?? {})) {
      const target = manifests.get(dep);
      if (!target) {
        if (!invalid.has(dep)) {
          problems.set(id, { path: `requires/${dep}`, code: PluginErrorCode.requiresMissing, message: `${id} requires ${dep}, which is not installed` });
          break;
        }
        continue;
      }
      if (!semver.satisfies(target.version, range)) {
        problems.set(id, {
          path: `requires/${dep}`,
          code: PluginErrorCode.requiresVersion,
          message: `${id} requires ${dep} ${range}, but ${dep} is ${target.version}`,
        });
        break;
      }
    }
  }

  for (const cycle of findCycles(ids, (id) => Object.keys(manifests.get(id)!.requires ?? {}).filter((d) => manifests.has(d)))) {
    const path = [...cycle, cycle[0]].join(' -> ');
    for (const id of cycle) {
      if (!problems.has(id)) problems.set(id, { path: 'requires', code: PluginErrorCode.requiresCycle, message: `dependency cycle: ${path}` });
    }
  }

  // Kahn's algorithm over the sound plugins; the ready list is kept sorted so ties go by id.
  const sound = ids.filter((id) => !problems.has(id));
  const soundSet = new Set(sound);
  const depsOf = new Map(sound.map((id) => [id, Object.keys(manifests.get(id)!.requires ?? {}).filter((d) => soundSet.has(d))]));
  const remaining = new Map(sound.map((id) => [id, depsOf.get(id)!.length]));
  const ready = sound.filter((id) => remaining.get(id) === 0);
  const order: string[] = [];
  while (ready.length) {
    ready.sort();
    const id = ready.shift()!;
    order.push(id);
    for (const other of sound) {
      if (depsOf.get(other)!.includes(id)) {
        const left = remaining.get(other)! - 1;
        remaining.set(other, left);
        if (left === 0) ready.push(other);
      }
    }
  }
  return { order, problems };
}

/** Strongly connected components with more than one member (or a self-loop): Tarjan's algorithm. */
function findCycles(ids: string[], edges: (id: string) => string[]): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];

  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges(v).includes(v)) cycles.push(component.sort());
    }
  };
  for (const id of ids) if (!indexOf.has(id)) visit(id);
  return cycles;
}
