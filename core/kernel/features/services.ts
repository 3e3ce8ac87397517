import { WaymarkError } from '../errors';

/**
 * A typed handle on a service that a module provides and other features declare as a dependency
 * (Backstage's `createServiceRef`). The type parameter travels with the ref, so `deps` resolve to
 * typed facades at compile time without importing the providing module's implementation.
 */
export interface ServiceRef<T> {
  readonly id: string;
  /** Phantom field: carries T for type inference; never set. */
  readonly type?: T;
}

export function createServiceRef<T>(id: string): ServiceRef<T> {
  return { id };
}

/** What a feature asks for: a name for each service it needs. */
export type ServiceDeps = Record<string, ServiceRef<unknown>>;

/** The services a feature receives for its declared deps. */
export type ResolvedDeps<D extends ServiceDeps> = { [K in keyof D]: D[K] extends ServiceRef<infer T> ? T : never };

/** Every provided service, by ref id, with the feature that provides it. */
export class ServiceRegistry {
  private readonly services = new Map<string, { owner: string; impl: unknown }>();

  provide<T>(owner: string, ref: ServiceRef<T>, impl: T): void {
    const existing = this.services.get(ref.id);
    if (existing) throw new WaymarkError('SERVICE_TAKEN', `Service ${ref.id} is already provided by ${existing.owner}`);
    this.services.set(ref.id, { owner, impl });
  }

  has(ref: ServiceRef<unknown>): boolean {
    return this.services.has(ref.id);
  }

  /** The feature that provides a service, for load ordering and error messages. */
  ownerOf(ref: ServiceRef<unknown>): string | undefined {
    return this.services.get(ref.id)?.owner;
  }

  resolve<D extends ServiceDeps>(feature: string, deps: D): ResolvedDeps<D> {
    const resolved: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(deps)) {
      const entry = this.services.get(ref.id);
      if (!entry) throw new WaymarkError('SERVICE_MISSING', `${feature} needs service ${ref.id}, which nothing provides`);
      resolved[name] = entry.impl;
    }
    return resolved as ResolvedDeps<D>;
  }
}
