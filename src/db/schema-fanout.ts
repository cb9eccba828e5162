import type { ColumnType, Generated, Selectable } from 'kysely';
import type { ChannelId, PostMetrics } from '../channels/types';

/** Tables of the dev outbox (0003), deliveries, posts and delivery events. */
export interface DevOutboxTable {
  id: Generated<number>;
  at: ColumnType<Date, Date | undefined, never>;
  channel: ChannelId;
  recipient: string | null;
  subject: string | null;
  body: string;
  meta: ColumnType<Record<string, unknown>, string, never>;
  idempotency_key: string;
}
export type DevOutboxEntry = Selectable<DevOutboxTable>;

export type DeliveryChannel = 'sms' | 'email';
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'undelivered' | 'bounced' | 'skipped' | 'unknown';
export type PostStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'unknown';

export interface DeliveryTable {
  id: Generated<number>;
  update_id: number;
  subscriber_id: number;
  channel: DeliveryChannel;
  language: 'en' | 'fr';
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  provider_id: string | null;
  segments: number | null;
  error_code: string | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  sent_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
export type Delivery = Selectable<DeliveryTable>;

export interface DeliveryEventTable {
  id: Generated<number>;
  delivery_id: number;
  at: ColumnType<Date, Date | undefined, never>;
  provider: string;
  status: string;
  error_code: string | null;
  raw: ColumnType<Record<string, unknown>, string, never>;
}

export interface PostTable {
  id: Generated<number>;
  update_id: number;
  network: 'mastodon' | 'bluesky' | 'x';
  account: string;
  language: 'en' | 'fr';
  status: Generated<PostStatus>;
  attempts: Generated<number>;
  remote_id: string | null;
  remote_url: string | null;
  parts: ColumnType<{ id: string; url?: string; uri?: string; cid?: string }[], string | undefined, string>;
  error_code: string | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  sent_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  /** Boosts, likes and replies over the whole thread (0009), refreshed by src/replies/microblog.ts. */
  metrics: ColumnType<PostMetrics | null, never, string | null>;
  metrics_at: ColumnType<Date | null, never, Date | null>;
}
export type Post = Selectable<PostTable>;

export interface RateLimitTable {
  channel: string;
  next_free_at: Date;
}

export interface FanoutTables {
  dev_outbox: DevOutboxTable;
  deliveries: DeliveryTable;
  delivery_events: DeliveryEventTable;
  posts: PostTable;
  rate_limits: RateLimitTable;
}
