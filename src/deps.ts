import type { Channels } from './channels/types';
import type { Config } from './config';
import type { Db } from './db/connection';
import type { Log } from './log';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Everything the app needs from the outside world, built once by an entry (entry/*.ts). */
export interface Deps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Log;
  /** Every outgoing channel: vendor adapters where configured, the dev outbox otherwise. */
  channels: Channels;
  /** Key for signing links and tokens (from SECRET_KEY, else generated once and kept in the database). */
  secret: string;
}
