import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Deps } from './deps';
import { AppError, errorStatus, type ErrorCode } from './errors';
import type { MessageKey } from './i18n';
import { translator } from './i18n';
import { ErrorPage } from '../templates/pages/error';
import type { AppContext, AppEnv } from './routes/context';
import { translatedFieldErrors } from './routes/forms';
import { healthRoutes } from './routes/health';
import { accessLog, csrfProtection, sessionAndLanguage, uiOf } from './routes/middleware';
import { assetRoutes } from './routes/public/assets';
import { publicRoutes } from './routes/public/home';
import { subscribeRoutes } from './routes/public/subscribe';
import { authRoutes } from './routes/staff/auth';
import { staffRoutes } from './routes/staff/team';
import { staffSubscriberRoutes, subscriberImportBodyLimit } from './routes/staff/subscribers';
import { twilioSmsRoutes } from './routes/webhooks/twilio-sms';
import { twilioStatusRoutes } from './routes/webhooks/twilio-status';
import { emailInboundRoutes } from './routes/webhooks/email-inbound';
import { campaignRoutes } from './routes/staff/campaigns';
import { updateRoutes } from './routes/staff/updates';
import { devOutboxRoutes } from './routes/staff/dev-outbox';
import { inboxRoutes } from './routes/staff/inbox';
import { apiRoutes } from './routes/api/v1';
import { staffApiTokenRoutes } from './routes/staff/api-tokens';
import { staffFeedRoutes } from './routes/staff/feeds';
import { publicConditionalGet } from './routes/public/keys';
import { staffWebhookRoutes } from './routes/staff/webhooks';

/**
 * Paths authenticated by something other than a browser session, so exempt from CSRF tokens. /unsubscribe/: the
 * signed link is the authority, and RFC 8058 one-click POSTs come from mail providers without cookies.
 */
const machinePaths = ['/api/', '/webhooks/', '/unsubscribe/'];

/** Routes that take uploads; every other body is limited to 1 MB. */
const largeBodies: [RegExp, number][] = [
  // An update with its image (5 MB) and the form around it.
  [/^\/staff\/updates(\/\d+)?$/, 6 * 1024 * 1024],
  // A forwarded email, attachments included.
  [/^\/webhooks\/email\/inbound$/, 15 * 1024 * 1024],
  // The subscribers CSV import (20 MB files).
  [/^\/staff\/subscribers\/import$/, subscriberImportBodyLimit],
];

/** The whole HTTP app. Receives its dependencies; never reads the environment. */
export function createApp(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.use('*', requestId({ generator: () => crypto.randomUUID() }));
  app.use('*', accessLog(deps));
  app.route('/', healthRoutes(deps));
  app.use('*', publicConditionalGet(deps));
  app.use('*', (c, next) => {
    // GET and HEAD bodies are never read; checking for one would build a full Request for every page and feed view.
    // Twilio's webhooks cap their own bodies while reading them from the socket (routes/webhooks/twilio-signature.ts).
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.path.startsWith('/webhooks/twilio/')) return next();
    const maxSize = largeBodies.find(([re]) => re.test(c.req.path))?.[1] ?? 1024 * 1024;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${Math.round(maxSize / 1048576)} MB.`);
      },
    })(c, next);
  });
  // Providers' webhooks answer machines: no session, CSRF or page headers to compute (they are signature-checked),
  // which keeps a burst of status callbacks cheap.
  app.route('/webhooks/twilio', twilioSmsRoutes(deps));
  app.route('/webhooks/twilio', twilioStatusRoutes(deps));
  app.route('/webhooks/email', emailInboundRoutes(deps));
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    }),
  );
  app.use('*', sessionAndLanguage(deps));
  app.use('*', csrfProtection(deps, machinePaths));

  app.route('/', authRoutes(deps));
  app.route('/staff', staffRoutes(deps));
  app.route('/staff/campaigns', campaignRoutes(deps));
  app.route('/staff/updates', updateRoutes(deps));
  app.route('/dev', devOutboxRoutes(deps));
  app.route('/staff/inbox', inboxRoutes(deps));
  app.route('/staff/feeds', staffFeedRoutes(deps));
  app.route('/staff/api-tokens', staffApiTokenRoutes(deps));
  app.route('/staff/webhooks', staffWebhookRoutes(deps));
  app.route('/', apiRoutes(deps));
  app.route('/staff/subscribers', staffSubscriberRoutes(deps));
  app.route('/', subscribeRoutes(deps));
  app.route('/', assetRoutes(deps));
  app.route('/', publicRoutes(deps));

  app.notFound((c) => respondWithError(c as AppContext, deps, new AppError('NOT_FOUND', 'Nothing here.')));
  app.onError((err, c) => respondWithError(c as AppContext, deps, err));
  return app;
}

export type App = ReturnType<typeof createApp>;

function respondWithError(c: AppContext, deps: Deps, err: unknown) {
  const requestId = c.get('requestId') ?? 'none';
  let code: ErrorCode | 'INTERNAL';
  let status: ContentfulStatusCode;
  let message: string;
  if (err instanceof AppError) {
    ({ code, status, message } = err);
  } else if (err instanceof HTTPException && err.status < 500) {
    status = err.status as ContentfulStatusCode;
    code = (Object.keys(errorStatus) as ErrorCode[]).find((k) => errorStatus[k] === status) ?? 'BAD_REQUEST';
    message = err.message || 'Bad request.';
  } else {
    deps.log.error('unhandled error', { requestId, method: c.req.method, path: c.req.path, error: err });
    code = 'INTERNAL';
    status = 500;
    message = 'An unexpected error occurred.';
  }

  if (c.req.path.startsWith('/api/') || c.req.path.startsWith('/webhooks/')) {
    return c.json({ error: { code, message, requestId } }, status);
  }
  // Errors raised before the language middleware ran still get a page in a sensible language.
  const t = c.get('t') ?? translator(deps.config.DEFAULT_LANGUAGE);
  if (!c.get('t')) {
    c.set('t', t);
    c.set('lang', deps.config.DEFAULT_LANGUAGE);
  }
  const fieldErrors = translatedFieldErrors(err, t);
  const shown = code === 'INTERNAL'
    ? t('error.INTERNAL', { requestId })
    : fieldErrors ? fieldErrors.map((e) => e.message).join(' ')
    : t(`error.${code}` as MessageKey);
  if (!c.get('csrf')) c.set('csrf', '');
  if (c.get('staff') === undefined) c.set('staff', null);
  return c.html(ErrorPage({ ui: uiOf(c, deps), message: shown, requestId }), status);
}
