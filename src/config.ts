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
});

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
    const shown = name === 'SECRET_KEY' || name === 'DATABASE_URL' ? '(hidden)' : JSON.stringify(got);
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
