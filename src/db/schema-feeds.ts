import type { ColumnType, Generated, Selectable } from 'kysely';

/** Tables of the public cache version, RSS import and API tokens (migrations/0006_feeds_api.sql). */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface PublicVersionTable {
  scope: string;
  version: number;
  changed_at: Date;
}

export interface FeedSourceTable {
  id: Generated<number>;
  url: string;
  campaign_id: number;
  added_by: number | null;
  created_at: CreatedAt;
  etag: string | null;
  last_modified: string | null;
  last_checked_at: Date | null;
  last_success_at: Date | null;
  last_error: string | null;
  items_imported: Generated<number>;
}
export type FeedSource = Selectable<FeedSourceTable>;

export interface FeedItemTable {
  feed_source_id: number;
  item_key: string;
  update_id: number | null;
  imported_at: Date;
  error: string | null;
}

export interface ApiTokenTable {
  id: Generated<number>;
  staff_id: number;
  name: string;
  token_hash: Buffer;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
export type ApiToken = Selectable<ApiTokenTable>;

export interface FeedTables {
  public_versions: PublicVersionTable;
  feed_sources: FeedSourceTable;
  feed_items: FeedItemTable;
  api_tokens: ApiTokenTable;
}
