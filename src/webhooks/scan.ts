import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { toApiUpdate } from '../api/updates';
import type { Database, UpdateRow } from '../db/schema';
import type { WebhookSource } from '../db/schema-webhooks';
import { loadUpdateViews } from '../db/updates';
import {
  insertWebhookDeliveries,
  insertWebhookEvents,
  listEndpointIdsFor,
  lockWebhookCursor,
  moveWebhookCursor,
  type NewWebhookEvent,
} from '../db/webhooks';
import type { Deps } from '../deps';
import { addSendJob } from './jobs';

/**
 * Events are derived from the tables other modules already write, past a cursor per source, so no module has
 * to call this one: an update's publication (updates.published_at), delivery status changes
 * (deliveries.updated_at), replies (replies.id) and consent changes (consent_log.id).
 *
 * The catch with any cursor is that rows do not become visible in the order of their ids or timestamps: a
 * transaction that took id 10 (or stamped now() at 12:00:00) may commit after one that took id 11 (12:00:01).
 * A scan that moved past 11 would never see 10. So each scan first samples a horizon per source — the highest
 * id (or a timestamp) at that moment, and the transactions then writing the table (from pg_locks) — and waits
 * for those transactions to end: below the horizon, everything that will ever be committed is then visible.
 * A long transaction (a big CSV import) delays that source's events; it never loses them.
 */
export type WebhookScanDeps = Pick<Deps, 'db' | 'config' | 'log'>;

export interface ScanOptions {
  /** Most changes carried by one batched event (delivery.status_changed, subscriber.changed). */
  batchSize?: number;
  /** How long to wait for the transactions writing a source to end; past it, that source waits for the next scan. */
  settleWaitMs?: number;
  /**
   * deliveries.updated_at is now() of the writing transaction, i.e. when it began: one that began a little
   * before the sample but had not written yet holds no lock to see. Changes this recent wait for the next scan.
   */
  settleMarginMs?: number;
  /** Time budget of one scan; what is left is for the next. */
  budgetMs?: number;
}

export interface ScanResult {
  /** Events made (with no endpoint for a type, none are, except update.published). */
  events: number;
  /** The budget ran out with rows left. */
  more: boolean;
  /** Sources whose writers had not finished: scanned next time. */
  waiting: WebhookSource[];
}

const defaults = { batchSize: 500, settleWaitMs: 3000, settleMarginMs: 2000, budgetMs: 20_000 };

/** Updates are few: a page of them per transaction. Rescanned an hour back, so a late commit is still found. */
const updatesPerScan = 50;
const updatesLookbackMs = 3_600_000;
const repliesPerScan = 100;

