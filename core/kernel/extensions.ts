import { WaymarkError } from './errors';

/**
 * Typed extension points: registries that plugins contribute named entries to (assignment
 * sources, due-date events, restriction conditions, notification channels, ...). Open to
 * declaration merging like the hook map:
 *
 * ```ts
 * declare module '../../core/kernel/extensions' {
 *   interface ExtensionPointMap { assignmentSources: AssignmentSource }
 * }
 * ```
 */
export interface ExtensionPointMap {}

export type ExtensionPointName = keyof ExtensionPointMap & string;

export interface Contribution<T> {
  key: string;
  plugin: string;
  value: T;
}

export class ExtensionRegistry {
  private readonly points = new Map<string, Map<string, Contribution<unknown>>>();

  /** Adds `value` under `key`; a key is owned by one plugin at a time. */
  contribute<P extends ExtensionPointName>(plugin: string, point: P, key: string, value: ExtensionPointMap[P]): () => void {
    const entries = this.points.get(point) ?? new Map<string, Contribution<unknown>>();
    const existing = entries.get(key);
    if (existing && existing.plugin !== plugin) {
      throw new WaymarkError('EXTENSION_KEY_TAKEN', `${point} "${key}" is already contributed by ${existing.plugin}`, 409);
    }
    entries.set(key, { key, plugin, value });
    this.points.set(point, entries);
    return () => {
      if (entries.get(key)?.plugin === plugin) entries.delete(key);
    };
  }

  get<P extends ExtensionPointName>(point: P, key: string): Contribution<ExtensionPointMap[P]> | undefined {
    return this.points.get(point)?.get(key) as Contribution<ExtensionPointMap[P]> | undefined;
  }

  list<P extends ExtensionPointName>(point: P): Contribution<ExtensionPointMap[P]>[] {
    return [...(this.points.get(point)?.values() ?? [])] as Contribution<ExtensionPointMap[P]>[];
  }

  /** Everything a plugin contributed, e.g. for the admin page. */
  contributionsOf(plugin: string): Array<{ point: string; key: string }> {
    const out: Array<{ point: string; key: string }> = [];
    for (const [point, entries] of this.points) for (const c of entries.values()) if (c.plugin === plugin) out.push({ point, key: c.key });
    return out;
  }

  removePlugin(plugin: string): void {
    for (const entries of this.points.values()) for (const [key, c] of entries) if (c.plugin === plugin) entries.delete(key);
  }
}
