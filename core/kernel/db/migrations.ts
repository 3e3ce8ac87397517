import type { Knex } from 'knex';

/** One schema step. Migrations are listed explicitly in an index module (no globbing, no Knex CLI). */
export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

class IndexMigrationSource implements Knex.MigrationSource<Migration> {
  constructor(private readonly migrations: readonly Migration[]) {}
  async getMigrations(): Promise<Migration[]> {
    return [...this.migrations];
  }
  getMigrationName(migration: Migration): string {
    return migration.name;
  }
  async getMigration(migration: Migration): Promise<Knex.Migration> {
    return { up: migration.up, down: migration.down };
  }
}

export interface MigrationSet {
  /** Table that records which of these migrations ran, e.g. `waymark_migrations` or `<plugin>_migrations`. */
  tableName: string;
  migrations: readonly Migration[];
}

function config(set: MigrationSet): Knex.MigratorConfig {
  return { migrationSource: new IndexMigrationSource(set.migrations), tableName: set.tableName, disableMigrationsListValidation: false };
}

/** Applies every pending migration of the set; returns the names applied. */
export async function migrateLatest(knex: Knex, set: MigrationSet): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(config(set))) as [number, string[]];
  return applied;
}

/** Rolls back every migration of the set (used by plugin uninstall and the contract suite). */
export async function migrateRollbackAll(knex: Knex, set: MigrationSet): Promise<string[]> {
  const [, reverted] = (await knex.migrate.rollback(config(set), true)) as [number, string[]];
  return reverted;
}

/** Drops the migration bookkeeping tables of a set (uninstall). */
export async function dropMigrationTables(knex: Knex, set: MigrationSet): Promise<void> {
  await knex.schema.dropTableIfExists(set.tableName);
  await knex.schema.dropTableIfExists(`${set.tableName}_lock`);
}
