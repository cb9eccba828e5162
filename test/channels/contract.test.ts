/**
 * The contract every channel adapter keeps, checked with the real client library
 * against its fake server: what a success returns and delivers, and which failures
 * the fan-out may retry (5xx, 429, timeouts, refused connections) or must not (4xx).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDevChannel } from '../../src/channels/dev/outbox';
import { createSmtpChannel } from '../../src/channels/email/smtp';
import { createBlueskyChannel } from '../../src/channels/microblog/bluesky';
import { createMastodonChannel } from '../../src/channels/microblog/mastodon';
import { createXChannel } from '../../src/channels/microblog/x';
import { createTwilioChannel } from '../../src/channels/sms/twilio';
import type { Channel, ChannelId, EmailMessage, MessageFor, PostMessage, SendResult, SmsMessage } from '../../src/channels/types';
import { startBlueskyFake } from '../fakes/bluesky';
import { startMastodonFake } from '../fakes/mastodon';
import { startSmtpFake } from '../fakes/smtp';
import { startTwilioFake } from '../fakes/twilio';
import { startXFake } from '../fakes/x';
import { createTestDatabase } from '../helpers/db';

const timeoutMs = 250;

interface Harness {
  channel: Channel;
  message: MessageFor<ChannelId>;
  /** What the fake recorded, each with the id it gave, in the shape of `expected`. */
  received(): { providerId: string; message: unknown }[];
  expected: unknown;
  /** Scripts one temporary failure (5xx, or an SMTP 4xx). */
  temporaryFaults: Record<string, () => void>;
  /** Scripts a final refusal; returns the code and message the result must carry. */
  finalFault(): { code: string; error: string };
  /** Scripts a rate limit asking to wait `seconds`; false where the protocol cannot say how long (SMTP). */
  rateLimit(seconds: number): { saysHowLong: boolean };
  hang(): void;
  /** Stops the fake: the next send finds nothing listening. */
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

const sms: SmsMessage = { to: '+33612345678', body: 'Séisme à Jacmel : besoin d’eau potable. Répondez STOP pour ne plus recevoir.' };
const email: EmailMessage = {
  to: 'donor@example.net',
  subject: 'Séisme : besoin d’eau',
  text: 'We need water in Jacmel.',
  html: '<p>We need <strong>water</strong> in Jacmel.</p>',
  messageId: 'delivery-42.update-7@alerts.example.org',
  headers: { 'List-Unsubscribe': '<https://alerts.example.org/u/abc>' },
};
const post: PostMessage = { parts: ['Séisme à Jacmel : besoin d’eau potable.'] };

