import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import knexFactory from 'knex';
import type { Dialect } from '../../core/kernel/db/database';

/** Which database this run of the integration suite uses (scripts/test.ts runs it once per dialect). */
export const testDialect: Dialect = process.env.WAYMARK_TEST_DB === 'mysql' ? 'mysql' : 'sqlite';

export function mysqlServerUrl(): string {
  const url = process.env.TEST_MYSQL_URL;
  if (!url) throw new Error('WAYMARK_TEST_DB=mysql needs TEST_MYSQL_URL (e.g. mysql://root@127.0.0.1:3306)');
  return url.replace(/\/+$/, '');
}

export interface TestDatabase {
  url: string;
  dialect: Dialect;
  drop(): Promise<void>;
}

/** A brand-new empty database of the dialect under test; drop() removes it. */
export async function createTestDatabase(dialect: Dialect = testDialect): Promise<TestDatabase> {
  const name = `waymark_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-test-'));
    const file = path.join(dir, `${name}.sqlite`);
    return { url: `sqlite:${file}`, dialect, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const server = mysqlServerUrl();
  const admin = knexFactory({ client: 'mysql2', connection: { uri: server } as never });
  try {
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.destroy();
  }
  return {
    url: `${server}/${name}`,
    dialect,
    drop: async () => {
      const again = knexFactory({ client: 'mysql2', connection: { uri: server } as never });
      try {
        await again.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await again.destroy();
      }
    },
  };
}
