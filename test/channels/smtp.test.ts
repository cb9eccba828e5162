import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSmtpChannel, defaultEmailFrom, type SmtpChannelOptions } from '../../src/channels/email/smtp';
import type { Channel, EmailMessage } from '../../src/channels/types';
import { startSmtpFake, type SmtpFake } from '../fakes/smtp';

const message: EmailMessage = {
  to: 'donor@example.net',
  subject: 'Séisme : besoin d’eau',
  text: 'We need water in Jacmel.\nhttps://alerts.example.org/u/7',
  html: '<p>We need <strong>water</strong> in Jacmel.</p>',
  messageId: 'delivery-42.update-7@alerts.example.org',
  replyTo: 'team@example.org',
  inReplyTo: 'update-6@alerts.example.org',
  references: ['update-5@alerts.example.org', 'update-6@alerts.example.org'],
  headers: {
    'List-Unsubscribe': '<https://alerts.example.org/unsubscribe/d42-4f1c9a7e0b2d4c6f8a1e3b5d7f9c0a2e4b6d8f0a>, <mailto:unsubscribe@alerts.example.org?subject=d42>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
};

describe('SMTP adapter', () => {
  let fake: SmtpFake;
  let channel: Channel<'email'>;
  const open = (opts: Partial<SmtpChannelOptions> = {}) => {
    channel = createSmtpChannel({ host: fake.host, port: fake.port, secure: false, from: defaultEmailFrom('Fondation Élan', 'https://alerts.example.org:8443'), timeoutMs: 2_000, ...opts });
    return channel;
  };
  beforeEach(async () => {
    fake = await startSmtpFake();
  });
  afterEach(async () => {
    await channel?.close?.();
    await fake.close();
  });

  it('sends both parts with the threading, reply and unsubscribe headers as given', async () => {
    const result = await open().send(message, { idempotencyKey: 'd42' });
    expect(result).toEqual({ ok: true, providerId: message.messageId });
    const [got] = fake.received;
    expect(got).toMatchObject({ subject: message.subject, text: message.text, html: message.html, envelope: { from: 'no-reply@alerts.example.org', to: [message.to] } });
    expect(got!.headers).toMatchObject({
      'message-id': '<delivery-42.update-7@alerts.example.org>',
      'reply-to': 'team@example.org',
      'in-reply-to': '<update-6@alerts.example.org>',
      references: '<update-5@alerts.example.org> <update-6@alerts.example.org>',
      'list-unsubscribe': message.headers!['List-Unsubscribe'],
      'list-unsubscribe-post': 'List-Unsubscribe=One-Click',
    });
    expect(got!.headers['content-type']).toMatch(/^multipart\/alternative;/);
    // Not folded either: one-click unsubscribe readers are not all forgiving.
    expect(got!.raw!.split('\r\n')).toContain(`List-Unsubscribe: ${message.headers!['List-Unsubscribe']}`);
    expect(got!.headers.from).toMatch(/<no-reply@alerts\.example\.org>$/);
  });

  it('refuses a header value with a line break, sending nothing', async () => {
    const result = await open().send({ ...message, headers: { 'X-Campaign': 'haiti\r\nBcc: everyone@example.org' } }, { idempotencyKey: 'd42' });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(fake.received).toEqual([]);
  });

  it('keeps to maxConnections however many sends are in flight', async () => {
    const mail = open({ maxConnections: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => mail.send({ ...message, to: `donor${i}@example.net`, messageId: `d${i}@alerts.example.org` }, { idempotencyKey: `d${i}` })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.received.map((m) => m.envelope.to[0]).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `donor${i}@example.net`).sort());
    expect(fake.connections).toBeLessThanOrEqual(2);
  });

  it('treats a 4xx after DATA as retryable and a 5xx there as final', async () => {
    const mail = open();
    fake.failNext(1, { code: 452, message: '4.3.1 Insufficient system storage', at: 'data' });
    expect(await mail.send(message, { idempotencyKey: 'd42' })).toMatchObject({ ok: false, retryable: true, code: '452' });
    fake.failNext(1, { code: 554, message: '5.7.1 Message rejected as spam', at: 'data' });
    expect(await mail.send(message, { idempotencyKey: 'd42' })).toMatchObject({ ok: false, retryable: false, code: '554' });
    expect(fake.received).toEqual([]);
  });

  it('logs in when the server requires it, and reports refused credentials as final', async () => {
    await fake.close();
    fake = await startSmtpFake({ user: 'mailer', password: 'right' });
    expect(await open({ user: 'mailer', password: 'right' }).send(message, { idempotencyKey: 'd42' })).toMatchObject({ ok: true });
    await channel.close?.();
    expect(await open({ user: 'mailer', password: 'wrong' }).send(message, { idempotencyKey: 'd43' })).toMatchObject({ ok: false, retryable: false, code: '535' });
    expect(fake.received).toHaveLength(1);
  });
});

describe('defaultEmailFrom', () => {
  it('names the foundation and uses the public host without its port', () => {
    expect(defaultEmailFrom('Fondation Élan', 'https://alerts.example.org:8443')).toEqual({ name: 'Fondation Élan', address: 'no-reply@alerts.example.org' });
  });
});
