import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createDb, type Db } from '../../src/db/connection';
import { withDatabase } from '../global-setup';

/**
 * A migrated throwaway database for one test file: a copy of the run's template,
 * dropped when the file's tests are done.
 */
export async function createTestDatabase(): Promise<{ db: Db; url: string; name: string }> {
  const adminUrl = inject('adminUrl');
  const name = `${inject('templateDb')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDb')}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const db = createDb(url, 5);
  afterAll(async () => {
    await db.destroy();
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return { db, url, name };
}

/** An empty database (not migrated), for testing migrations themselves. */
export async function createEmptyDatabase(): Promise<{ url: string; name: string }> {
  const adminUrl = inject('adminUrl');
  const name = `${inject('templateDb')}_empty_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  afterAll(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return { url: withDatabase(adminUrl, name), name };
}
