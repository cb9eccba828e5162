import type { MicroblogNetwork } from '../channels/types';

/** Tables of microblog polling (migrations/0009_microblog_polling.sql); posts' metrics columns are in PostTable. */
export interface PollCursorTable {
  network: MicroblogNetwork;
  /** 'mentions', 'tag:<hashtag>' or 'metrics'. */
  source: string;
  account: string;
  cursor: string | null;
  updated_at: Date;
  last_error: string | null;
  last_error_at: Date | null;
  paused_until: Date | null;
}

export interface MicroblogTables {
  poll_cursors: PollCursorTable;
}
