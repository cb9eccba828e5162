import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema';
import type {
  WebhookAttempt,
  WebhookCursor,
  WebhookDeliveryStatus,
  WebhookEndpoint,
  WebhookEventKind,
  WebhookEventType,
  WebhookSource,
} from './schema-webhooks';

type Q = Kysely<Database> | Transaction<Database>;

export async function insertWebhookEndpoint(
  db: Q,
  e: { url: string; description: string; events: WebhookEventType[]; secret: string; createdBy: number; at: Date },
): Promise<number> {
  const row = await db
    .insertInto('webhook_endpoints')
    .values({ url: e.url, description: e.description, events: e.events, secret: e.secret, created_by: e.createdBy, created_at: e.at, updated_at: e.at })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export function findWebhookEndpoint(db: Q, id: number): Promise<WebhookEndpoint | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface WebhookEndpointSummary {
  id: number;
  url: string;
  description: string;
  events: WebhookEventType[];
  enabled: boolean;
  paused_until: Date | null;
  created_at: Date;
  pending: number;
  failed: number;
  last_delivered_at: Date | null;
}

/** Every endpoint (never its secret), with what is waiting, what failed for good, and the last success. */
export async function listWebhookEndpoints(db: Q): Promise<WebhookEndpointSummary[]> {
  const r = await sql<WebhookEndpointSummary>`
    SELECT e.id, e.url, e.description, e.events, e.enabled, e.paused_until, e.created_at,
      (SELECT count(*)::int FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS pending,
      (SELECT count(*)::int FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed') AS failed,
      (SELECT max(d.delivered_at) FROM webhook_deliveries d WHERE d.endpoint_id = e.id) AS last_delivered_at
    FROM webhook_endpoints e
    ORDER BY e.id`.execute(db);
  return r.rows;
}

export async function updateWebhookEndpointRow(
  db: Q,
  id: number,
  set: { url?: string; description?: string; events?: WebhookEventType[]; enabled?: boolean; at: Date },
): Promise<boolean> {
  const { at, ...rest } = set;
  const r = await db.updateTable('webhook_endpoints').set({ ...rest, updated_at: at }).where('id', '=', id).executeTakeFirst();
  return Boolean(r.numUpdatedRows);
}

export async function deleteWebhookEndpointRow(db: Q, id: number): Promise<string | null> {
  const row = await db.deleteFrom('webhook_endpoints').where('id', '=', id).returning('url').executeTakeFirst();
  return row?.url ?? null;
}

/** "Retry now": the admin says the endpoint works again, so it is not paused any more either. */
export async function unpauseWebhookEndpoint(db: Q, id: number): Promise<void> {
  await db.updateTable('webhook_endpoints').set({ paused_until: null, consecutive_failures: 0 }).where('id', '=', id).execute();
}

/** The enabled endpoints that asked for this event type. */
export async function listEndpointIdsFor(db: Q, type: WebhookEventType): Promise<number[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('enabled', '=', true)
    .where(sql<boolean>`${type} = ANY(events)`)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

export interface NewWebhookEvent {
  id: string;
  type: WebhookEventKind;
  occurredAt: Date;
  data: Record<string, unknown>;
  sourceKey?: string | null;
}

/** Inserts events; one whose source_key exists already is left out. Returns the ids actually inserted. */
export async function insertWebhookEvents(db: Q, events: NewWebhookEvent[]): Promise<string[]> {
  if (!events.length) return [];
  const rows = await db
    .insertInto('webhook_events')
    .values(events.map((e) => ({ id: e.id, type: e.type, occurred_at: e.occurredAt, data: JSON.stringify(e.data), source_key: e.sourceKey ?? null })))
    .onConflict((oc) => oc.column('source_key').doNothing())
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/** One delivery per (event, endpoint), due now. */
export async function insertWebhookDeliveries(db: Q, eventIds: string[], endpointIds: number[]): Promise<{ id: number; endpoint_id: number }[]> {
  if (!eventIds.length || !endpointIds.length) return [];
  return db
    .insertInto('webhook_deliveries')
    .values(eventIds.flatMap((eventId) => endpointIds.map((endpointId) => ({ event_id: eventId, endpoint_id: endpointId, next_attempt_at: sql<Date>`now()` }))))
    .onConflict((oc) => oc.columns(['event_id', 'endpoint_id']).doNothing())
    .returning(['id', 'endpoint_id'])
    .execute();
}

export interface WebhookDeliveryRow {
  id: number;
  event_id: string;
  event_type: WebhookEventKind;
  occurred_at: Date;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

/** An endpoint's newest deliveries (keyset-paginated by id). */
export function listWebhookDeliveries(db: Q, endpointId: number, opts: { limit: number; beforeId?: number }): Promise<WebhookDeliveryRow[]> {
  let q = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select([
      'd.id', 'd.event_id', 'e.type as event_type', 'e.occurred_at', 'd.status', 'd.attempts', 'd.next_attempt_at',
      'd.last_status_code', 'd.last_error', 'd.delivered_at', 'd.created_at',
    ])
    .where('d.endpoint_id', '=', endpointId)
    .orderBy('d.id', 'desc')
    .limit(opts.limit);
  if (opts.beforeId) q = q.where('d.id', '<', opts.beforeId);
  return q.execute();
}

export function listWebhookAttempts(db: Q, deliveryIds: number[]): Promise<WebhookAttempt[]> {
  if (!deliveryIds.length) return Promise.resolve([]);
  return db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('id').execute();
}

export function findWebhookDelivery(db: Q, id: number) {
  return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A failed delivery starts a new round of attempts, due now. False when it is not failed (or not this endpoint's). */
export async function requeueFailedWebhookDelivery(db: Q, id: number, endpointId: number): Promise<boolean> {
  const r = await sql`
    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL, updated_at = now()
    WHERE id = ${id} AND endpoint_id = ${endpointId} AND status = 'failed'`.execute(db);
  return Boolean(r.numAffectedRows);
}

/** The scan's place in one source, locked for this transaction; undefined while another scanner holds it. */
export function lockWebhookCursor(db: Transaction<Database>, source: WebhookSource): Promise<(WebhookCursor & { last_at_text: string | null }) | undefined> {
  // last_at also as text: a JS Date keeps milliseconds, PostgreSQL microseconds, and a cursor rounded down
  // would see its last rows again.
  return db
    .selectFrom('webhook_cursors')
    .selectAll()
    .select(sql<string | null>`last_at::text`.as('last_at_text'))
    .where('source', '=', source)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
}

/**
 * Moves a cursor forward, never back (a scanner with an older horizon may come second). `lastAt` is PostgreSQL's
 * own text of a timestamp (see lockWebhookCursor); without it, only the id moves.
 */
export async function moveWebhookCursor(db: Q, source: WebhookSource, to: { lastAt?: string; lastId: number }): Promise<void> {
  if (to.lastAt === undefined) {
    await sql`UPDATE webhook_cursors SET last_id = ${to.lastId}, updated_at = now() WHERE source = ${source} AND last_id < ${to.lastId}`.execute(db);
    return;
  }
  await sql`
    UPDATE webhook_cursors SET last_at = ${to.lastAt}::timestamptz, last_id = ${to.lastId}, updated_at = now()
    WHERE source = ${source} AND (last_at IS NULL OR (last_at, last_id) < (${to.lastAt}::timestamptz, ${to.lastId}::bigint))`.execute(db);
}

export function findWebhookCursor(db: Q, source: WebhookSource) {
  return db.selectFrom('webhook_cursors').selectAll().where('source', '=', source).executeTakeFirst();
}
