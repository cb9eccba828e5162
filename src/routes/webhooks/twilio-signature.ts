import type { IncomingMessage } from 'node:http';
import twilio from 'twilio';
import type { Deps } from '../../deps';
import { AppError } from '../../errors';
import type { AppContext } from '../context';

/**
 * The form of a Twilio webhook, once its X-Twilio-Signature is proven: checked
 * against PUBLIC_URL + the path (the URL Twilio was given), never the Host header a
 * proxy rewrites. Anything unsigned is refused (403) before it is read further.
 */
/** Twilio's forms are a few kilobytes; anything much larger is not Twilio. */
export const twilioBodyLimit = 64 * 1024;

/**
 * The body as text, at most `max` bytes. Served by Node, it is read straight from
 * the socket's stream: building a fetch Request for it (what c.req.text() does)
 * costs more than the rest of a status callback.
 */
async function readBodyText(c: AppContext, max: number): Promise<string> {
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `A Twilio webhook body is at most ${max / 1024} KB.`);
  if (Number(c.req.header('content-length') ?? 0) > max) throw tooLarge();
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) {
    const text = await c.req.text();
    if (Buffer.byteLength(text) > max) throw tooLarge();
    return text;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readSignedTwilioForm(c: AppContext, deps: Pick<Deps, 'config' | 'log'>): Promise<Record<string, string>> {
  const authToken = deps.config.TWILIO_AUTH_TOKEN;
  if (!authToken) {
    deps.log.warn('twilio webhook refused: TWILIO_AUTH_TOKEN is not set, so no signature can be checked');
    throw new AppError('FORBIDDEN', 'Twilio webhooks are refused until TWILIO_AUTH_TOKEN is set.');
  }
  if (!(c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Twilio webhooks are application/x-www-form-urlencoded.');
  }
  // URLSearchParams on the text, not parseBody: the multipart-capable parser costs more than the rest of a callback.
  const form = new URLSearchParams(await readBodyText(c, twilioBodyLimit));
  const params: Record<string, string | string[]> = {};
  for (const k of new Set(form.keys())) {
    const all = form.getAll(k);
    params[k] = all.length > 1 ? all : all[0]!;
  }
  const signature = c.req.header('x-twilio-signature');
  const url = deps.config.PUBLIC_URL + c.req.path + new URL(c.req.url).search;
  if (!signature || !twilio.validateRequest(authToken, signature, url, params)) {
    deps.log.warn('twilio webhook refused: missing or wrong X-Twilio-Signature', { path: c.req.path, signed: Boolean(signature) });
    throw new AppError('FORBIDDEN', 'Missing or wrong X-Twilio-Signature.');
  }
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
}
