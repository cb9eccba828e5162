import twilio from 'twilio';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import type { AppContext } from '../context';

/**
 * The form of a Twilio webhook, once its X-Twilio-Signature is proven: checked
 * against PUBLIC_URL + the path (the URL Twilio was given), never the Host header a
 * proxy rewrites. Anything unsigned is refused (403) before it is read further.
 */
export async function readSignedTwilioForm(c: AppContext, deps: Pick<Deps, 'config' | 'log'>): Promise<Record<string, string>> {
  const authToken = deps.config.TWILIO_AUTH_TOKEN;
  if (!authToken) {
    deps.log.warn('twilio webhook refused: TWILIO_AUTH_TOKEN is not set, so no signature can be checked');
    throw new AppError('FORBIDDEN', 'Twilio webhooks are refused until TWILIO_AUTH_TOKEN is set.');
  }
  if (!(c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Twilio webhooks are application/x-www-form-urlencoded.');
  }
  const params: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(await c.req.parseBody({ all: true }))) {
    params[k] = Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? v : '';
  }
  const signature = c.req.header('x-twilio-signature');
  const url = deps.config.PUBLIC_URL + c.req.path + new URL(c.req.url).search;
  if (!signature || !twilio.validateRequest(authToken, signature, url, params)) {
    deps.log.warn('twilio webhook refused: missing or wrong X-Twilio-Signature', { path: c.req.path, signed: Boolean(signature) });
    throw new AppError('FORBIDDEN', 'Missing or wrong X-Twilio-Signature.');
  }
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
}
