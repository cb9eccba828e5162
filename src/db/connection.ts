import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

// bigint ids and counts fit comfortably in a JS number; strings would leak into every caller.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// numeric stays a string: money is never rounded through a float by accident.

export type Db = Kysely<Database>;

export function createPool(connectionString: string, max = 10, onIdleError: (err: Error) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', onIdleError);
  return pool;
}

export function dbFromPool(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export function createDb(connectionString: string, max = 10, onIdleError?: (err: Error) => void): Db {
  return dbFromPool(createPool(connectionString, max, onIdleError));
}
