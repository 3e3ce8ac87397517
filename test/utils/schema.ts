import { createSite } from '../../core/site';
import { dumpSchema } from '../../core/kernel/db/schema-dump';
import { silentLogger } from './site';

/** Migrates an empty database with core and every shipped plugin, and dumps its schema. */
export async function migratedSchema(url: string): Promise<string> {
  const site = createSite({ config: { databaseUrl: url }, logger: silentLogger() });
  try {
    await site.migrate();
    return await dumpSchema(site.db.knex, site.db.dialect);
  } finally {
    await site.stop();
  }
}
