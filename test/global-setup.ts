/**
 * One PostgreSQL for the whole run: TEST_DATABASE_URL when set (CI uses the
 * machine's server), otherwise an embedded one in a temporary folder. A template
 * database is migrated once; each test file copies it (test/helpers/db.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded';
import { migrateToLatest } from '../src/db/migrate';
import { migrateJobQueue } from '../src/fanout/worker';
import { silentLog } from '../src/log';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDb: string;
  }
}

let embedded: EmbeddedPostgres | null = null;
let dataDir: string | null = null;

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'tocsin-test-'));
    embedded = await startEmbeddedPostgres({ dir: dataDir, persistent: false, log: silentLog });
    adminUrl = embedded.adminUrl;
  }
  const templateDb = `tocsin_template_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${templateDb}`);
  const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, templateDb), max: 1 });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db);
  await migrateJobQueue(pool);
  await db.destroy();

  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${templateDb} WITH (FORCE)`);
    // Databases of test files that crashed before dropping their own.
    const left = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${templateDb}_%`]);
    for (const r of left.rows) await admin.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
