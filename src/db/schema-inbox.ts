import type { ColumnType, Generated, Selectable } from 'kysely';
import type { ReplyChannel } from './schema-subscribers';

/** The answers staff send from the inbox (migrations/0007_inbox.sql). */
export type AnswerStatus = 'sending' | 'sent' | 'delivered' | 'failed';

export interface ReplyAnswerTable {
  id: Generated<number>;
  reply_id: number;
  staff_id: number | null;
  channel: ReplyChannel;
  body: string;
  status: Generated<AnswerStatus>;
  provider_id: string | null;
  error_code: string | null;
  last_error: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  sent_at: Date | null;
}
export type ReplyAnswer = Selectable<ReplyAnswerTable>;

export interface InboxTables {
  reply_answers: ReplyAnswerTable;
}
