/**
 * The Node entry: reads the environment (the only place that does), starts or
 * connects to PostgreSQL, migrates, builds the dependencies and runs.
 *   node --import tsx src/entry/node.ts            HTTP server + job worker (npm start)
 *   node --import tsx src/entry/node.ts worker     job worker only (npm run worker)
 *   node --import tsx src/entry/node.ts migrate    apply migrations and exit (npm run migrate)
 */
import { existsSync } from 'node:fs';
import { serve, type ServerType } from '@hono/node-server';
import type { Runner } from 'graphile-worker';
import type pg from 'pg';
import { createApp } from '../app';
import { buildChannels } from '../channels';
import { ConfigError, parseConfig, type Config } from '../config';
import { createPool, dbFromPool, type Db } from '../db/connection';
import { EmbeddedDbError, findRunningEmbedded, startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded';
import { deleteLoginAttemptsBefore } from '../db/login-attempts';
import { MigrationError, migrateToLatest } from '../db/migrate';
import { deleteExpiredSessions } from '../db/sessions';
import { systemClock, type Deps } from '../deps';
import { migrateJobQueue, startWorker } from '../fanout/worker';
import { replyCrontab, replyTasks } from '../replies/tasks';
import { webhookCrontab, webhookTasks } from '../webhooks/tasks';
import { feedCrontab, feedTasks } from '../feeds/tasks';
import { microblogCrontab, microblogTasks } from '../replies/microblog-tasks';
import { createLog, type Log } from '../log';
import { loadSecret } from '../secrets';
import { issueSetupTokenIfNoAdmin } from '../staff/setup';

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

interface Database {
  url: string;
  pool: pg.Pool;
  db: Db;
  embedded: EmbeddedPostgres | null;
}

async function openDatabase(config: Config, log: Log): Promise<Database> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.DATABASE_URL ?? (command === 'worker' ? await findRunningEmbedded(config.TOCSIN_DATA_DIR) : null);
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
  const pool = createPool(url, config.DATABASE_POOL_SIZE, (err) => log.warn('idle database connection lost', { error: err.message }));
  const db = dbFromPool(pool);
  try {
    const applied = await migrateToLatest(db);
    if (applied.length) log.info('migrations applied', { applied });
    await migrateJobQueue(pool);
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
  return { url, pool, db, embedded };
}

async function main() {
  const config = readConfig();
  const log = createLog(config.LOG_LEVEL);
  if (!['serve', 'worker', 'migrate'].includes(command)) fail(`unknown command "${command}" (expected serve, worker or migrate)`);
  const database = await openDatabase(config, log);
  const { db, embedded } = database;

  if (command === 'migrate') {
    await db.destroy();
    await embedded?.stop();
    log.info('database is up to date');
    return;
  }

  let channels: Deps['channels'];
  try {
    channels = buildChannels(config, db, log);
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const deps: Deps = { db, config, clock: systemClock, log, channels, secret: await loadSecret(db, config.SECRET_KEY) };

  let server: ServerType | null = null;
  if (command === 'serve') {
    const now = Date.now();
    await deleteExpiredSessions(db, new Date(now - config.SESSION_IDLE_MINUTES * 60_000), new Date(now - config.SESSION_MAX_HOURS * 3_600_000));
    await deleteLoginAttemptsBefore(db, new Date(now - 86_400_000));
    const app = createApp(deps);
    server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST });
    server.on('error', async (err: NodeJS.ErrnoException) => {
      await db.destroy();
      await embedded?.stop();
      if (err.code === 'EADDRINUSE') fail(`Port ${config.PORT} on ${config.HOST} is already in use: set PORT to a free port.`);
      fail(`Cannot listen on ${config.HOST}:${config.PORT}: ${err.message}`);
    });
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  }

  // The worker has its own connections: LISTEN and long jobs must not starve HTTP requests.
  let runner: Runner | null = null;
  let workerPool: pg.Pool | null = null;
  if (command === 'worker' || config.RUN_WORKER) {
    workerPool = createPool(database.url, config.WORKER_CONCURRENCY + 4, (err) => log.warn('idle worker connection lost', { error: err.message }));
    runner = await startWorker(deps, workerPool, {
      tasks: { ...replyTasks(deps), ...webhookTasks(deps), ...feedTasks(deps), ...microblogTasks(deps) },
      crontab: [...replyCrontab, ...webhookCrontab, ...feedCrontab, ...microblogCrontab],
    });
  }

  log.info(command === 'serve' ? 'Tocsin is ready' : 'Tocsin worker is ready', {
    url: command === 'serve' ? config.PUBLIC_URL : undefined,
    listen: command === 'serve' ? `${config.HOST}:${config.PORT}` : undefined,
    worker: Boolean(runner),
    startupMs: Math.round(performance.now() - started),
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
  });
  if (command === 'serve') {
    const setupToken = await issueSetupTokenIfNoAdmin(deps);
    // Plain text, not JSON: these are the lines a newcomer looks for.
    if (setupToken) {
      process.stdout.write(`\n  No admin account yet. Create the first one here (this link works once):\n\n    ${config.PUBLIC_URL}/setup?token=${setupToken}\n\n`);
    } else {
      process.stdout.write(`\n  Tocsin is running at ${config.PUBLIC_URL}  (staff log in: ${config.PUBLIC_URL}/login)\n\n`);
    }
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
    // Stop accepting, let in-flight requests and jobs finish, then close the pools and the database.
    await Promise.all([
      server ? new Promise<void>((resolve) => server!.close(() => resolve())) : null,
      runner?.stop().catch((err) => log.warn('worker stop failed', { error: err })),
    ]);
    await Promise.all(Object.values(channels).map((c) => c.close?.().catch(() => {})));
    await workerPool?.end();
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
