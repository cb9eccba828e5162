import { z } from 'zod';

/**
 * Every setting Tocsin reads from the environment. Only `entry/*` calls
 * `parseConfig`; the rest of the code receives the typed result.
 * Keep this list, `.env.example` and the README table in step: a test checks it.
 */
const port = z.coerce.number().int().min(1).max(65535);

const boolFlag = z
  .string()
  .refine((v) => /^(true|false|1|0|yes|no)$/i.test(v), 'true or false')
  .transform((v) => /^(true|1|yes)$/i.test(v));

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'a postgres:// or postgresql:// URL');

const httpUrl = z
  .string()
  .url()
  .refine((v) => /^https?:\/\//.test(v), 'an http:// or https:// URL')
  .transform((v) => v.replace(/\/+$/, ''));

export const configSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: httpUrl.optional(),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  TOCSIN_DATA_DIR: z.string().min(1).default('.tocsin'),
  EMBEDDED_PG_PORT: port.optional(),
  SECRET_KEY: z.string().min(32, 'at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  FOUNDATION_NAME: z.string().min(1).max(60).default('Tocsin'),
  DEFAULT_LANGUAGE: z.enum(['en', 'fr']).default('en'),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(128).default(12),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(5).default(720),
  SESSION_MAX_HOURS: z.coerce.number().int().min(1).default(168),
  INVITE_TTL_HOURS: z.coerce.number().int().min(1).default(72),
  TRUST_PROXY: boolFlag.default(false),

  // Providers. A channel whose credentials are unset uses the dev adapter: it records
  // what would be sent in the database and shows it at /dev/outbox.
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'an Account SID (AC followed by 32 hex digits)').optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  TWILIO_MESSAGING_SERVICE_SID: z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID (MG followed by 32 hex digits)').optional(),
  TWILIO_FROM: z.string().regex(/^\+[1-9]\d{6,14}$/, 'a phone number in E.164 form, e.g. +14155550100').optional(),
  TWILIO_API_URL: httpUrl.optional(),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: port.default(587),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_SECURE: boolFlag.default(false),
  EMAIL_FROM: z.string().min(3).optional(),
  UNSUBSCRIBE_EMAIL: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'an email address such as unsubscribe@example.org').optional(),
  SUBSCRIBE_LIMIT_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(10),
  MASTODON_URL: httpUrl.optional(),
  MASTODON_TOKEN: z.string().min(1).optional(),
  MASTODON_CHAR_LIMIT: z.coerce.number().int().min(100).max(100_000).default(500),
  BLUESKY_SERVICE: httpUrl.default('https://bsky.social'),
  BLUESKY_HANDLE: z.string().min(1).optional(),
  BLUESKY_APP_PASSWORD: z.string().min(1).optional(),
  X_API_URL: httpUrl.default('https://api.x.com'),
  X_API_KEY: z.string().min(1).optional(),
  X_API_SECRET: z.string().min(1).optional(),
  X_ACCESS_TOKEN: z.string().min(1).optional(),
  X_ACCESS_SECRET: z.string().min(1).optional(),
  MICROBLOG_COLLECT_HASHTAG: boolFlag.default(false),
  MICROBLOG_METRICS_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  DEFAULT_COUNTRY: z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code such as FR or US').default('FR'),
  SMS_PRICE_PER_SEGMENT: z.coerce.number().min(0).default(0.0079),
  SMS_MAX_PER_SECOND: z.coerce.number().min(0.01).max(100_000).default(1),
  EMAIL_MAX_PER_SECOND: z.coerce.number().min(0.01).max(100_000).default(20),
  SMS_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(10),
  EMAIL_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(10),
  FANOUT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
  FANOUT_MAX_AGE_HOURS: z.coerce.number().min(0.1).max(720).default(24),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  RUN_WORKER: boolFlag.default(true),
  INBOUND_EMAIL_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  REPLY_AUTO_ACK: boolFlag.default(false),
  SMS_MAX_SEGMENTS: z.coerce.number().int().min(1).max(10).default(3),
  TIMEZONE: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone such as Europe/Paris or America/Port-au-Prince').default('UTC'),
  SMS_PRICE_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'a three-letter currency code such as USD').default('USD'),
  WEBSUB_HUB: httpUrl.optional(),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
});

/** Never echoed back, not even in an error message. */
const secretVariables = new Set(['SECRET_KEY', 'INBOUND_EMAIL_SECRET', 'DATABASE_URL', 'TWILIO_AUTH_TOKEN', 'SMTP_PASSWORD', 'MASTODON_TOKEN', 'BLUESKY_APP_PASSWORD', 'X_API_SECRET', 'X_ACCESS_SECRET', 'X_ACCESS_TOKEN', 'X_API_KEY']);

export type RawConfig = z.infer<typeof configSchema>;
export type Config = Omit<RawConfig, 'PUBLIC_URL'> & { PUBLIC_URL: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once; a bad value throws one line naming the variable and what it expects. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty variable (`FOO=` in a .env file) means "not set", as people expect.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = present[name];
    const shown = secretVariables.has(name) ? '(hidden)' : JSON.stringify(got);
    throw new ConfigError(`Invalid ${name}=${shown}: expected ${describeIssue(issue)}.`);
  }
  const c = result.data;
  return { ...c, PUBLIC_URL: c.PUBLIC_URL ?? `http://localhost:${c.PORT}` };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `a ${issue.expected}`;
    case 'too_small':
      return issue.message.startsWith('at least') ? issue.message : `a value of at least ${String(issue.minimum)}`;
    case 'too_big':
      return `a value of at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'a URL' : `a valid ${issue.format}`;
    default:
      return issue.message;
  }
}
