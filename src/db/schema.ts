import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { FanoutTables } from './schema-fanout';
import type { InboxTables } from './schema-inbox';
import type { FeedTables } from './schema-feeds';
import type { MicroblogTables } from './schema-microblog';
import type { SubscriberTables } from './schema-subscribers';
import type { WebhookTables } from './schema-webhooks';

/** Table types mirror migrations/*.sql; a migration that changes a table changes its type here. */
export type Role = 'admin' | 'approver' | 'author';
export type Language = 'en' | 'fr';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface StaffTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  language: Language | null;
  phone: string | null;
  digest_minutes: 15 | 60 | 240 | 1440 | null;
  digest_sent_at: Date | null;
  disabled_at: Date | null;
  created_at: CreatedAt;
}
export type Staff = Selectable<StaffTable>;
export type NewStaff = Omit<Insertable<StaffTable>, 'phone' | 'digest_minutes' | 'digest_sent_at'> & { phone?: string | null };
export type StaffUpdate = Updateable<StaffTable>;

export interface StaffSessionTable {
  id: Generated<number>;
  token_hash: Buffer;
  staff_id: number;
  created_at: Date;
  last_seen_at: Date;
  ip: string | null;
  user_agent: string | null;
}

export interface StaffInviteTable {
  id: Generated<number>;
  token_hash: Buffer;
  email: string;
  role: Role;
  invited_by: number | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
}
export type StaffInvite = Selectable<StaffInviteTable>;

export interface SetupTokenTable {
  token_hash: Buffer;
  created_at: Date;
}

export interface LoginAttemptTable {
  id: Generated<number>;
  at: Date;
  ip: string;
  email: string;
  succeeded: boolean;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: CreatedAt;
  staff_id: number | null;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: ColumnType<Record<string, unknown>, string | undefined, never>;
}
export type AuditEntry = Selectable<AuditLogTable>;

export interface AppSecretTable {
  name: string;
  value: string;
  created_at: CreatedAt;
}

export type Urgency = 'critical' | 'high' | 'normal';
export interface Need {
  item: string;
  quantity: number | null;
  unit: string | null;
  urgency: Urgency;
  met: boolean;
}
export type UpdateStatus = 'draft' | 'pending_approval' | 'published' | 'rejected';

export interface CampaignTable {
  id: Generated<number>;
  name: string;
  slug: string;
  hashtag: string | null;
  languages: Language[];
  /** numeric: a string, so money never passes through a float. */
  goal: string | null;
  currency: string;
  donate_url: string | null;
  active: Generated<boolean>;
  created_by: number | null;
  created_at: CreatedAt;
}
export type Campaign = Selectable<CampaignTable>;

export interface CampaignKeywordTable {
  keyword: string;
  campaign_id: number;
}

export interface ImageTable {
  id: Generated<number>;
  content_type: string;
  bytes: Buffer;
  size: number;
  width: number | null;
  height: number | null;
  sha256: string;
  created_by: number | null;
  created_at: CreatedAt;
}

export interface UpdateTable {
  id: Generated<number>;
  campaign_id: number;
  status: Generated<UpdateStatus>;
  corrects_id: number | null;
  link: string | null;
  needs: ColumnType<Need[], string | undefined, string>;
  raised: string | null;
  goal: string | null;
  currency: string | null;
  donors: number | null;
  as_of: Date | null;
  image_id: number | null;
  image_alt: string | null;
  source: Generated<'staff' | 'api' | 'rss'>;
  author_id: number | null;
  submitted_at: Date | null;
  decided_by: number | null;
  decided_at: Date | null;
  decision_comment: string | null;
  break_glass_reason: string | null;
  published_at: Date | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  version: Generated<number>;
}
export type UpdateRow = Selectable<UpdateTable>;

export interface UpdateTextTable {
  update_id: number;
  language: Language;
  lead: string;
  sms_gsm7: Generated<boolean>;
}

export interface UpdateEventTable {
  id: Generated<number>;
  update_id: number;
  at: CreatedAt;
  staff_id: number | null;
  action: string;
  comment: string | null;
}

export interface Database extends SubscriberTables, FanoutTables, InboxTables, FeedTables, WebhookTables, MicroblogTables {
  campaigns: CampaignTable;
  campaign_keywords: CampaignKeywordTable;
  images: ImageTable;
  updates: UpdateTable;
  update_texts: UpdateTextTable;
  update_events: UpdateEventTable;
  staff: StaffTable;
  staff_sessions: StaffSessionTable;
  staff_invites: StaffInviteTable;
  setup_tokens: SetupTokenTable;
  login_attempts: LoginAttemptTable;
  audit_log: AuditLogTable;
  app_secrets: AppSecretTable;
}
