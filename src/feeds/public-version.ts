import { createHash } from 'node:crypto';
import type { CompiledQuery } from 'kysely';
import type { Db } from '../db/connection';
import type { Config } from '../config';

/**
 * The version of everything public (migrations/0006: a trigger bumps it in the transaction that publishes an update
 * or changes a campaign). Pages and feeds are a function of it, of their URL and language, and of the settings
 * below, so their ETag needs no rendering and no body hash: one primary-key read, exact across processes.
 */
export interface PublicVersion {
  version: number;
  changedAt: Date;
}

const compiled = new WeakMap<Db, CompiledQuery<{ version: number; changed_at: Date }>>();

export async function readPublicVersion(db: Db): Promise<PublicVersion> {
  let q = compiled.get(db);
  if (!q) {
    // Compiled once: this runs on every public request, including each 304.
    q = db.selectFrom('public_versions').select(['version', 'changed_at']).where('scope', '=', 'all').compile();
    compiled.set(db, q);
  }
  const row = (await db.executeQuery(q)).rows[0];
  return row ? { version: Number(row.version), changedAt: row.changed_at } : { version: 0, changedAt: new Date(0) };
}

/**
 * Bump when the output of public pages or feeds changes for the same data (a template or format change), so a
 * deploy does not answer 304 to copies rendered by the previous code.
 */
export const publicFormatVersion = '2026-11-1';

/** What else shapes the output: the settings that pages and feeds print. */
export function publicSettingsKey(config: Pick<Config, 'PUBLIC_URL' | 'FOUNDATION_NAME' | 'TIMEZONE' | 'DEFAULT_LANGUAGE' | 'WEBSUB_HUB'>): string {
  return createHash('sha256')
    .update(JSON.stringify([publicFormatVersion, config.PUBLIC_URL, config.FOUNDATION_NAME, config.TIMEZONE, config.DEFAULT_LANGUAGE, config.WEBSUB_HUB ?? null]))
    .digest('base64url')
    .slice(0, 16);
}

/** A strong ETag for one resource (its URL and language) at one version. */
export function publicEtag(settingsKey: string, v: PublicVersion, resourceKey: string): string {
  return `"${createHash('sha256').update(`${settingsKey}|${v.version}|${resourceKey}`).digest('base64url').slice(0, 27)}"`;
}
