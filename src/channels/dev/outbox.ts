import type { Db } from '../../db/connection';
import type { Channel, ChannelId, Channels, EmailMessage, MessageFor, PostMessage, SendResult, SmsMessage } from '../types';

/**
 * The adapter used for any channel without credentials: it records what would
 * have been sent (shown on /dev/outbox), so `npm start` shows the whole flow with
 * no account anywhere. A repeated idempotency key records nothing new.
 */
export function createDevChannel<C extends ChannelId>(db: Db, id: C): Channel<C> {
  return {
    id,
    kind: 'dev',
    account: `dev:${id}`,
    async send(message: MessageFor<C>, { idempotencyKey }): Promise<SendResult> {
      const row = describe(id, message);
      await db
        .insertInto('dev_outbox')
        .values({ channel: id, ...row, meta: JSON.stringify(row.meta), idempotency_key: idempotencyKey })
        .onConflict((oc) => oc.columns(['channel', 'idempotency_key']).doNothing())
        .execute();
      const sent = await db
        .selectFrom('dev_outbox')
        .select('id')
        .where('channel', '=', id)
        .where('idempotency_key', '=', idempotencyKey)
        .executeTakeFirstOrThrow();
      const providerId = `dev-${sent.id}`;
      if (id === 'sms' || id === 'email') return { ok: true, providerId };
      const parts = (message as PostMessage).parts.map((_, i) => ({ id: `${providerId}-${i + 1}`, url: `/dev/outbox#${sent.id}` }));
      return { ok: true, providerId, url: `/dev/outbox#${sent.id}`, parts };
    },
  };
}

function describe(id: ChannelId, message: SmsMessage | EmailMessage | PostMessage) {
  if (id === 'sms') {
    const m = message as SmsMessage;
    return { recipient: m.to, subject: null, body: m.body, meta: { mediaUrls: m.mediaUrls ?? [], statusCallback: m.statusCallback ?? null } };
  }
  if (id === 'email') {
    const m = message as EmailMessage;
    return {
      recipient: m.to,
      subject: m.subject,
      body: m.text,
      meta: { html: m.html, messageId: m.messageId, replyTo: m.replyTo ?? null, inReplyTo: m.inReplyTo ?? null, headers: m.headers ?? {} },
    };
  }
  const m = message as PostMessage;
  return {
    recipient: null,
    subject: null,
    body: m.parts.join('\n\n---\n\n'),
    meta: { parts: m.parts, image: m.image ? { contentType: m.image.contentType, alt: m.image.alt, bytes: m.image.data.byteLength } : null, inReplyTo: m.inReplyTo ?? null },
  };
}

export function createDevChannels(db: Db): Channels {
  return {
    sms: createDevChannel(db, 'sms'),
    email: createDevChannel(db, 'email'),
    mastodon: createDevChannel(db, 'mastodon'),
    bluesky: createDevChannel(db, 'bluesky'),
    x: createDevChannel(db, 'x'),
  };
}