interface Horizons {
  /** PostgreSQL's text of a timestamp: changes strictly before it are settled. */
  deliveries: string | null;
  replies: number | null;
  consent_log: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples the horizons, then waits (up to settleWaitMs) for the transactions writing each source to end. */
async function settleHorizons(deps: WebhookScanDeps, o: typeof defaults): Promise<Horizons> {
  // One statement: its snapshot (max ids) is taken before pg_locks is read, so any transaction that had taken
  // an id up to the max is either committed by then or still holds its lock on the table.
  const sample = await sql<{
    deliveries_at: string;
    replies_id: number;
    consent_id: number;
    deliveries_w: string[];
    replies_w: string[];
    consent_w: string[];
  }>`
    WITH writers AS (
      SELECT l.relation, l.virtualtransaction FROM pg_locks l
      WHERE l.locktype = 'relation'
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.relation IN ('deliveries'::regclass, 'replies'::regclass, 'consent_log'::regclass)
        AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
        AND l.pid IS DISTINCT FROM pg_backend_pid()
    )
    SELECT
      (statement_timestamp() - make_interval(secs => ${o.settleMarginMs / 1000}))::text AS deliveries_at,
      (SELECT coalesce(max(id), 0) FROM replies)::bigint AS replies_id,
      (SELECT coalesce(max(id), 0) FROM consent_log)::bigint AS consent_id,
      ARRAY(SELECT DISTINCT virtualtransaction FROM writers WHERE relation = 'deliveries'::regclass) AS deliveries_w,
      ARRAY(SELECT DISTINCT virtualtransaction FROM writers WHERE relation = 'replies'::regclass) AS replies_w,
      ARRAY(SELECT DISTINCT virtualtransaction FROM writers WHERE relation = 'consent_log'::regclass) AS consent_w`.execute(deps.db);
  const s = sample.rows[0]!;
  const waitingFor = { deliveries: new Set(s.deliveries_w), replies: new Set(s.replies_w), consent_log: new Set(s.consent_w) };
  const deadline = Date.now() + o.settleWaitMs;
  for (;;) {
    const all = [...waitingFor.deliveries, ...waitingFor.replies, ...waitingFor.consent_log];
    if (!all.length) break;
    // Every transaction holds the lock on its own virtual id until it ends.
    const alive = await sql<{ vxid: string }>`
      SELECT virtualxid AS vxid FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY(${[...new Set(all)]}::text[])`.execute(deps.db);
    const still = new Set(alive.rows.map((r) => r.vxid));
    for (const set of Object.values(waitingFor)) for (const v of set) if (!still.has(v)) set.delete(v);
    if (!still.size || Date.now() >= deadline) break;
    await sleep(25);
  }
  return {
    deliveries: waitingFor.deliveries.size ? null : s.deliveries_at,
    replies: waitingFor.replies.size ? null : s.replies_id,
    consent_log: waitingFor.consent_log.size ? null : s.consent_id,
  };
}

interface Batch {
  events: number;
  more: boolean;
}

/** Events, one delivery per interested endpoint, and a job per delivery: all in the caller's transaction. */
async function emit(trx: Transaction<Database>, events: NewWebhookEvent[], endpointIds: number[]): Promise<number> {
  const inserted = await insertWebhookEvents(trx, events);
  const deliveries = await insertWebhookDeliveries(trx, inserted, endpointIds);
  for (const d of deliveries) await addSendJob(trx, { id: d.id, endpointId: d.endpoint_id });
  return inserted.length;
}

/**
 * update.published: every newly published update, as the API shows it. Made even with no endpoint (there are
 * few), because the event itself is what marks the update as announced: the rescan an hour back relies on it.
 */
async function scanUpdates(deps: WebhookScanDeps): Promise<Batch> {
  return deps.db.transaction().execute(async (trx) => {
    const cursor = await lockWebhookCursor(trx, 'updates');
    if (!cursor) return { events: 0, more: false };
    const floor = new Date(Math.max((cursor.last_at ?? cursor.started_at).getTime() - updatesLookbackMs, cursor.started_at.getTime()));
    const rows = (await sql<UpdateRow>`
      SELECT u.* FROM updates u
      WHERE u.status = 'published' AND u.published_at > ${floor}
        AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.source_key = 'update:' || u.id)
      ORDER BY u.published_at, u.id
      LIMIT ${updatesPerScan}`.execute(trx)).rows;
    if (!rows.length) return { events: 0, more: false };
    const views = await loadUpdateViews(trx, rows);
    const events: NewWebhookEvent[] = views.map((v, i) => ({
      id: randomUUID(),
      type: 'update.published',
      occurredAt: v.publishedAt!,
      data: { update: toApiUpdate(deps.config.PUBLIC_URL, v, { source: rows[i]!.source, createdAt: rows[i]!.created_at }) },
      sourceKey: `update:${v.id}`,
    }));
    const made = await emit(trx, events, await listEndpointIdsFor(trx, 'update.published'));
    const last = rows.at(-1)!;
    await moveWebhookCursor(trx, 'updates', { lastAt: last.published_at!.toISOString(), lastId: last.id });
    return { events: made, more: rows.length === updatesPerScan };
  });
}

/**
 * delivery.status_changed, batched: each event carries up to batchSize changes, in (updated_at, id) order.
 * Queued and sending are internal steps and not reported; a delivery that moved twice between two scans is
 * reported once, with where it is now.
 */
async function scanDeliveries(deps: WebhookScanDeps, horizon: string, batchSize: number): Promise<Batch> {
  return deps.db.transaction().execute(async (trx) => {
    const cursor = await lockWebhookCursor(trx, 'deliveries');
    if (!cursor) return { events: 0, more: false };
    const endpoints = await listEndpointIdsFor(trx, 'delivery.status_changed');
    const after = cursor.last_at_text ?? '-infinity';
    if (!endpoints.length) {
      // Nobody to tell: move on, so an endpoint added later starts from now, not from history.
      await moveWebhookCursor(trx, 'deliveries', { lastAt: horizon, lastId: 0 });
      return { events: 0, more: false };
    }
    const rows = (await sql<{ id: number; update_id: number; channel: string; status: string; error_code: string | null; updated_at: Date; at_text: string }>`
      SELECT id, update_id, channel, status, error_code, updated_at, updated_at::text AS at_text FROM deliveries
      WHERE status NOT IN ('queued', 'sending')
        AND (updated_at, id) > (${after}::timestamptz, ${cursor.last_id}::bigint)
        AND updated_at < ${horizon}::timestamptz
      ORDER BY updated_at, id
      LIMIT ${batchSize}`.execute(trx)).rows;
    let made = 0;
    if (rows.length) {
      made = await emit(trx, [{
        id: randomUUID(),
        type: 'delivery.status_changed',
        occurredAt: rows.at(-1)!.updated_at,
        data: {
          deliveries: rows.map((r) => ({ id: r.id, update_id: r.update_id, channel: r.channel, status: r.status, error_code: r.error_code, at: r.updated_at.toISOString() })),
        },
      }], endpoints);
    }
    const full = rows.length === batchSize;
    // A full batch stops at its last row; a short one has read everything below the horizon.
    if (full) await moveWebhookCursor(trx, 'deliveries', { lastAt: rows.at(-1)!.at_text, lastId: rows.at(-1)!.id });
    else await moveWebhookCursor(trx, 'deliveries', { lastAt: horizon, lastId: 0 });
    return { events: made, more: full };
  });
}

/**
 * reply.received, one event per reply. The event keeps no text and no sender: the text is read when each request
 * is sent (src/webhooks/send.ts), so a reply erased meanwhile goes out blank.
 */
async function scanReplies(deps: WebhookScanDeps, horizon: number): Promise<Batch> {
  return deps.db.transaction().execute(async (trx) => {
    const cursor = await lockWebhookCursor(trx, 'replies');
    if (!cursor) return { events: 0, more: false };
    const endpoints = await listEndpointIdsFor(trx, 'reply.received');
    if (!endpoints.length) {
      await moveWebhookCursor(trx, 'replies', { lastId: horizon });
      return { events: 0, more: false };
    }
    const rows = (await sql<{ id: number; channel: string; subscriber_id: number | null; update_id: number | null; possible_opt_out: boolean; received_at: Date }>`
      SELECT id, channel, subscriber_id, update_id, possible_opt_out, received_at FROM replies
      WHERE id > ${cursor.last_id} AND id <= ${horizon}
      ORDER BY id
      LIMIT ${repliesPerScan}`.execute(trx)).rows;
    const made = await emit(trx, rows.map((r) => ({
      id: randomUUID(),
      type: 'reply.received' as const,
      occurredAt: r.received_at,
      data: { reply: { id: r.id, channel: r.channel, update_id: r.update_id, subscriber_id: r.subscriber_id, possible_opt_out: r.possible_opt_out, received_at: r.received_at.toISOString() } },
      sourceKey: `reply:${r.id}`,
    })), endpoints);
    const full = rows.length === repliesPerScan;
    await moveWebhookCursor(trx, 'replies', { lastId: full ? rows.at(-1)!.id : horizon });
    return { events: made, more: full };
  });
}

/**
 * subscriber.changed, batched like deliveries (one CSV import is 100 000 entries): which subscriber, which
 * channel and campaign, what happened and how. Never a phone, an email, an IP address or the text they were
 * shown; an erasure shows as action `erased`, so integrators can delete their own copy.
 */
async function scanConsentLog(deps: WebhookScanDeps, horizon: number, batchSize: number): Promise<Batch> {
  return deps.db.transaction().execute(async (trx) => {
    const cursor = await lockWebhookCursor(trx, 'consent_log');
    if (!cursor) return { events: 0, more: false };
    const endpoints = await listEndpointIdsFor(trx, 'subscriber.changed');
    if (!endpoints.length) {
      await moveWebhookCursor(trx, 'consent_log', { lastId: horizon });
      return { events: 0, more: false };
    }
    const rows = (await sql<{ id: number; subscriber_id: number; campaign_id: number | null; channel: string; action: string; source: string; at: Date }>`
      SELECT id, subscriber_id, campaign_id, channel, action, source, at FROM consent_log
      WHERE id > ${cursor.last_id} AND id <= ${horizon}
      ORDER BY id
      LIMIT ${batchSize}`.execute(trx)).rows;
    let made = 0;
    if (rows.length) {
      made = await emit(trx, [{
        id: randomUUID(),
        type: 'subscriber.changed',
        occurredAt: rows.at(-1)!.at,
        data: {
          changes: rows.map((r) => ({
            id: r.id, subscriber_id: r.subscriber_id, channel: r.channel, campaign_id: r.campaign_id, action: r.action, source: r.source, at: r.at.toISOString(),
          })),
        },
      }], endpoints);
    }
    const full = rows.length === batchSize;
    await moveWebhookCursor(trx, 'consent_log', { lastId: full ? rows.at(-1)!.id : horizon });
    return { events: made, more: full };
  });
}

/** One pass over every source: what is new becomes events, deliveries and jobs. */
export async function scanWebhookSources(deps: WebhookScanDeps, options: ScanOptions = {}): Promise<ScanResult> {
  const o = { ...defaults, ...options };
  const started = Date.now();
  const horizons = await settleHorizons(deps, o);
  const steps: [WebhookSource, (() => Promise<Batch>) | null][] = [
    ['updates', () => scanUpdates(deps)],
    ['deliveries', horizons.deliveries === null ? null : () => scanDeliveries(deps, horizons.deliveries!, o.batchSize)],
    ['replies', horizons.replies === null ? null : () => scanReplies(deps, horizons.replies!)],
    ['consent_log', horizons.consent_log === null ? null : () => scanConsentLog(deps, horizons.consent_log!, o.batchSize)],
  ];
  const result: ScanResult = { events: 0, more: false, waiting: [] };
  for (const [source, step] of steps) {
    if (!step) {
      result.waiting.push(source);
      continue;
    }
    for (;;) {
      const b = await step();
      result.events += b.events;
      if (!b.more) break;
      if (Date.now() - started > o.budgetMs) {
        result.more = true;
        break;
      }
    }
  }
  return result;
}

