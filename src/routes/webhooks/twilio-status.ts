import { Hono } from 'hono';
import { parseTwilioStatusCallback } from '../../channels/sms/twilio';
import type { Deps } from '../../deps';
import { recordTwilioStatus } from '../../fanout/status';
import type { AppEnv } from '../context';
import { idParam } from '../middleware';
import { readSignedTwilioForm } from './twilio-signature';

/** POST /webhooks/twilio/status/:deliveryId — each message's StatusCallback. */
export function twilioStatusRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.post('/status/:deliveryId', async (c) => {
    const form = await readSignedTwilioForm(c, deps);
    const deliveryId = idParam(c, 'deliveryId');
    const callback = parseTwilioStatusCallback(form);
    // Committed before the answer: a 2xx tells Twilio the status is safe with us.
    const { status, changed } = await recordTwilioStatus(deps, deliveryId, callback, form);
    deps.log.debug('twilio status', { deliveryId, twilioStatus: callback.status, status, changed });
    return c.body(null, 204);
  });
  return app;
}
