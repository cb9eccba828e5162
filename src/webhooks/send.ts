import { sql } from 'kysely';
import type { WebhookEventKind } from '../db/schema-webhooks';
import type { Deps } from '../deps';
import { backoffMs } from '../fanout/dispatch';
import { addSendJob } from './jobs';
import { signatureHeader } from './signature';

export type WebhookSendDeps = Pick<Deps, 'db' | 'config' | 'log' | 'clock'>;

export interface SendOptions {
  /** Whole request, answer included (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * - delivered: a 2xx answer;
 * - retrying: anything else, a network error or a paused endpoint, with attempts left: a job waits for the next;
 * - failed: no attempts left, or the endpoint is disabled;
 * - skipped: nothing to do (already delivered, not due yet, in another worker's hands, or deleted).
 */
export type SendOutcome = 'delivered' | 'retrying' | 'failed' | 'skipped';

export const userAgent = 'Tocsin-Webhooks/1';
const defaultTimeoutMs = 10_000;
/** A request in flight is its worker's for this long; well past the timeout. */
const leaseSeconds = 120;
/** Failures in a row after which the endpoint's other deliveries wait instead of each trying. */
export const pauseAfterFailures = 5;
const snippetChars = 500;
const maxRetryAfterSeconds = 3600;

interface Claimed {
  id: number;
  attempts: number;
  endpoint_id: number;
  event_id: string;
  enabled: boolean;
  url: string;
  secret: string;
  paused: boolean;
  paused_until: Date | null;
  consecutive_failures: number;
  type: WebhookEventKind;
  occurred_at: Date;
  data: Record<string, unknown>;
}

/**
 * Claims a due delivery for one attempt (attempts + 1, under a lease), or marks it failed when its endpoint
 * was disabled meanwhile. One statement; SKIP LOCKED leaves a delivery another worker holds alone.
 */
async function claimDelivery(deps: WebhookSendDeps, id: number): Promise<Claimed | undefined> {
  const r = await sql<Claimed>`
    WITH target AS (
      SELECT d.id, e.enabled FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
      WHERE d.id = ${id} AND d.status = 'pending'
        AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
        AND (d.lease_until IS NULL OR d.lease_until < now())
      FOR UPDATE OF d SKIP LOCKED
    ), claimed AS (
      UPDATE webhook_deliveries d SET
        attempts = d.attempts + CASE WHEN t.enabled THEN 1 ELSE 0 END,
        lease_until = CASE WHEN t.enabled THEN now() + make_interval(secs => ${leaseSeconds}) END,
        status = CASE WHEN t.enabled THEN 'pending' ELSE 'failed' END,
        last_error = CASE WHEN t.enabled THEN d.last_error ELSE 'not sent: the endpoint is disabled' END,
        next_attempt_at = CASE WHEN t.enabled THEN d.next_attempt_at END,
        updated_at = now()
      FROM target t
      WHERE d.id = t.id
      RETURNING d.id, d.attempts, d.endpoint_id, d.event_id, t.enabled
    )
    SELECT c.*, e.url, e.secret, coalesce(e.paused_until > now(), false) AS paused, e.paused_until, e.consecutive_failures,
      ev.type, ev.occurred_at, ev.data
    FROM claimed c
    JOIN webhook_endpoints e ON e.id = c.endpoint_id
    JOIN webhook_events ev ON ev.id = c.event_id`.execute(deps.db);
  return r.rows[0];
}

/** The JSON body: `{ id, type, occurred_at, data }`. A reply's text is read now, so an erased one goes out blank. */
async function bodyOf(deps: WebhookSendDeps, c: Claimed): Promise<string> {
  let data = c.data;
  if (c.type === 'reply.received') {
    const reply = data.reply as { id: number };
    const row = await deps.db.selectFrom('replies').select('body').where('id', '=', reply.id).executeTakeFirst();
    data = { ...data, reply: { ...reply, text: row?.body ? row.body : null } };
  }
  return JSON.stringify({ id: c.event_id, type: c.type, occurred_at: c.occurred_at.toISOString(), data });
}

interface Answer {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  snippet: string | null;
  retryAfterSeconds?: number;
  durationMs: number;
}

/** The start of an answer's body, read no further than needed (an endpoint may answer with megabytes). */
async function readSnippet(res: Response): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < snippetChars * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
  return text ? text.slice(0, snippetChars) : null;
}

