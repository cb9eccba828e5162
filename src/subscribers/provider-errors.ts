import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { findSubscriberByPhone, insertConsentEntries, setChannelOptOut, setPhoneInvalid } from '../db/subscribers';

type Q = Kysely<Database> | Transaction<Database>;

export interface ProviderEvent {
  at: Date;
  /** What reported it: the Twilio message SID or the delivery id. */
  ref?: string | null;
  /** The provider's message, kept in the consent log. */
  message?: string | null;
}

/**
 * Twilio error 21610: the person texted STOP to the carrier or to Twilio, so no SMS reaches them. Recorded as
 * a global SMS opt-out, which only their own START lifts. Returns whether anything changed (false for an
 * unknown number or one already opted out). The fan-out calls this when a send fails with 21610.
 */
export async function markPhoneUnsubscribedByCarrier(db: Q, phone: string, event: ProviderEvent): Promise<boolean> {
  const subscriber = await findSubscriberByPhone(db, phone);
  if (!subscriber || !(await setChannelOptOut(db, subscriber.id, 'sms', event.at))) return false;
  await insertConsentEntries(db, [
    { at: event.at, subscriber_id: subscriber.id, campaign_id: null, channel: 'sms', action: 'opt_out_all', source: 'carrier_opt_out', source_ref: event.ref ?? null, staff_id: null, shown_text: null, detail: event.message ?? 'Twilio 21610' },
  ]);
  return true;
}

/**
 * Twilio error 21211: the number is not a valid phone number. SMS stop going to it (the fan-out's recipient
 * query skips phone_invalid_at) until the person texts us from it. The fan-out calls this on 21211.
 */
export async function markPhoneInvalid(db: Q, phone: string, event: ProviderEvent): Promise<boolean> {
  const subscriber = await findSubscriberByPhone(db, phone);
  if (!subscriber || !(await setPhoneInvalid(db, subscriber.id, event.at))) return false;
  await insertConsentEntries(db, [
    { at: event.at, subscriber_id: subscriber.id, campaign_id: null, channel: 'sms', action: 'invalid', source: 'provider_error', source_ref: event.ref ?? null, staff_id: null, shown_text: null, detail: event.message ?? 'Twilio 21211' },
  ]);
  return true;
}
