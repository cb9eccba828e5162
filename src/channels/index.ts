import { ConfigError, type Config } from '../config';
import type { Db } from '../db/connection';
import type { Log } from '../log';
import { createDevChannels } from './dev/outbox';
import { createSmtpChannel, defaultEmailFrom } from './email/smtp';
import { createBlueskyChannel } from './microblog/bluesky';
import { createMastodonChannel } from './microblog/mastodon';
import { createXChannel } from './microblog/x';
import { createTwilioChannel } from './sms/twilio';
import type { ChannelId, Channels } from './types';

type ConfigKey = keyof Config & string;

interface CredentialRule {
  vendor: string;
  /** Every one of these. */
  all: ConfigKey[];
  /** And at least one of these. */
  oneOf?: ConfigKey[];
  /** Optional, but only together (a user without a password is a mistake, not a choice). */
  together?: ConfigKey[];
}

/** What makes each vendor adapter usable. Base URLs and ports have defaults, so they never count. */
const credentialRules: Record<ChannelId, CredentialRule> = {
  sms: { vendor: 'Twilio', all: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'], oneOf: ['TWILIO_MESSAGING_SERVICE_SID', 'TWILIO_FROM'] },
  email: { vendor: 'SMTP', all: ['SMTP_HOST'], together: ['SMTP_USER', 'SMTP_PASSWORD'] },
  mastodon: { vendor: 'Mastodon', all: ['MASTODON_URL', 'MASTODON_TOKEN'] },
  bluesky: { vendor: 'Bluesky', all: ['BLUESKY_HANDLE', 'BLUESKY_APP_PASSWORD'] },
  x: { vendor: 'X', all: ['X_API_KEY', 'X_API_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET'] },
};

/**
 * Which channels have complete vendor credentials. A channel with some of its
 * variables set but not all is a mistake that would otherwise silently fall back
 * to the dev outbox, so it throws one line naming the missing variable (never a value).
 */
export function vendorChannels(config: Config): Record<ChannelId, boolean> {
  const isSet = (key: ConfigKey) => config[key] !== undefined && config[key] !== '';
  const result = {} as Record<ChannelId, boolean>;
  for (const [channel, rule] of Object.entries(credentialRules) as [ChannelId, CredentialRule][]) {
    const named = [...rule.all, ...(rule.oneOf ?? []), ...(rule.together ?? [])];
    result[channel] = named.some(isSet);
    const missing = result[channel] ? missingCredential(rule, isSet) : undefined;
    if (missing) {
      const prefix = rule.all[0]!.split('_')[0];
      throw new ConfigError(`${rule.vendor} is partly configured: ${missing} is missing. Set it, or unset every ${prefix}_* variable to use the dev outbox.`);
    }
  }
  return result;
}

function missingCredential(rule: CredentialRule, isSet: (key: ConfigKey) => boolean): string | undefined {
  const absent = rule.all.find((key) => !isSet(key));
  if (absent) return absent;
  if (rule.oneOf && !rule.oneOf.some(isSet)) return rule.oneOf.join(' or ');
  if (rule.together?.some(isSet)) return rule.together.find((key) => !isSet(key));
  return undefined;
}

/**
 * The channel registry: a vendor adapter where its credentials are configured,
 * the dev outbox adapter otherwise. Built once by the entry.
 */
export function buildChannels(config: Config, db: Db, log: Log): Channels {
  const vendor = vendorChannels(config);
  const dev = createDevChannels(db);
  const channels: Channels = {
    sms: vendor.sms
      ? createTwilioChannel({
          accountSid: config.TWILIO_ACCOUNT_SID!,
          authToken: config.TWILIO_AUTH_TOKEN!,
          messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID,
          from: config.TWILIO_FROM,
          apiUrl: config.TWILIO_API_URL,
        })
      : dev.sms,
    email: vendor.email
      ? createSmtpChannel({
          host: config.SMTP_HOST!,
          port: config.SMTP_PORT,
          secure: config.SMTP_SECURE,
          user: config.SMTP_USER,
          password: config.SMTP_PASSWORD,
          from: config.EMAIL_FROM ?? defaultEmailFrom(config.FOUNDATION_NAME, config.PUBLIC_URL),
        })
      : dev.email,
    mastodon: vendor.mastodon ? createMastodonChannel({ url: config.MASTODON_URL!, token: config.MASTODON_TOKEN! }) : dev.mastodon,
    bluesky: vendor.bluesky ? createBlueskyChannel({ service: config.BLUESKY_SERVICE, handle: config.BLUESKY_HANDLE!, appPassword: config.BLUESKY_APP_PASSWORD! }) : dev.bluesky,
    x: vendor.x
      ? createXChannel({
          apiUrl: config.X_API_URL,
          appKey: config.X_API_KEY!,
          appSecret: config.X_API_SECRET!,
          accessToken: config.X_ACCESS_TOKEN!,
          accessSecret: config.X_ACCESS_SECRET!,
        })
      : dev.x,
  };
  for (const c of Object.values(channels)) log.info('channel ready', { channel: c.id, kind: c.kind, account: c.account });
  return channels;
}