function retryAfterOf(res: Response): number | undefined {
  const v = res.headers.get('retry-after')?.trim();
  if (!v) return undefined;
  const seconds = /^\d+$/.test(v) ? Number(v) : (Date.parse(v) - Date.now()) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, maxRetryAfterSeconds) : undefined;
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e?.cause;
  if (cause) return `connection failed: ${[cause.code, cause.message].filter(Boolean).join(' ')}`.slice(0, 500);
  return `request failed: ${e?.message ?? String(err)}`.slice(0, 500);
}

async function post(url: string, body: string, headers: Record<string, string>, o: Required<SendOptions>): Promise<Answer> {
  const started = performance.now();
  const duration = () => Math.round(performance.now() - started);
  try {
    const signal = AbortSignal.timeout(o.timeoutMs);
    // Never follow a redirect: the admin registered this address, not wherever it points.
    const res = await o.fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
    let snippet: string | null = null;
    try {
      snippet = await readSnippet(res);
    } catch {
      // The status is what counts; a body cut short by the timeout is not a failure of its own.
    }
    const ok = res.status >= 200 && res.status < 300;
    let error: string | null = null;
    if (!ok) {
      const location = res.headers.get('location');
      error = res.status >= 300 && res.status < 400 ? `HTTP ${res.status}: redirect${location ? ` to ${location.slice(0, 300)}` : ''} not followed` : `HTTP ${res.status}`;
    }
    return { ok, statusCode: res.status, error, snippet, retryAfterSeconds: ok ? undefined : retryAfterOf(res), durationMs: duration() };
  } catch (err) {
    return { ok: false, statusCode: null, error: describeError(err, o.timeoutMs), snippet: null, durationMs: duration() };
  }
}

/**
 * Records one attempt and what follows from it, in one transaction: the delivery is delivered, waits for a
 * retry (with its job), or has failed for good; the endpoint's run of failures moves with real requests only.
 */
async function recordAttempt(
  deps: WebhookSendDeps,
  c: Claimed,
  at: Date,
  a: Answer,
  opts: { requestMade: boolean; notBefore?: Date | null },
): Promise<SendOutcome> {
  const max = deps.config.WEBHOOK_MAX_ATTEMPTS;
  return deps.db.transaction().execute(async (trx) => {
    let outcome: SendOutcome;
    let nextAt: Date | null = null;
    if (a.ok) {
      outcome = 'delivered';
      const r = await sql`
        UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), lease_until = NULL, next_attempt_at = NULL,
          last_status_code = ${a.statusCode}, last_error = NULL, updated_at = now()
        WHERE id = ${c.id}`.execute(trx);
      if (!r.numAffectedRows) return 'skipped';
    } else if (c.attempts >= max) {
      outcome = 'failed';
      const r = await sql`
        UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL, next_attempt_at = NULL,
          last_status_code = ${a.statusCode}, last_error = ${`${a.error} (gave up after ${c.attempts} attempts)`}, updated_at = now()
        WHERE id = ${c.id}`.execute(trx);
      if (!r.numAffectedRows) return 'skipped';
    } else {
      outcome = 'retrying';
      const waitSeconds = backoffMs(c.attempts, a.retryAfterSeconds) / 1000;
      const r = await sql<{ next_attempt_at: Date }>`
        UPDATE webhook_deliveries SET lease_until = NULL,
          next_attempt_at = greatest(now() + make_interval(secs => ${waitSeconds}), ${opts.notBefore ?? null}::timestamptz),
          last_status_code = ${a.statusCode}, last_error = ${a.error}, updated_at = now()
        WHERE id = ${c.id}
        RETURNING next_attempt_at`.execute(trx);
      if (!r.rows[0]) return 'skipped';
      nextAt = r.rows[0].next_attempt_at;
    }
    await trx
      .insertInto('webhook_attempts')
      .values({ delivery_id: c.id, at, status_code: a.statusCode, duration_ms: a.durationMs, error: a.error, response_body: a.snippet })
      .execute();
    if (opts.requestMade) {
      if (a.ok) {
        await sql`UPDATE webhook_endpoints SET consecutive_failures = 0, paused_until = NULL WHERE id = ${c.endpoint_id} AND (consecutive_failures > 0 OR paused_until IS NOT NULL)`.execute(trx);
      } else {
        // Past a few failures in a row, the pause doubles with each further one (30 s … 1 h), like retries do.
        await sql`
          UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1,
            paused_until = CASE WHEN consecutive_failures + 1 >= ${pauseAfterFailures}
              THEN now() + make_interval(secs => least(3600, 30 * 2 ^ (consecutive_failures + 1 - ${pauseAfterFailures})))
              ELSE paused_until END
          WHERE id = ${c.endpoint_id}`.execute(trx);
      }
    }
    if (nextAt) await addSendJob(trx, { id: c.id, endpointId: c.endpoint_id, runAt: nextAt });
    return outcome;
  });
}

