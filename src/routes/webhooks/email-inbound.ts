import { createHmac } from 'node:crypto';
import { Hono } from 'hono';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { receiveInboundEmail } from '../../replies/email-inbound';
import { safeEqual } from '../../staff/tokens';
import type { AppEnv } from '../context';

/**
 * POST /webhooks/email/inbound: a raw MIME message forwarded by the mail server
 * or relay (e.g. an MTA pipe, Mailgun/Postmark "raw" routes), authenticated by
 * `X-Tocsin-Signature: sha256=<hex HMAC-SHA256 of the body with INBOUND_EMAIL_SECRET>`.
 */
export function emailInboundRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.post('/inbound', async (c) => {
    const secret = deps.config.INBOUND_EMAIL_SECRET;
    if (!secret) {
      deps.log.warn('inbound email refused: INBOUND_EMAIL_SECRET is not set');
      throw new AppError('FORBIDDEN', 'Inbound email is refused until INBOUND_EMAIL_SECRET is set.');
    }
    const raw = Buffer.from(await c.req.arrayBuffer());
    const expected = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
    const sent = c.req.header('x-tocsin-signature') ?? '';
    if (!safeEqual(sent, expected)) {
      deps.log.warn('inbound email refused: missing or wrong X-Tocsin-Signature', { signed: Boolean(sent) });
      throw new AppError('FORBIDDEN', 'Missing or wrong X-Tocsin-Signature.');
    }
    if (raw.length === 0) throw new AppError('BAD_REQUEST', 'The body must be a raw email (message/rfc822).');
    const result = await receiveInboundEmail(deps, raw);
    return c.json(result, result.outcome === 'ignored' ? 202 : 200);
  });
  return app;
}