const vendors: { name: string; start(): Promise<Harness> }[] = [
  {
    name: 'Twilio',
    async start() {
      const fake = await startTwilioFake();
      const channel = createTwilioChannel({ accountSid: fake.accountSid, authToken: fake.authToken, from: '+15005550006', apiUrl: fake.url, timeoutMs });
      return {
        channel: channel as Channel,
        message: sms,
        received: () => fake.received.map((m) => ({ providerId: m.sid, message: { to: m.to, from: m.from, body: m.body, mediaUrls: m.mediaUrls, statusCallback: m.statusCallback } })),
        expected: { to: sms.to, from: '+15005550006', body: sms.body, mediaUrls: [], statusCallback: null },
        temporaryFaults: { '500': () => fake.failNext(1, { status: 500 }), '503': () => fake.failNext(1, { status: 503 }) },
        finalFault() {
          fake.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
          return { code: '21610', error: 'Attempt to send to unsubscribed recipient' };
        },
        rateLimit(seconds) {
          fake.failNext(1, { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: seconds });
          return { saysHowLong: true };
        },
        hang() {
          fake.hang = true;
        },
        stop: () => fake.close(),
        dispose: () => fake.close(),
      };
    },
  },
  {
    name: 'SMTP',
    async start() {
      const fake = await startSmtpFake({ user: 'mailer', password: 'smtp-secret' });
      const channel = createSmtpChannel({ host: fake.host, port: fake.port, secure: false, user: 'mailer', password: 'smtp-secret', from: 'alerts@example.org', timeoutMs });
      return {
        channel: channel as Channel,
        message: email,
        received: () =>
          fake.received.map((m) => ({
            providerId: m.headers['message-id']!.replace(/^<|>$/g, ''),
            message: { to: m.envelope.to, from: m.envelope.from, subject: m.subject, text: m.text, html: m.html, listUnsubscribe: m.headers['list-unsubscribe'] },
          })),
        expected: { to: [email.to], from: 'alerts@example.org', subject: email.subject, text: email.text, html: email.html, listUnsubscribe: '<https://alerts.example.org/u/abc>' },
        temporaryFaults: {
          '421 at RCPT': () => fake.failNext(1, { code: 421, message: '4.7.0 Try again later', at: 'rcpt' }),
          '451 after DATA': () => fake.failNext(1, { code: 451, message: '4.3.0 Local error in processing', at: 'data' }),
        },
        finalFault() {
          fake.failNext(1, { code: 550, message: '5.1.1 Mailbox unavailable' });
          return { code: '550', error: '5.1.1 Mailbox unavailable' };
        },
        // SMTP servers throttle with a 4xx and no delay: retry, on the fan-out's own schedule.
        rateLimit() {
          fake.failNext(1, { code: 450, message: '4.7.1 Rate limit exceeded, slow down', at: 'rcpt' });
          return { saysHowLong: false };
        },
        hang() {
          fake.hang = true;
        },
        stop: () => fake.close(),
        async dispose() {
          await channel.close?.();
          await fake.close();
        },
      };
    },
  },
  {
    name: 'Mastodon',
    async start() {
      const fake = await startMastodonFake();
      const channel = createMastodonChannel({ url: fake.url, token: fake.token, timeoutMs });
      return {
        channel: channel as Channel,
        message: post,
        received: () => fake.received.map((s) => ({ providerId: s.id, message: { status: s.status, inReplyToId: s.inReplyToId, visibility: s.visibility, mediaIds: s.mediaIds } })),
        expected: { status: post.parts[0], inReplyToId: null, visibility: 'public', mediaIds: [] },
        temporaryFaults: { '500': () => fake.failNext(1, { status: 500 }), '503': () => fake.failNext(1, { status: 503 }) },
        finalFault() {
          fake.failNext(1, { status: 422, message: "Validation failed: Text can't be blank" });
          return { code: '422', error: "Validation failed: Text can't be blank" };
        },
        rateLimit(seconds) {
          fake.failNext(1, { status: 429, message: 'Too many requests', retryAfter: seconds });
          return { saysHowLong: true };
        },
        hang() {
          fake.hang = true;
        },
        stop: () => fake.close(),
        dispose: () => fake.close(),
      };
    },
  },
  {
    name: 'Bluesky',
    async start() {
      const fake = await startBlueskyFake();
      const channel = createBlueskyChannel({ service: fake.url, handle: fake.handle, appPassword: fake.appPassword, timeoutMs });
      return {
        channel: channel as Channel,
        message: post,
        received: () => fake.received.map((p) => ({ providerId: p.uri, message: { text: p.record.text, reply: p.record.reply } })),
        expected: { text: post.parts[0], reply: undefined },
        temporaryFaults: { '500': () => fake.failNext(1, { status: 500 }), '503': () => fake.failNext(1, { status: 503 }) },
        finalFault() {
          fake.failNext(1, { status: 400, code: 'InvalidRequest', message: 'Invalid app.bsky.feed.post record' });
          return { code: 'InvalidRequest', error: 'Invalid app.bsky.feed.post record' };
        },
        rateLimit(seconds) {
          fake.failNext(1, { status: 429, code: 'RateLimitExceeded', message: 'Rate Limit Exceeded', retryAfter: seconds });
          return { saysHowLong: true };
        },
        hang() {
          fake.hang = true;
        },
        stop: () => fake.close(),
        dispose: () => fake.close(),
      };
    },
  },
  {
    name: 'X',
    async start() {
      const fake = await startXFake();
      const channel = createXChannel({ apiUrl: fake.url, appKey: fake.appKey, appSecret: fake.appSecret, accessToken: fake.accessToken, accessSecret: fake.accessSecret, timeoutMs });
      return {
        channel: channel as Channel,
        message: post,
        received: () => fake.received.map((t) => ({ providerId: t.id, message: { text: t.text, inReplyToTweetId: t.inReplyToTweetId, mediaIds: t.mediaIds } })),
        expected: { text: post.parts[0], inReplyToTweetId: null, mediaIds: [] },
        temporaryFaults: { '500': () => fake.failNext(1, { status: 500 }), '503': () => fake.failNext(1, { status: 503 }) },
        finalFault() {
          fake.failNext(1, { status: 403, message: 'You are not allowed to create a Tweet with duplicate content.' });
          return { code: '403', error: 'You are not allowed to create a Tweet with duplicate content.' };
        },
        rateLimit(seconds) {
          fake.failNext(1, { status: 429, message: 'Too Many Requests', retryAfter: seconds });
          return { saysHowLong: true };
        },
        hang() {
          fake.hang = true;
        },
        stop: () => fake.close(),
        dispose: () => fake.close(),
      };
    },
  },
];

