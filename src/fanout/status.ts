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

/**
 * Appends the callback, raw, to the delivery's event log and moves the delivery
 * forward only (a late "sent" after "delivered" changes nothing; a duplicate is
 * harmless). One statement, so one round trip and one commit, done before the
 * caller answers Twilio.
 */
export async function recordTwilioStatus(
  deps: Pick<Deps, 'db' | 'clock'>,
  deliveryId: number,
  callback: TwilioStatusCallback,
  raw: Record<string, string>,
): Promise<{ changed: boolean; status: DeliveryStatus }> {
  const next = deliveryStatusFromTwilio(callback.status);
  const errorCode = callback.errorCode ?? null;
  const lastError = `Twilio: ${callback.status}${errorCode ? ` (${errorCode})` : ''}`;
  const result = await sql<{ status: DeliveryStatus; provider_id: string | null; phone: string | null; after: DeliveryStatus | null }>`
    WITH d AS (
      SELECT d.id, d.status, d.provider_id, s.phone FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.id = ${deliveryId} AND d.channel = 'sms'
      FOR UPDATE OF d
    ), ours AS (
      SELECT * FROM d WHERE d.provider_id IS NULL OR d.provider_id = ${callback.messageSid}
    ), event AS (
      INSERT INTO delivery_events (delivery_id, provider, status, error_code, raw)
      SELECT ours.id, 'twilio', ${callback.status}, ${errorCode}, ${JSON.stringify(raw)}::jsonb FROM ours
    ), moved AS (
      UPDATE deliveries SET
        status = ${next},
        provider_id = coalesce(deliveries.provider_id, ${callback.messageSid}),
        error_code = coalesce(${errorCode}, deliveries.error_code),
        last_error = CASE WHEN ${next} IN ('failed', 'undelivered') THEN ${lastError} ELSE deliveries.last_error END,
        sent_at = coalesce(deliveries.sent_at, now()),
        lease_until = NULL,
        updated_at = now()
      FROM ours
      WHERE deliveries.id = ours.id AND delivery_status_rank(ours.status) < delivery_status_rank(${next})
      RETURNING deliveries.status
    )
    SELECT d.status, d.provider_id, d.phone, (SELECT status FROM moved) AS after FROM d`.execute(deps.db);
  const row = result.rows[0];
  if (!row) throw new AppError('NOT_FOUND', 'No SMS delivery with this id.');
  if (row.provider_id && row.provider_id !== callback.messageSid) {
    throw new AppError('CONFLICT', 'This callback names another message than the delivery’s.');
  }
  if (row.phone && (errorCode === '21610' || errorCode === '21211')) {
    const event = { at: deps.clock.now(), ref: callback.messageSid, message: `Twilio ${errorCode} (status callback)` };
    if (errorCode === '21610') await markPhoneUnsubscribedByCarrier(deps.db, row.phone, event);
    else await markPhoneInvalid(deps.db, row.phone, event);
  }
  return { changed: row.after !== null, status: row.after ?? row.status };
}
