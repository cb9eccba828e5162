import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedDbError, startEmbeddedPostgres } from '../../src/db/embedded';
import { silentLog } from '../../src/log';

const dirs: string[] = [];
async function tempDir() {
  const d = await mkdtemp(path.join(tmpdir(), 'tocsin-embedded-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('keeps its data across a restart, on a fresh free port each time', async () => {
    const dir = await tempDir();
    const first = await startEmbeddedPostgres({ dir, log: silentLog });
    const c1 = new pg.Client(first.url);
    await c1.connect();
    await c1.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$still here$$)');
    await c1.end();
    await first.stop();

    const second = await startEmbeddedPostgres({ dir, log: silentLog });
    const c2 = new pg.Client(second.url);
    await c2.connect();
    expect((await c2.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
    await c2.end();
    await second.stop();
  }, 60_000);

  it('says in one line that a fixed port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const error = await startEmbeddedPostgres({ dir: await tempDir(), port, log: silentLog }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbeddedDbError);
      expect((error as Error).message).toBe(
        `Port ${port} is already in use, so the embedded database cannot start: set EMBEDDED_PG_PORT to a free port, or leave it unset to pick one.`,
      );
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('says in one line that a data folder is damaged', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'pg'));
    await writeFile(path.join(dir, 'pg', 'leftover'), 'x');
    const error = await startEmbeddedPostgres({ dir, log: silentLog }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddedDbError);
    expect((error as Error).message).toMatch(/^The embedded database folder .* looks damaged\): move it aside|is not empty but holds no PostgreSQL cluster/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('says in one line that a cluster is missing its files', async () => {
    const dir = await tempDir();
    const server = await startEmbeddedPostgres({ dir, log: silentLog });
    await server.stop();
    await rm(path.join(dir, 'pg', 'global', 'pg_control'));
    const error = await startEmbeddedPostgres({ dir, log: silentLog }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddedDbError);
    expect((error as Error).message).toMatch(/^The embedded database in .* looks damaged \(.+\): move the folder aside/);
    expect((error as Error).message).not.toContain('\n');
  }, 60_000);
});
