import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * Reads numbered, forward-only `NNNN_name.sql` files. The SQL never imports app
 * code, so an old migration keeps meaning what it meant when it shipped.
 */
export class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string = migrationsDir) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.sql')).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      if (!/^\d{4}_[a-z0-9_]+\.sql$/.test(file)) {
        throw new MigrationError(`${file}: migration files are named NNNN_snake_case.sql`);
      }
      const text = await readFile(path.join(this.dir, file), 'utf8');
      migrations[file] = {
        up: async (db) => {
          try {
            await sql.raw(text).execute(db);
          } catch (err) {
            throw new MigrationError(`Migration ${file} failed${lineOf(text, err)}: ${(err as Error).message}`);
          }
        },
      };
    }
    return migrations;
  }
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** pg reports where in the SQL text it failed as a character offset; people read line numbers. */
function lineOf(text: string, err: unknown): string {
  const position = Number((err as { position?: string }).position);
  if (!position) return '';
  return ` at line ${text.slice(0, position - 1).split('\n').length}`;
}

/**
 * Applies every pending migration. Kysely runs them in one transaction on
 * PostgreSQL and holds an advisory lock, so a failure leaves the schema as it was
 * and two processes starting together do not race.
 */
export async function migrateToLatest(db: Kysely<any>, dir?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new SqlFileMigrationProvider(dir) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    if (error instanceof MigrationError) throw error;
    throw new MigrationError(`Migrations failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
