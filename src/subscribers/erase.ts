import { sql } from 'kysely';
import { insertAuditEntry } from '../db/audit';
import { blankRepliesOf } from '../db/replies';
import type { Staff } from '../db/schema';
import type { NewConsentEntry } from '../db/schema-subscribers';
import { deleteConsentEntriesForErasure, deleteSubscriptionsOf, eraseSubscriberRow, insertConsentEntries, lockSubscriber } from '../db/subscribers';
import type { Deps } from '../deps';
import { AppError } from '../errors';

/**
 * Erasure on request (GDPR art. 17), by an admin: phone and email are removed, what they followed and the
 * consent history go, the text and sender of their replies are blanked. The subscriber row stays, empty, so
 * anonymised history (deliveries, counts) keeps its references. The consent log ends with one `erased` entry per
 * channel that holds no personal data, and the audit log says who erased whom (by id) and when.
 */
export async function eraseSubscriber(deps: Pick<Deps, 'db' | 'clock'>, admin: Staff, subscriberId: number, ip: string): Promise<void> {
  if (admin.role !== 'admin') throw new AppError('FORBIDDEN', 'Only an admin can erase a subscriber.');
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const subscriber = await lockSubscriber(trx, subscriberId);
    if (!subscriber) throw new AppError('NOT_FOUND', 'No such subscriber.');
    if (subscriber.erased_at) throw new AppError('CONFLICT', 'This subscriber was already erased.');
    const removed = await deleteConsentEntriesForErasure(trx, subscriber.id);
    await deleteSubscriptionsOf(trx, subscriber.id);
    const replies = await blankRepliesOf(trx, subscriber.id, { phone: subscriber.phone, email: subscriber.email });
    // Deliveries stay, as anonymised history: they point at this now empty row and hold no address of their
    // own. The provider's raw status callbacks name the recipient, so they lose their addresses here.
    await sql`UPDATE delivery_events SET raw = raw - 'To' - 'From' - 'to' - 'from'
              WHERE delivery_id IN (SELECT id FROM deliveries WHERE subscriber_id = ${subscriber.id})`.execute(trx);
    // The answers staff sent them quote the conversation.
    await sql`UPDATE reply_answers SET body = '' WHERE reply_id IN (SELECT id FROM replies WHERE subscriber_id = ${subscriber.id})`.execute(trx);
    await eraseSubscriberRow(trx, subscriber.id, now);
    const channels: NewConsentEntry['channel'][] = [];
    if (subscriber.phone) channels.push('sms');
    if (subscriber.email) channels.push('email');
    await insertConsentEntries(
      trx,
      channels.map((channel) => ({ at: now, subscriber_id: subscriber.id, campaign_id: null, channel, action: 'erased' as const, source: 'staff' as const, source_ref: null, staff_id: admin.id, shown_text: null, detail: null })),
    );
    await insertAuditEntry(trx, {
      staffId: admin.id,
      actor: admin.email,
      action: 'subscriber.erased',
      target: `subscriber #${subscriber.id}`,
      ip,
      at: now,
      detail: { consentEntriesRemoved: removed, repliesBlanked: replies, channels },
    });
  });
}