function failure(result: SendResult) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

describe.each(vendors)('$name adapter keeps the channel contract', ({ start }) => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(() => h.dispose());

  const send = () => h.channel.send(h.message, { idempotencyKey: 'delivery-42' });

  it('delivers exactly the message and returns the provider id', async () => {
    const result = await send();
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(h.received()).toEqual([{ providerId: result.providerId, message: h.expected }]);
  });

  it('reports temporary failures as retryable, having delivered nothing', async () => {
    for (const [label, script] of Object.entries(h.temporaryFaults)) {
      script();
      expect(failure(await send()), label).toMatchObject({ retryable: true });
    }
    expect(h.received()).toEqual([]);
  });

  it('reports a final refusal as not retryable, with the provider code and message', async () => {
    const expected = h.finalFault();
    const result = failure(await send());
    expect(result).toMatchObject({ retryable: false, code: expected.code });
    expect(result.error).toContain(expected.error);
    expect(h.received()).toEqual([]);
  });

  it('reports a rate limit as retryable, with how long to wait where the provider says', async () => {
    const { saysHowLong } = h.rateLimit(30);
    const result = failure(await send());
    expect(result.retryable).toBe(true);
    if (!saysHowLong) return expect(result.retryAfter).toBeUndefined();
    // Some providers send a reset time rather than a delay: a second may have passed since.
    expect(result.retryAfter).toBeGreaterThanOrEqual(29);
    expect(result.retryAfter).toBeLessThanOrEqual(30);
  });

  it('gives up on a server that never answers within the timeout, as retryable', async () => {
    h.hang();
    const started = performance.now();
    const result = failure(await send());
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ retryable: true, code: 'TIMEOUT' });
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 10);
    expect(elapsed).toBeLessThan(timeoutMs + 1_000);
  });

  it('reports a refused connection as retryable', async () => {
    await h.stop();
    expect(failure(await send())).toMatchObject({ retryable: true });
  });
});

describe('the dev adapter keeps the channel contract', async () => {
  const { db } = await createTestDatabase();
  const messages: { [C in ChannelId]: MessageFor<C> } = { sms, email, mastodon: post, bluesky: post, x: post };

  it.each(Object.keys(messages) as ChannelId[])('%s: records the message in the dev outbox, once per idempotency key', async (id) => {
    const channel = createDevChannel(db, id) as Channel;
    const first = await channel.send(messages[id], { idempotencyKey: `contract-${id}` });
    const again = await channel.send(messages[id], { idempotencyKey: `contract-${id}` });
    expect(first).toMatchObject({ ok: true, providerId: expect.stringMatching(/^dev-\d+$/) });
    expect(again).toEqual(first);
    const rows = await db.selectFrom('dev_outbox').selectAll().where('channel', '=', id).where('idempotency_key', '=', `contract-${id}`).execute();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    if (id === 'sms') expect(row).toMatchObject({ recipient: sms.to, body: sms.body });
    else if (id === 'email') expect(row).toMatchObject({ recipient: email.to, subject: email.subject, body: email.text });
    else expect(row).toMatchObject({ recipient: null, body: post.parts[0] });
  });
});
