import { Hono } from 'hono';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import { handleInboundSms } from '../../subscribers/sms-inbound';
import type { AppEnv } from '../context';
import { readSignedTwilioForm } from './twilio-signature';

/**
 * Twilio's incoming-message webhook (mounted at /webhooks/twilio): POST /webhooks/twilio/sms. Unsigned or
 * wrongly signed requests are refused (403) before anything is stored; the answer is TwiML.
 */
export function twilioSmsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.post('/sms', async (c) => {
    const form = await readSignedTwilioForm(c, deps);
    const messageSid = form.MessageSid || form.SmsSid || '';
    const from = form.From ?? '';
    if (!/^[A-Za-z0-9]{10,64}$/.test(messageSid) || !from) throw new AppError('BAD_REQUEST', 'A message needs a MessageSid and a From.');

    const result = await handleInboundSms(deps, { messageSid, from, body: form.Body ?? '', optOutType: form.OptOutType || undefined });
    deps.log.info('inbound sms', { messageSid, outcome: result.outcome });
    return c.body(result.twiml, 200, { 'content-type': 'text/xml; charset=utf-8' });
  });

  return app;
}
