import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How Tocsin signs each webhook request, and how a receiver checks it:
 *   Tocsin-Timestamp: <unix seconds>
 *   Tocsin-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the endpoint's secret>
 * The timestamp is inside the signed text, so a captured request cannot be replayed later than the tolerance.
 * The header may carry several `v1=` values separated by commas (room for a secret rotation); one match is enough.
 */
export const signatureScheme = 'v1';

/** Recognisable in logs and secret scanners; the rest is 256 random bits. */
export const webhookSecretPrefix = 'whsec_';

export function newWebhookSecret(): string {
  return `${webhookSecretPrefix}${randomBytes(32).toString('base64url')}`;
}

export function signWebhookPayload(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`);
  hmac.update(body);
  return hmac.digest('hex');
}

/** The value of the Tocsin-Signature header. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `${signatureScheme}=${signWebhookPayload(secret, timestamp, body)}`;
}

/**
 * For receivers (and Tocsin's tests): true when `signature` (the Tocsin-Signature header) is a valid signature of
 * `body` (the raw request body, exactly as received) at `timestamp` (the Tocsin-Timestamp header), made with
 * `secret`, and the timestamp is within `toleranceSeconds` of now.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number,
  body: string | Uint8Array,
  signature: string,
  toleranceSeconds = 300,
  nowMs = Date.now(),
): boolean {
  const ts = typeof timestamp === 'number' ? timestamp : /^\d{1,12}$/.test(timestamp.trim()) ? Number(timestamp.trim()) : NaN;
  if (!Number.isSafeInteger(ts)) return false;
  if (Math.abs(nowMs / 1000 - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhookPayload(secret, ts, body), 'hex');
  return signature.split(',').some((part) => {
    const [scheme, value] = part.trim().split('=', 2);
    if (scheme !== signatureScheme || !value || !/^[0-9a-f]{64}$/i.test(value)) return false;
    return timingSafeEqual(Buffer.from(value, 'hex'), expected);
  });
}
