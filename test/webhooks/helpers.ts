import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type { Db } from '../../src/db/connection';
import type { WebhookEventKind } from '../../src/db/schema-webhooks';
import { sendWebhookDelivery, type SendOptions, type SendOutcome, type WebhookSendDeps } from '../../src/webhooks/send';
import { verifyWebhookSignature } from '../../src/webhooks/signature';

/** What the receiver does with one request. */
export type Behaviour =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { close: true }
  | { delayMs: number; status?: number };

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
  json: { id: string; type: WebhookEventKind; occurred_at: string; data: Record<string, any> };
  /** The signature checked with verifyWebhookSignature, as an integrator would. */
  verified: boolean;
}

/**
 * A real integrator's endpoint on 127.0.0.1: answers each request with the next queued behaviour (then 200),
 * verifies every signature with the secret it is given, and keeps everything it received.
 */
export async function startReceiver(opts: { secret?: (path: string) => string | undefined } = {}) {
  const queue: Behaviour[] = [];
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const secret = opts.secret?.(req.url ?? '/');
      const verified = Boolean(
        secret && verifyWebhookSignature(secret, String(req.headers['tocsin-timestamp'] ?? ''), body, String(req.headers['tocsin-signature'] ?? '')),
      );
      let json: Received['json'];
      try {
        json = JSON.parse(body);
      } catch {
        json = { id: '', type: 'ping', occurred_at: '', data: {} };
      }
      received.push({ headers: req.headers, path: req.url ?? '/', body, json, verified });
      const b = queue.shift() ?? { status: 200, body: 'ok' };
      if ('close' in b) {
        req.socket.destroy();
        return;
      }
      if ('delayMs' in b) {
        const timer = setTimeout(() => res.writeHead(b.status ?? 200).end('late'), b.delayMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      res.writeHead(b.status, b.headers ?? { 'content-type': 'text/plain' }).end(b.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/tocsin`,
    port,
    received,
    /** Queue behaviours for the next requests. */
    respond(...b: Behaviour[]) {
      queue.push(...b);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Makes every waiting delivery due now, as if its backoff had passed. */
export async function makeDeliveriesDue(db: Db): Promise<void> {
  await sql`UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' WHERE status = 'pending'`.execute(db);
}

/** Sends every due delivery once, as the worker's jobs would; returns the outcomes. */
export async function sendDueDeliveries(deps: WebhookSendDeps, opts: SendOptions = {}): Promise<SendOutcome[]> {
  const due = await deps.db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', sql<Date>`now()`)
    .orderBy('id')
    .execute();
  const out: SendOutcome[] = [];
  for (const d of due) out.push(await sendWebhookDelivery(deps, d.id, opts));
  return out;
}