/** Sends one webhook delivery (the job of task webhooks_send): one attempt, recorded. */
export async function sendWebhookDelivery(deps: WebhookSendDeps, deliveryId: number, options: SendOptions = {}): Promise<SendOutcome> {
  const o: Required<SendOptions> = { timeoutMs: options.timeoutMs ?? defaultTimeoutMs, fetch: options.fetch ?? fetch };
  const c = await claimDelivery(deps, deliveryId);
  if (!c) return 'skipped';
  if (!c.enabled) return 'failed';
  const at = deps.clock.now();

  // A test event goes through anyway: it is how an admin checks the endpoint is back.
  if (c.paused && c.type !== 'ping') {
    const until = c.paused_until!;
    const answer: Answer = {
      ok: false,
      statusCode: null,
      error: `not sent: the endpoint failed ${c.consecutive_failures} times in a row; paused until ${until.toISOString()}`,
      snippet: null,
      durationMs: 0,
    };
    return recordAttempt(deps, c, at, answer, { requestMade: false, notBefore: new Date(until.getTime() + Math.random() * 30_000) });
  }

  const body = await bodyOf(deps, c);
  const timestamp = Math.floor(at.getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': userAgent,
    'tocsin-event-id': c.event_id,
    'tocsin-timestamp': String(timestamp),
    'tocsin-signature': signatureHeader(c.secret, timestamp, body),
  };
  const answer = await post(c.url, body, headers, o);
  const outcome = await recordAttempt(deps, c, at, answer, { requestMade: true });
  if (outcome !== 'delivered') {
    deps.log.info('webhook not delivered', { deliveryId: c.id, endpointId: c.endpoint_id, attempt: c.attempts, statusCode: answer.statusCode, error: answer.error, outcome });
  }
  return outcome;
}

/**
 * Deliveries whose job was lost (its worker died mid-request; graphile-worker frees such a job only after
 * hours) get a new one. A duplicate job is harmless: the claim lets one of them through.
 */
export async function resumeStalledWebhookDeliveries(deps: Pick<Deps, 'db' | 'log'>): Promise<number> {
  const stalled = await sql<{ id: number; endpoint_id: number }>`
    SELECT d.id, d.endpoint_id FROM webhook_deliveries d
    WHERE d.status = 'pending' AND d.next_attempt_at < now() - interval '5 minutes' AND (d.lease_until IS NULL OR d.lease_until < now())
      AND NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = 'webhook:' || d.id AND j.locked_at IS NULL)
    ORDER BY d.next_attempt_at
    LIMIT 1000`.execute(deps.db);
  for (const d of stalled.rows) await addSendJob(deps.db, { id: d.id, endpointId: d.endpoint_id });
  if (stalled.rows.length) deps.log.warn('resumed stalled webhook deliveries', { count: stalled.rows.length });
  return stalled.rows.length;
}

/** Events older than 30 days with nothing left to send go, with their deliveries and attempts. */
export async function pruneWebhookEvents(deps: Pick<Deps, 'db'>): Promise<number> {
  const r = await sql`
    DELETE FROM webhook_events WHERE id IN (
      SELECT e.id FROM webhook_events e
      WHERE e.created_at < now() - interval '30 days'
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
      LIMIT 5000)`.execute(deps.db);
  return Number(r.numAffectedRows ?? 0);
}
