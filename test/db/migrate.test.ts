import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MigrationError, migrateToLatest, migrationsDir } from '../../src/db/migrate';
import { createEmptyDatabase } from '../helpers/db';

async function tables(db: Kysely<any>): Promise<string[]> {
  const r = await sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`.execute(db);
  return r.rows.map((x) => x.table_name);
}

async function migrationsCopy(extra: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tocsin-migrations-'));
  await cp(migrationsDir, dir, { recursive: true });
  for (const [name, text] of Object.entries(extra)) await writeFile(path.join(dir, name), text);
  return dir;
}

const { url } = await createEmptyDatabase();
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) });
afterAll(() => db.destroy());

describe('migrations', () => {
  it('apply in order and are idempotent', async () => {
    const first = await migrateToLatest(db);
    expect(first[0]).toBe('0001_init.sql');
    expect(await tables(db)).toContain('staff');
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('a failing migration names its file and line and leaves the schema unchanged', async () => {
    const before = await tables(db);
    const dir = await migrationsCopy({
      '9000_good.sql': 'CREATE TABLE would_be_created (id int);\n',
      '9001_broken.sql': 'CREATE TABLE half_done (id int);\n\nINSERT INTO no_such_table VALUES (1);\n',
    });
    const error = await migrateToLatest(db, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toBe('Migration 9001_broken.sql failed at line 3: relation "no_such_table" does not exist');
    // Neither the broken file's first statement nor the good migration before it survives.
    expect(await tables(db)).toEqual(before);
    const recorded = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
    expect(recorded.rows.map((r) => r.name)).not.toContain('9000_good.sql');
  });

  it('refuses a file that is not named NNNN_name.sql', async () => {
    const dir = await migrationsCopy({ 'add-things.sql': 'SELECT 1;' });
    await expect(migrateToLatest(db, dir)).rejects.toThrow('add-things.sql: migration files are named NNNN_snake_case.sql');
  });
});
