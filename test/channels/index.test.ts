import { afterEach, describe, expect, it } from 'vitest';
import { buildChannels, vendorChannels } from '../../src/channels';
import type { Channels } from '../../src/channels/types';
import { ConfigError, parseConfig } from '../../src/config';
import { createLog } from '../../src/log';
import { createTestDatabase } from '../helpers/db';

const { db } = await createTestDatabase();

const secrets = {
  TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123456789',
  SMTP_PASSWORD: 'smtp-password-secret',
  MASTODON_TOKEN: 'mastodon-token-secret',
  BLUESKY_APP_PASSWORD: 'bsky-app-pass-secret',
  X_API_KEY: 'x-api-key-secret',
  X_API_SECRET: 'x-api-secret-secret',
  X_ACCESS_TOKEN: 'x-access-token-secret',
  X_ACCESS_SECRET: 'x-access-secret-secret',
};

const everything = {
  ...secrets,
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_FROM: '+15005550006',
  SMTP_HOST: 'smtp.example.org',
  SMTP_USER: 'mailer',
  MASTODON_URL: 'https://mastodon.example.org',
  BLUESKY_HANDLE: 'fondation.example.org',
};

const config = (env: Record<string, string>) => parseConfig({ PUBLIC_URL: 'https://alerts.example.org', FOUNDATION_NAME: 'Fondation Élan', ...env });

describe('buildChannels', () => {
  let built: Channels | undefined;
  afterEach(async () => {
    // Closing never connects anywhere: vendor clients only open connections on send.
    for (const channel of Object.values(built ?? {})) await channel.close?.();
    built = undefined;
  });

  it('uses the dev outbox for every channel without credentials', () => {
    built = buildChannels(config({ EMAIL_FROM: 'alerts@example.org', TWILIO_API_URL: 'http://127.0.0.1:9' }), db, createLog('error'));
    expect(Object.values(built).map((c) => [c.id, c.kind])).toEqual([
      ['sms', 'dev'],
      ['email', 'dev'],
      ['mastodon', 'dev'],
      ['bluesky', 'dev'],
      ['x', 'dev'],
    ]);
  });

  it('uses each vendor whose credentials are complete, and logs no secret', () => {
    const lines: string[] = [];
    built = buildChannels(config(everything), db, createLog('info', (line) => lines.push(line)));
    expect(Object.values(built).map((c) => [c.id, c.kind, c.account])).toEqual([
      ['sms', 'vendor', '+15005550006'],
      ['email', 'vendor', 'no-reply@alerts.example.org'],
      ['mastodon', 'vendor', 'mastodon.example.org'],
      ['bluesky', 'vendor', 'fondation.example.org'],
      ['x', 'vendor', 'api.x.com'],
    ]);
    expect(lines).toHaveLength(5);
    for (const secret of Object.values(secrets)) expect(lines.join('\n')).not.toContain(secret);
  });

  it('mixes vendors and the dev outbox channel by channel', () => {
    expect(vendorChannels(config({ MASTODON_URL: 'https://mastodon.example.org', MASTODON_TOKEN: 't' }))).toEqual({ sms: false, email: false, mastodon: true, bluesky: false, x: false });
  });

  it.each([
    ['TWILIO_AUTH_TOKEN', { TWILIO_ACCOUNT_SID: everything.TWILIO_ACCOUNT_SID }],
    ['TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM', { TWILIO_ACCOUNT_SID: everything.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: secrets.TWILIO_AUTH_TOKEN }],
    ['TWILIO_ACCOUNT_SID', { TWILIO_FROM: '+15005550006' }],
    ['SMTP_HOST', { SMTP_USER: 'mailer', SMTP_PASSWORD: secrets.SMTP_PASSWORD }],
    ['SMTP_PASSWORD', { SMTP_HOST: 'smtp.example.org', SMTP_USER: 'mailer' }],
    ['MASTODON_URL', { MASTODON_TOKEN: secrets.MASTODON_TOKEN }],
    ['BLUESKY_APP_PASSWORD', { BLUESKY_HANDLE: 'fondation.example.org' }],
    ['X_ACCESS_SECRET', { X_API_KEY: secrets.X_API_KEY, X_API_SECRET: secrets.X_API_SECRET, X_ACCESS_TOKEN: secrets.X_ACCESS_TOKEN }],
  ])('refuses a half-configured channel, in one line naming %s', (missing, env) => {
    const error = thrownBy(() => buildChannels(config(env), db, createLog('error')));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`${missing} is missing`);
    expect(error.message).not.toContain('\n');
    for (const secret of Object.values(secrets)) expect(error.message).not.toContain(secret);
  });
});

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
