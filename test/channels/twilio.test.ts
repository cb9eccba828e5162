import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioChannel, parseTwilioStatusCallback } from '../../src/channels/sms/twilio';
import { AppError } from '../../src/errors';
import { startTwilioFake, type TwilioFake } from '../fakes/twilio';

const serviceSid = 'MG0123456789abcdef0123456789abcdef';

describe('Twilio adapter', () => {
  let fake: TwilioFake;
  beforeEach(async () => {
    fake = await startTwilioFake();
  });
  afterEach(() => fake.close());

  const channel = (opts: { messagingServiceSid?: string; from?: string; authToken?: string } = {}) =>
    createTwilioChannel({ accountSid: fake.accountSid, authToken: opts.authToken ?? fake.authToken, apiUrl: fake.url, ...opts });

  it('sends through the Messaging Service when there is one, even with a From number', async () => {
    const sms = channel({ messagingServiceSid: serviceSid, from: '+15005550006' });
    expect(sms.account).toBe(serviceSid);
    expect(await sms.send({ to: '+33612345678', body: 'Hello' }, { idempotencyKey: 'd1' })).toMatchObject({ ok: true });
    expect(fake.received).toMatchObject([{ messagingServiceSid: serviceSid, from: null }]);
  });

  it('sends from the From number otherwise', async () => {
    const sms = channel({ from: '+15005550006' });
    expect(sms.account).toBe('+15005550006');
    await sms.send({ to: '+33612345678', body: 'Hello' }, { idempotencyKey: 'd1' });
    expect(fake.received).toMatchObject([{ messagingServiceSid: null, from: '+15005550006' }]);
  });

  it('refuses to start without a sender', () => {
    expect(() => channel()).toThrow(/Messaging Service SID or a From number/);
  });

  it('passes the status callback and MMS media, and reports the segments Twilio counted', async () => {
    const body = 'Séisme : '.repeat(20);
    const result = await channel({ from: '+15005550006' }).send(
      { to: '+50937000000', body, mediaUrls: ['https://alerts.example.org/m/1.jpg', 'https://alerts.example.org/m/2.jpg'], statusCallback: 'https://alerts.example.org/webhooks/twilio/status/42' },
      { idempotencyKey: '42' },
    );
    expect(fake.received).toEqual([
      expect.objectContaining({
        to: '+50937000000',
        body,
        mediaUrls: ['https://alerts.example.org/m/1.jpg', 'https://alerts.example.org/m/2.jpg'],
        statusCallback: 'https://alerts.example.org/webhooks/twilio/status/42',
      }),
    ]);
    expect(result).toEqual({ ok: true, providerId: fake.received[0]!.sid, segments: 2 });
  });

  it("maps Twilio's own validation errors to final failures with its code", async () => {
    const result = await channel({ from: '+15005550006' }).send({ to: '0612345678', body: 'Hello' }, { idempotencyKey: 'd1' });
    expect(result).toMatchObject({ ok: false, retryable: false, code: '21211' });
    expect(fake.received).toEqual([]);
  });

  it('treats a wrong auth token as a final failure', async () => {
    const result = await channel({ from: '+15005550006', authToken: 'not-the-token' }).send({ to: '+33612345678', body: 'Hello' }, { idempotencyKey: 'd1' });
    expect(result).toEqual({ ok: false, retryable: false, code: '20003', error: 'Authenticate' });
  });
});

describe('parseTwilioStatusCallback', () => {
  const sid = 'SM0123456789abcdef0123456789abcdef';

  it('reads the status', () => {
    expect(parseTwilioStatusCallback({ MessageSid: sid, MessageStatus: 'delivered', AccountSid: 'AC1', ErrorCode: '' })).toEqual({ messageSid: sid, status: 'delivered' });
  });

  it('keeps the error code of a failed delivery', () => {
    expect(parseTwilioStatusCallback({ MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' })).toEqual({ messageSid: sid, status: 'undelivered', errorCode: '30003' });
  });

  it('accepts the older SmsSid/SmsStatus names', () => {
    expect(parseTwilioStatusCallback({ SmsSid: sid, SmsStatus: 'sent' })).toEqual({ messageSid: sid, status: 'sent' });
  });

  it('rejects a callback without a message SID or with an unknown status', () => {
    expect(() => parseTwilioStatusCallback({ MessageStatus: 'delivered' })).toThrow(AppError);
    expect(() => parseTwilioStatusCallback({ MessageSid: sid, MessageStatus: 'exploded' })).toThrow(/unknown MessageStatus/);
  });
});
