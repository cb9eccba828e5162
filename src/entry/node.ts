/**
 * The Node entry: reads the environment (the only place that does), starts or
 * connects to PostgreSQL, migrates, builds the dependencies and serves.
 *   tsx src/entry/node.ts            serve (npm start)
 *   tsx src/entry/node.ts migrate    apply migrations and exit (npm run migrate)
 */
import { existsSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { createApp } from '../app';
import { buildChannels } from '../channels';
import { ConfigError, parseConfig, type Config } from '../config';
import { createDb, type Db } from '../db/connection';
import { EmbeddedDbError, startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded';
import { MigrationError, migrateToLatest } from '../db/migrate';
import { systemClock, type Deps } from '../deps';
import { createLog, type Log } from '../log';
import { loadSecret } from '../secrets';
import { issueSetupTokenIfNoAdmin } from '../staff/setup';
import { deleteExpiredSessions } from '../db/sessions';
import { deleteLoginAttemptsBefore } from '../db/login-attempts';

const command = process.argv[2] ?? 'serve';
const started = performance.now();

/** Expected failures end the process with one line on stderr, never a stack trace. */
function fail(message: string): never {
  process.stderr.write(`tocsin: ${message}\n`);
  process.exit(1);
}

function readConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function openDatabase(config: Config, log: Log): Promise<{ db: Db; embedded: EmbeddedPostgres | null }> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    try {
      embedded = await startEmbeddedPostgres({ dir: config.TOCSIN_DATA_DIR, port: config.EMBEDDED_PG_PORT, log });
    } catch (err) {
      if (err instanceof EmbeddedDbError) fail(err.message);
      throw err;
    }
    url = embedded.url;
    log.info('embedded PostgreSQL started', { dataDir: config.TOCSIN_DATA_DIR, port: embedded.port });
  }
  const db = createDb(url, config.DATABASE_POOL_SIZE, (err) => log.warn('idle database connection lost', { error: err.message }));
  try {
    const applied = await migrateToLatest(db);
    if (applied.length) log.info('migrations applied', { applied });
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    if (err instanceof MigrationError) fail(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === '28P01' || e.code === '3D000') {
      fail(`Cannot connect to the database in DATABASE_URL: ${e.message}`);
    }
    throw err;
  }
  return { db, embedded };
}

async function main() {
  const config = readConfig();
  const log = createLog(config.LOG_LEVEL);
  const { db, embedded } = await openDatabase(config, log);

  if (command === 'migrate') {
    await db.destroy();
    await embedded?.stop();
    log.info('database is up to date');
    return;
  }
  if (command !== 'serve') fail(`unknown command "${command}" (expected serve or migrate)`);

  const deps: Deps = {
    db,
    config,
    clock: systemClock,
    log,
    channels: buildChannels(config, db, log),
    secret: await loadSecret(db, config.SECRET_KEY),
  };
  const now = Date.now();
  await deleteExpiredSessions(db, new Date(now - config.SESSION_IDLE_MINUTES * 60_000), new Date(now - config.SESSION_MAX_HOURS * 3_600_000));
  await deleteLoginAttemptsBefore(db, new Date(now - 86_400_000));

  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST });
  server.on('error', async (err: NodeJS.ErrnoException) => {
    await db.destroy();
    await embedded?.stop();
    if (err.code === 'EADDRINUSE') fail(`Port ${config.PORT} on ${config.HOST} is already in use: set PORT to a free port.`);
    fail(`Cannot listen on ${config.HOST}:${config.PORT}: ${err.message}`);
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));

  log.info('Tocsin is ready', {
    url: config.PUBLIC_URL,
    listen: `${config.HOST}:${config.PORT}`,
    startupMs: Math.round(performance.now() - started),
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
  });
  const setupToken = await issueSetupTokenIfNoAdmin(deps);
  if (setupToken) {
    // Plain text, not JSON: this is the line a newcomer looks for.
    process.stdout.write(`\n  No admin account yet. Create the first one here (this link works once):\n\n    ${config.PUBLIC_URL}/setup?token=${setupToken}\n\n`);
  } else {
    process.stdout.write(`\n  Tocsin is running at ${config.PUBLIC_URL}  (staff log in: ${config.PUBLIC_URL}/login)\n\n`);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    // Whatever hangs, the process is gone within 10 s.
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 9_000).unref();
    // Stop accepting, let in-flight requests finish, then close the pool and the database.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.destroy();
    await embedded?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`tocsin: unexpected error during start-up: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
