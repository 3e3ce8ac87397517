import type { Knex } from 'knex';
import type { Database, Executor } from '../../kernel/db/database';
import type { PluginHooks } from '../../kernel/hooks/bus';
import type { AssignmentChange, AudienceMembershipBatch } from './hooks';
import type { Logger } from '../../kernel/logging';

/** What the people services need: the module's database, hook runners and logger. */
export interface PeopleSite {
  readonly db: Database;
  readonly hooks: PluginHooks;
  readonly logger: Logger;
}

/** Internal plumbing shared by the people services. */
export interface PeopleContext {
  db: Database;
  logger: Logger;
  /** Runs `work` in `within` when it is a transaction, else in a new (retried) transaction. */
  tx<T>(within: Executor | undefined, work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /**
   * Runs onAssignmentChange (within) in `trx`: what handlers write commits or rolls back with the
   * change, and a handler's error fails the change.
   */
  changed(trx: Knex.Transaction, change: AssignmentChange): Promise<void>;
  /** Runs onAudienceMembershipBatch (within) in `trx`, with the same guarantees as `changed`. */
  changedInBatch(trx: Knex.Transaction, batch: AudienceMembershipBatch): Promise<void>;
}

export function createPeopleContext(site: PeopleSite): PeopleContext {
  return {
    db: site.db,
    logger: site.logger,
    tx: (within, work) => site.db.transaction(work, { within }),
    changed: (trx, change) => site.hooks.within('onAssignmentChange', trx, { change }),
    changedInBatch: (trx, batch) => site.hooks.within('onAudienceMembershipBatch', trx, { batch }),
  };
}

export { bool, num, numOrNull } from '../../kernel/db/values';
