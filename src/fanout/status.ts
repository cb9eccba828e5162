import { sql } from 'kysely';
import type { TwilioStatusCallback } from '../channels/sms/twilio';
import type { DeliveryStatus } from '../db/schema-fanout';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { markPhoneInvalid, markPhoneUnsubscribedByCarrier } from '../subscribers/provider-errors';

/**
 * Twilio's word for a message, in ours. Any status at all proves Twilio has the
 * message, which is all "sent" means here (handed to the provider); that is also
 * what resolves a delivery left `unknown` by a worker that died mid-send.
 */
export function deliveryStatusFromTwilio(status: TwilioStatusCallback['status']): DeliveryStatus {
  switch (status) {
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return 'sent';
  }
}

interface PendingStatus {
  deliveryId: number;
  callback: TwilioStatusCallback;
  raw: Record<string, string>;
  resolve: (r: { changed: boolean; status: DeliveryStatus }) => void;
  reject: (err: unknown) => void;
}

type StatusDeps = Pick<Deps, 'db' | 'clock'>;

/**
 * Callbacks arriving together are written together: while one batch is being
 * committed, the next ones queue, then go in one statement and one commit. Each
 * caller still gets its own answer only once its row is committed. Under a burst
 * (Twilio reports on every message) this turns thousands of round trips and
 * fsyncs into a few dozen; alone, a callback waits for nobody.
 */
class StatusWriter {
  private queue: PendingStatus[] = [];
  private writing = false;
  constructor(private readonly deps: StatusDeps) {}

  record(deliveryId: number, callback: TwilioStatusCallback, raw: Record<string, string>) {
    return new Promise<{ changed: boolean; status: DeliveryStatus }>((resolve, reject) => {
      this.queue.push({ deliveryId, callback, raw, resolve, reject });
      void this.drain();
    });
  }

  private async drain() {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, 500);
        try {
          const results = await writeStatusBatch(this.deps, batch);
          batch.forEach((p, i) => {
            const r = results[i]!;
            if ('error' in r) p.reject(r.error);
            else p.resolve(r);
          });
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}

const writers = new WeakMap<object, StatusWriter>();

/**
 * Appends the callback, raw, to the delivery's event log and moves the delivery
 * forward only (a late "sent" after "delivered" changes nothing; a duplicate is
 * harmless). Resolves once that is committed, so the caller answers Twilio after it.
 */
export function recordTwilioStatus(
  deps: StatusDeps,
  deliveryId: number,
  callback: TwilioStatusCallback,
  raw: Record<string, string>,
): Promise<{ changed: boolean; status: DeliveryStatus }> {
  let writer = writers.get(deps.db);
  if (!writer) writers.set(deps.db, (writer = new StatusWriter(deps)));
  return writer.record(deliveryId, callback, raw);
}

async function writeStatusBatch(deps: StatusDeps, batch: Omit<PendingStatus, 'resolve' | 'reject'>[]) {
  const next = batch.map((b) => deliveryStatusFromTwilio(b.callback.status));
  const result = await sql<{ ord: number; status: DeliveryStatus | null; provider_id: string | null; phone: string | null; after: DeliveryStatus | null }>`
    WITH input AS (
      SELECT * FROM unnest(
        ${sql.val(batch.map((b) => b.deliveryId))}::bigint[],
        ${sql.val(batch.map((b) => b.callback.messageSid))}::text[],
        ${sql.val(batch.map((b) => b.callback.status))}::text[],
        ${sql.val(next)}::text[],
        ${sql.val(batch.map((b) => b.callback.errorCode ?? null))}::text[],
        ${sql.val(batch.map((b) => JSON.stringify(b.raw)))}::jsonb[]
      ) WITH ORDINALITY AS t(delivery_id, sid, twilio_status, next_status, error_code, raw, ord)
    ), d AS (
      SELECT d.id, d.status, d.provider_id, s.phone FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.id IN (SELECT delivery_id FROM input) AND d.channel = 'sms'
      ORDER BY d.id
      FOR UPDATE OF d
    ), ours AS (
      SELECT i.*, d.status AS current FROM input i JOIN d ON d.id = i.delivery_id
      WHERE d.provider_id IS NULL OR d.provider_id = i.sid
    ), event AS (
      INSERT INTO delivery_events (delivery_id, provider, status, error_code, raw)
      SELECT delivery_id, 'twilio', twilio_status, error_code, raw FROM ours ORDER BY ord
    ), best AS (
      -- Two callbacks for one message in one batch: the furthest status is the one that counts.
      SELECT DISTINCT ON (delivery_id) * FROM ours ORDER BY delivery_id, delivery_status_rank(next_status) DESC, ord DESC
    ), moved AS (
      UPDATE deliveries SET
        status = best.next_status,
        provider_id = coalesce(deliveries.provider_id, best.sid),
        error_code = coalesce(best.error_code, deliveries.error_code),
        last_error = CASE WHEN best.next_status IN ('failed', 'undelivered')
          THEN 'Twilio: ' || best.twilio_status || coalesce(' (' || best.error_code || ')', '') ELSE deliveries.last_error END,
        sent_at = coalesce(deliveries.sent_at, now()),
        lease_until = NULL,
        updated_at = now()
      FROM best
      WHERE deliveries.id = best.delivery_id AND delivery_status_rank(best.current) < delivery_status_rank(best.next_status)
      RETURNING deliveries.id, deliveries.status
    )
    SELECT i.ord::int AS ord, d.status, d.provider_id, d.phone, m.status AS after
    FROM input i LEFT JOIN d ON d.id = i.delivery_id LEFT JOIN moved m ON m.id = i.delivery_id
    ORDER BY i.ord`.execute(deps.db);

  const outcomes: ({ changed: boolean; status: DeliveryStatus } | { error: AppError })[] = [];
  for (const [i, b] of batch.entries()) {
    const row = result.rows[i]!;
    if (!row.status) {
      outcomes.push({ error: new AppError('NOT_FOUND', 'No SMS delivery with this id.') });
      continue;
    }
    if (row.provider_id && row.provider_id !== b.callback.messageSid) {
      outcomes.push({ error: new AppError('CONFLICT', 'This callback names another message than the delivery’s.') });
      continue;
    }
    const errorCode = b.callback.errorCode;
    if (row.phone && (errorCode === '21610' || errorCode === '21211')) {
      const event = { at: deps.clock.now(), ref: b.callback.messageSid, message: `Twilio ${errorCode} (status callback)` };
      if (errorCode === '21610') await markPhoneUnsubscribedByCarrier(deps.db, row.phone, event);
      else await markPhoneInvalid(deps.db, row.phone, event);
    }
    // Several callbacks of one batch moving one delivery: each reports the status it ended on.
    outcomes.push({ changed: row.after !== null, status: row.after ?? row.status });
  }
  return outcomes;
}
