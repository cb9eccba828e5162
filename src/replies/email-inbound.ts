import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import type { Deps } from '../deps';
import { deliveryIdFromReplyAddress } from '../fanout/reply-address';
import { unsubscribeByLink } from '../subscribers/email-subscription';
import { looksLikeOptOut } from '../subscribers/keywords';
import { tokenFromUnsubscribeSubject, unsubscribeMailbox } from '../subscribers/links';
import { stripQuotedText } from './quotes';

type D = Pick<Deps, 'db' | 'clock' | 'secret' | 'config' | 'log'>;

/** Addresses as written: a reply token's signature is case-sensitive, so callers lower-case only to compare. */
function addresses(...fields: (AddressObject | AddressObject[] | undefined)[]): string[] {
  return fields
    .flatMap((f) => (f ? (Array.isArray(f) ? f : [f]) : []))
    .flatMap((a) => a.value.map((v) => v.address ?? ''))
    .filter(Boolean);
}

const bodyLimit = 10_000;

export type InboundEmailOutcome =
  | { outcome: 'reply'; replyId: number; updateId: number | null; duplicate: boolean }
  | { outcome: 'unsubscribed' }
  | { outcome: 'ignored'; reason: string };

/**
 * An email that came back: parsed with mailparser, linked to the delivery it
 * answers through its Reply-To token (or its In-Reply-To header), stored once per
 * Message-ID without the text it quotes. Mail to the unsubscribe mailbox with its
 * token in the subject unsubscribes, like the one-click link.
 */
export async function receiveInboundEmail(deps: D, raw: Buffer): Promise<InboundEmailOutcome> {
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const from = addresses(mail.from)[0]?.toLowerCase();
  if (!from) return { outcome: 'ignored', reason: 'no sender' };
  const recipients = addresses(mail.to, mail.cc);
  // Auto-replies ("out of office") are not answers anyone should read as such.
  const auto = String(mail.headers.get('auto-submitted') ?? 'no').toLowerCase();
  if (auto !== 'no' && auto !== '') return { outcome: 'ignored', reason: 'automatic reply' };

  if (recipients.some((r) => r.toLowerCase() === unsubscribeMailbox(deps.config).toLowerCase())) {
    const token = tokenFromUnsubscribeSubject(mail.subject ?? '');
    if (!token) return { outcome: 'ignored', reason: 'unsubscribe mail without a token' };
    const done = await unsubscribeByLink(deps, token, { source: 'email_link', ref: mail.messageId ?? null, shownText: null });
    return done.ok ? { outcome: 'unsubscribed' } : { outcome: 'ignored', reason: `unsubscribe token ${done.reason}` };
  }

  let deliveryId: number | null = null;
  for (const a of recipients) deliveryId ??= deliveryIdFromReplyAddress(deps, a);
  const host = new URL(deps.config.PUBLIC_URL).hostname;
  const referenced = [mail.inReplyTo ?? '', ...([] as string[]).concat(mail.references ?? [])];
  if (deliveryId === null) {
    for (const ref of referenced) {
      const m = new RegExp(`<?delivery-(\\d+)@${host.replace(/\./g, '\\.')}>?`).exec(ref);
      if (m) {
        deliveryId = Number(m[1]);
        break;
      }
    }
  }
  const delivery = deliveryId
    ? await deps.db
        .selectFrom('deliveries as d')
        .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
        .select(['d.update_id', 'd.subscriber_id', 's.email'])
        .where('d.id', '=', deliveryId)
        .executeTakeFirst()
    : undefined;
  // An answer to one of our inbox answers continues that conversation.
  let answered: { update_id: number | null; subscriber_id: number | null } | undefined;
  if (!delivery) {
    const ref = referenced.map((r) => new RegExp(`<?answer-(\\d+)@${host.replace(/\./g, '\\.')}>?`).exec(r)).find(Boolean);
    if (ref) {
      answered = await deps.db
        .selectFrom('reply_answers as x')
        .innerJoin('replies as r', 'r.id', 'x.reply_id')
        .select(['r.update_id', 'r.subscriber_id'])
        .where('x.id', '=', Number(ref[1]))
        .executeTakeFirst();
    }
  }
  const known = delivery ? { id: delivery.subscriber_id } : answered?.subscriber_id ? { id: answered.subscriber_id } : undefined;
  const subscriber = known ?? await deps.db.selectFrom('subscribers').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', from)).executeTakeFirst();
  const text = stripQuotedText(mail.text ?? '').slice(0, bodyLimit) || '(empty)';
  const messageId = mail.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;

  const inserted = await deps.db
    .insertInto('replies')
    .values({
      channel: 'email',
      subscriber_id: subscriber?.id ?? null,
      sender: from,
      body: text,
      provider_message_id: messageId,
      possible_opt_out: looksLikeOptOut(text),
      update_id: delivery?.update_id ?? answered?.update_id ?? null,
      received_at: deps.clock.now(),
      meta: JSON.stringify({ subject: mail.subject ?? '', messageId, references: referenced.filter(Boolean) }),
    })
    .onConflict((oc) => oc.columns(['channel', 'provider_message_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) {
    const existing = await deps.db.selectFrom('replies').select(['id', 'update_id']).where('channel', '=', 'email').where('provider_message_id', '=', messageId).executeTakeFirstOrThrow();
    return { outcome: 'reply', replyId: existing.id, updateId: existing.update_id, duplicate: true };
  }
  deps.log.info('email reply stored', { replyId: inserted.id, updateId: delivery?.update_id ?? null, linked: Boolean(delivery) });
  return { outcome: 'reply', replyId: inserted.id, updateId: delivery?.update_id ?? null, duplicate: false };
}
