import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signatureHeader, verifyWebhookSignature } from '../../src/webhooks/signature';

describe('webhook signatures', () => {
  const secret = newWebhookSecret();
  const body = JSON.stringify({ id: 'e1', type: 'ping', occurred_at: '2026-11-22T08:00:00.000Z', data: { message: 'Bonjour, ça va ?' } });
  const now = Date.now();
  const ts = Math.floor(now / 1000);

  it('is the hex HMAC-SHA256 of "<timestamp>.<body>", as the README tells integrators to compute it', () => {
    const expected = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    expect(signatureHeader(secret, ts, body)).toBe(`v1=${expected}`);
  });

  it('verifies a genuine signature, from the raw body as a string or as bytes', () => {
    const sig = signatureHeader(secret, ts, body);
    expect(verifyWebhookSignature(secret, String(ts), body, sig)).toBe(true);
    expect(verifyWebhookSignature(secret, ts, Buffer.from(body, 'utf8'), sig)).toBe(true);
  });

  it('rejects another secret, a changed body, a changed timestamp and a malformed header', () => {
    const sig = signatureHeader(secret, ts, body);
    expect(verifyWebhookSignature(newWebhookSecret(), String(ts), body, sig)).toBe(false);
    expect(verifyWebhookSignature(secret, String(ts), body.replace('Bonjour', 'Bonsoir'), sig)).toBe(false);
    expect(verifyWebhookSignature(secret, String(ts - 1), body, sig)).toBe(false);
    expect(verifyWebhookSignature(secret, String(ts), body, sig.replace('v1=', 'v0='))).toBe(false);
    expect(verifyWebhookSignature(secret, String(ts), body, 'v1=zz')).toBe(false);
    expect(verifyWebhookSignature(secret, 'yesterday', body, sig)).toBe(false);
    expect(verifyWebhookSignature(secret, String(ts), body, '')).toBe(false);
  });

  it('rejects a timestamp outside the tolerance (a replayed request)', () => {
    const old = ts - 301;
    const sig = signatureHeader(secret, old, body);
    expect(verifyWebhookSignature(secret, String(old), body, sig)).toBe(false);
    expect(verifyWebhookSignature(secret, String(old), body, sig, 600)).toBe(true);
    expect(verifyWebhookSignature(secret, String(old), body, sig, 300, (old + 10) * 1000)).toBe(true);
  });

  it('accepts a header with several v1 values when one matches (room for a secret rotation)', () => {
    const sig = signatureHeader(secret, ts, body);
    const other = signatureHeader(newWebhookSecret(), ts, body);
    expect(verifyWebhookSignature(secret, String(ts), body, `${other}, ${sig}`)).toBe(true);
  });

  it('makes a new, prefixed secret each time', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
