import type { ColumnType, Generated, Selectable } from 'kysely';
import type { ChannelId } from '../channels/types';

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

export interface FanoutTables {
  dev_outbox: DevOutboxTable;
}
