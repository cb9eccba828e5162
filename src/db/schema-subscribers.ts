import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { Language } from './schema';

/** Tables of subscribers, subscriptions, the consent log, inbound SMS, replies and imports (migrations/0004_*.sql). */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type SubscriberChannel = 'sms' | 'email';
export type SubscriptionStatus = 'pending' | 'active' | 'unsubscribed';
export type ConsentAction = 'subscribe' | 'confirm' | 'unsubscribe' | 'opt_out_all' | 'resubscribe' | 'invalid' | 'erased';
export type ConsentSource =
  | 'sms_keyword'
  | 'web_form'
  | 'email_link'
  | 'one_click'
  | 'staff_import'
  | 'carrier_opt_out'
  | 'provider_error'
  | 'staff';
export type ReplyChannel = 'sms' | 'email' | 'mastodon' | 'bluesky' | 'x';
export type ReplyState = 'new' | 'assigned' | 'handled';

export interface SubscriberTable {
  id: Generated<number>;
  phone: string | null;
  email: string | null;
  language: Language;
  sms_opted_out_at: Date | null;
  email_opted_out_at: Date | null;
  phone_invalid_at: Date | null;
  created_at: CreatedAt;
  erased_at: Date | null;
}
export type Subscriber = Selectable<SubscriberTable>;
export type NewSubscriber = Insertable<SubscriberTable>;

export interface SubscriptionTable {
  subscriber_id: number;
  campaign_id: number;
  channel: SubscriberChannel;
  status: SubscriptionStatus;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export type Subscription = Selectable<SubscriptionTable>;

export interface ConsentLogTable {
  id: Generated<number>;
  at: CreatedAt;
  subscriber_id: number;
  campaign_id: number | null;
  channel: SubscriberChannel;
  action: ConsentAction;
  source: ConsentSource;
  source_ref: string | null;
  staff_id: number | null;
  shown_text: string | null;
  detail: string | null;
}
export type ConsentEntry = Selectable<ConsentLogTable>;
export type NewConsentEntry = Insertable<ConsentLogTable>;

export interface InboundMessageTable {
  message_sid: string;
  received_at: Date;
  answer: string | null;
}

export interface ReplyTable {
  id: Generated<number>;
  channel: ReplyChannel;
  subscriber_id: number | null;
  sender: string;
  body: string;
  provider_message_id: string;
  possible_opt_out: Generated<boolean>;
  update_id: number | null;
  state: Generated<ReplyState>;
  received_at: CreatedAt;
  /** The inbox's columns (migrations/0007_inbox.sql). */
  assigned_to: ColumnType<number | null, number | null | undefined, number | null>;
  handled_by: ColumnType<number | null, number | null | undefined, number | null>;
  handled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  meta: ColumnType<Record<string, unknown>, string | undefined, string>;
}
export type Reply = Selectable<ReplyTable>;
export type NewReply = Insertable<ReplyTable>;

export interface ImportRejection {
  line: number;
  reasons: { key: string; vars?: Record<string, string | number> }[];
}

export interface SubscriberImportTable {
  id: Generated<number>;
  at: Date;
  staff_id: number | null;
  file_name: string;
  rows_total: number;
  rows_valid: number;
  rows_rejected: number;
  rows_duplicate: number;
  subscribers_created: number;
  subscriptions_created: number;
  kept_unsubscribed: number;
  rejected: ColumnType<ImportRejection[], string, string>;
}
export type SubscriberImport = Selectable<SubscriberImportTable>;

export interface RateLimitCounterTable {
  bucket: string;
  key: string;
  window_start: Date;
  count: number;
}

export interface SubscriberTables {
  subscribers: SubscriberTable;
  subscriptions: SubscriptionTable;
  consent_log: ConsentLogTable;
  inbound_messages: InboundMessageTable;
  replies: ReplyTable;
  subscriber_imports: SubscriberImportTable;
  rate_limit_counters: RateLimitCounterTable;
}
