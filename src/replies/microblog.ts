import { sql, type Kysely, type Transaction } from 'kysely';
import { MicroblogReadError } from '../channels/microblog/reading';
import type { Mention, MentionPage, MicroblogNetwork, MicroblogReader, PostMetrics } from '../channels/types';
import type { Database } from '../db/schema';
import type { PollCursorTable } from '../db/schema-microblog';
import type { Deps } from '../deps';
import { looksLikeOptOut } from '../subscribers/keywords';

/**
 * What comes back from the microblog accounts: mentions and replies polled into the inbox (`replies`), optionally
 * posts carrying a campaign's hashtag, and each post's boosts, likes and replies. Run by the job worker
 * (microblog-tasks.ts); every network is read on its own, so one failing never stops the others.
 */
export type MicroblogDeps = Pick<Deps, 'db' | 'config' | 'channels' | 'log'>;

type Q = Kysely<Database> | Transaction<Database>;

const networks: MicroblogNetwork[] = ['mastodon', 'bluesky', 'x'];

/** Pages read per source and run (Mastodon reads forward page by page); the rest waits for the next minute. */
const maxPagesPerRun = 10;
/** After a 403, the network is asked again this much later, not every minute: an account's tier rarely changes. */
const forbiddenPauseSeconds = 6 * 3600;
/** A rate limit that does not say how long. */
const defaultRateLimitPauseSeconds = 15 * 60;
/** The inbox shows a person's text, not a novel: Mastodon instances can allow very long posts. */
const bodyLimit = 10_000;

export interface SourceOutcome {
  network: MicroblogNetwork;
  /** 'mentions', 'tag:<hashtag>' or 'metrics'. */
  source: string;
  status: 'ok' | 'paused' | 'failed';
  /** Mentions read, and how many of them were new; posts updated, for metrics. */
  read: number;
  stored: number;
  error?: string;
}

interface Reading {
  network: MicroblogNetwork;
  account: string;
  reader: MicroblogReader;
}

/** Networks with a vendor adapter; the dev outbox has nothing to read. */
function readingsOf(deps: MicroblogDeps): Reading[] {
  return networks.flatMap((network) => {
    const channel = deps.channels[network];
    return channel.kind === 'vendor' && channel.reader ? [{ network, account: channel.account, reader: channel.reader }] : [];
  });
}

/**
 * Reads every configured network's new mentions and replies (and, with MICROBLOG_COLLECT_HASHTAG, posts carrying
 * an active campaign's hashtag) since its cursor, and stores each once in `replies`, linked to the update whose
 * post it answers. A page's replies and the cursor past them are committed together, so a crash never loses or
 * doubles one.
 */
export async function pollMicroblogReplies(deps: MicroblogDeps): Promise<SourceOutcome[]> {
  const readings = readingsOf(deps);
  if (!readings.length) return [];
  const tags = deps.config.MICROBLOG_COLLECT_HASHTAG ? await activeHashtags(deps.db) : [];
  const perNetwork = await Promise.all(
    readings.map(async ({ network, account, reader }) => {
      const outcomes = [await pollSource(deps, network, account, 'mentions', (since) => reader.fetchMentions(since), null)];
      for (const tag of tags) outcomes.push(await pollSource(deps, network, account, `tag:${tag}`, (since) => reader.fetchTagged(tag, since), tag));
      return outcomes;
    }),
  );
  return perNetwork.flat();
}

async function activeHashtags(db: Q): Promise<string[]> {
  const rows = await sql<{ tag: string }>`
    SELECT DISTINCT lower(hashtag) AS tag FROM campaigns WHERE active AND hashtag IS NOT NULL AND hashtag <> '' ORDER BY 1`.execute(db);
  return rows.rows.map((r) => r.tag);
}

async function pollSource(
  deps: MicroblogDeps,
  network: MicroblogNetwork,
  account: string,
  source: string,
  fetchPage: (since: string | null) => Promise<MentionPage>,
  tag: string | null,
): Promise<SourceOutcome> {
  const outcome: SourceOutcome = { network, source, status: 'ok', read: 0, stored: 0 };
  let row: CursorRow | null = null;
  try {
    row = await cursorRow(deps, network, source, account);
    if (row.paused) return { ...outcome, status: 'paused', error: row.last_error ?? undefined };
    let cursor = row.cursor;
    for (let pages = 0; pages < maxPagesPerRun; pages++) {
      const page = await fetchPage(cursor);
      if (page.gap) deps.log.warn('microblog poll: too many to read at once, the oldest were left out', { network, source, kept: page.items.length });
      const { stored, moved } = await deps.db.transaction().execute(async (trx) => {
        let stored = 0;
        // Oldest first (pages come newest first; equal times keep that order reversed): reply ids follow the
        // conversation, and an answer to a reply of the same page finds it.
        for (const mention of [...page.items].reverse().sort((a, b) => a.at.getTime() - b.at.getTime())) {
          if (await insertMention(trx, network, account, mention, tag)) stored++;
        }
        // Compare-and-set: a run that overlapped this one and moved the cursor first carries on from there.
        const moved = await sql`
          UPDATE poll_cursors SET cursor = ${page.cursor}, updated_at = now(), last_error = NULL, last_error_at = NULL, paused_until = NULL
          WHERE network = ${network} AND source = ${source} AND cursor IS NOT DISTINCT FROM ${cursor}`.execute(trx);
        return { stored, moved: Number(moved.numAffectedRows ?? 0) > 0 };
      });
      outcome.read += page.items.length;
      outcome.stored += stored;
      if (!moved || !page.more) break;
      cursor = page.cursor;
    }
  } catch (err) {
    return failed(deps, row, outcome, err);
  }
  if (row.last_error) deps.log.info('microblog poll works again', { network, source });
  if (outcome.stored) deps.log.info('microblog replies stored', { network, source, stored: outcome.stored });
  return outcome;
}

/**
 * Stores one mention unless it is already there (from an earlier page, an overlapping run, or as both a reply and
 * a hashtag post). It answers the update whose post (any part of its thread, posted from this account) it replies
 * to; else the update an earlier reply it answers was linked to; else its thread's first post's update; else, for a
 * hashtag post, the campaign's latest update published before it.
 */
async function insertMention(trx: Q, network: MicroblogNetwork, account: string, m: Mention, tag: string | null): Promise<boolean> {
  const text = m.text.slice(0, bodyLimit) || '(empty)';
  // received_at is when Tocsin got it (now), like an SMS's: the digest and webhooks read forward by it. When it
  // was written is kept beside what answering needs.
  const meta = JSON.stringify({ url: m.url, at: m.at.toISOString(), ...(m.answerRef ?? {}) });
  const partWith = (id: string | null) => sql`jsonb_build_array(jsonb_build_object('id', ${id}::text))`;
  const byTag = tag
    ? sql`(SELECT u.id FROM updates u JOIN campaigns c ON c.id = u.campaign_id
           WHERE lower(c.hashtag) = ${tag} AND u.status = 'published' AND u.published_at <= ${m.at}
           ORDER BY u.published_at DESC LIMIT 1)`
    : sql`NULL::bigint`;
  const result = await sql<{ id: number }>`
    INSERT INTO replies (channel, sender, body, provider_message_id, possible_opt_out, update_id, meta)
    VALUES (${network}, ${m.author}, ${text}, ${m.id}, ${looksLikeOptOut(m.text)}, coalesce(
      (SELECT p.update_id FROM posts p WHERE p.network = ${network} AND p.account = ${account} AND p.parts @> ${partWith(m.inReplyToId)} ORDER BY p.id LIMIT 1),
      (SELECT r.update_id FROM replies r WHERE r.channel = ${network} AND r.provider_message_id = ${m.inReplyToId}::text),
      (SELECT p.update_id FROM posts p WHERE p.network = ${network} AND p.account = ${account} AND p.parts @> ${partWith(m.rootId)} ORDER BY p.id LIMIT 1),
      ${byTag}
    ), ${meta}::jsonb)
    ON CONFLICT (channel, provider_message_id) DO NOTHING
    RETURNING id`.execute(trx);
  return result.rows.length > 0;
}

interface CursorRow extends Pick<PollCursorTable, 'cursor' | 'last_error'> {
  paused: boolean;
}

/** The source's row, made on first use; a cursor of another account (the instance or handle changed) is dropped. */
async function cursorRow(deps: MicroblogDeps, network: MicroblogNetwork, source: string, account: string): Promise<CursorRow> {
  const row = await sql<{ account: string; cursor: string | null; last_error: string | null; paused: boolean }>`
    WITH made AS (
      INSERT INTO poll_cursors (network, source, account) VALUES (${network}, ${source}, ${account})
      ON CONFLICT (network, source) DO NOTHING
      RETURNING account, cursor, last_error, false AS paused
    )
    SELECT * FROM made
    UNION ALL
    SELECT account, cursor, last_error, coalesce(paused_until > now(), false) FROM poll_cursors WHERE network = ${network} AND source = ${source}
    LIMIT 1`.execute(deps.db);
  const found = row.rows[0]!;
  if (found.account === account) return found;
  deps.log.info('microblog account changed: reading starts afresh', { network, source, account });
  await sql`
    UPDATE poll_cursors SET account = ${account}, cursor = NULL, last_error = NULL, last_error_at = NULL, paused_until = NULL, updated_at = now()
    WHERE network = ${network} AND source = ${source}`.execute(deps.db);
  return { cursor: null, last_error: null, paused: false };
}

/**
 * Records the failure for staff and, after a 403 or a rate limit, when to ask again. Logs a failure when it is new,
 * not every minute it lasts: X's "mentions need a paid API tier" is said once.
 */
async function failed(deps: MicroblogDeps, row: CursorRow | null, outcome: SourceOutcome, err: unknown): Promise<SourceOutcome> {
  const { network, source } = outcome;
  const error = err instanceof MicroblogReadError ? err : new MicroblogReadError(err instanceof Error ? err.message : String(err), 'temporary');
  const pauseSeconds = error.kind === 'forbidden' ? forbiddenPauseSeconds : error.kind === 'rate_limited' ? Math.max(error.retryAfter ?? defaultRateLimitPauseSeconds, 1) : null;
  try {
    await sql`
      UPDATE poll_cursors SET last_error = ${error.message}, last_error_at = now(),
        paused_until = ${pauseSeconds === null ? null : sql`now() + make_interval(secs => ${pauseSeconds})`}
      WHERE network = ${network} AND source = ${source}`.execute(deps.db);
  } catch (dbErr) {
    deps.log.error('microblog poll: could not record a failure', { network, source, error: (dbErr as Error).message });
  }
  const fields = { network, source, kind: error.kind, ...(error.status ? { status: error.status } : {}), ...(pauseSeconds ? { pausedSeconds: pauseSeconds } : {}) };
  if (error.message === row?.last_error) deps.log.debug('microblog poll still failing', { ...fields, error: error.message });
  else if (error.kind === 'forbidden') deps.log.warn(error.message, fields);
  // A busy account meets X's per-15-minutes limits in the normal course: waited out, not a warning.
  else if (error.kind === 'rate_limited') deps.log.info('microblog poll waits out a rate limit', { ...fields, error: error.message });
  else deps.log.warn('microblog poll failed', { ...fields, error: error.message });
  return { ...outcome, status: 'failed', error: error.message };
}

/**
 * Refreshes the boosts, likes and replies of every post sent in the last MICROBLOG_METRICS_DAYS days from each
 * configured account, summed over the parts of its thread, into posts.metrics.
 */
export async function refreshPostMetrics(deps: MicroblogDeps): Promise<SourceOutcome[]> {
  return Promise.all(readingsOf(deps).map((reading) => refreshNetworkMetrics(deps, reading)));
}

async function refreshNetworkMetrics(deps: MicroblogDeps, { network, account, reader }: Reading): Promise<SourceOutcome> {
  const outcome: SourceOutcome = { network, source: 'metrics', status: 'ok', read: 0, stored: 0 };
  let row: CursorRow | null = null;
  try {
    row = await cursorRow(deps, network, 'metrics', account);
    if (row.paused) return { ...outcome, status: 'paused', error: row.last_error ?? undefined };
    // Only this account's posts: ids of another account (or of the dev outbox) mean nothing to it.
    const posts = (
      await sql<{ id: number; parts: { id: string }[]; remote_id: string | null }>`
        SELECT id, parts, remote_id FROM posts
        WHERE network = ${network} AND account = ${account} AND status = 'sent'
          AND sent_at > now() - make_interval(days => ${deps.config.MICROBLOG_METRICS_DAYS})
        ORDER BY id`.execute(deps.db)
    ).rows.map((p) => ({ id: p.id, parts: p.parts.length ? p.parts.map((part) => part.id) : p.remote_id ? [p.remote_id] : [] }));
    const ids = posts.flatMap((p) => p.parts);
    if (ids.length) {
      const counts = await reader.fetchPostMetrics(ids);
      outcome.read = Object.keys(counts).length;
      const updates = posts.flatMap((p) => {
        const metrics = threadMetrics(p.parts, counts);
        return metrics ? [{ id: p.id, metrics: JSON.stringify(metrics) }] : [];
      });
      if (updates.length) {
        await sql`
          UPDATE posts SET metrics = v.metrics, metrics_at = now()
          FROM unnest(${updates.map((u) => u.id)}::bigint[], ${updates.map((u) => u.metrics)}::jsonb[]) AS v(id, metrics)
          WHERE posts.id = v.id`.execute(deps.db);
      }
      outcome.stored = updates.length;
    }
    await sql`UPDATE poll_cursors SET updated_at = now(), last_error = NULL, last_error_at = NULL, paused_until = NULL
              WHERE network = ${network} AND source = 'metrics'`.execute(deps.db);
  } catch (err) {
    return failed(deps, row, outcome, err);
  }
  if (row.last_error) deps.log.info('microblog metrics work again', { network });
  return outcome;
}

/**
 * A thread's counts: the sum over its parts, where each part but the last has one reply that is the thread's own
 * next part, not a person's. Null when none of its parts is known any more (deleted).
 */
export function threadMetrics(partIds: string[], counts: Record<string, PostMetrics>): PostMetrics | null {
  let known = false;
  const total: PostMetrics = { boosts: 0, likes: 0, replies: 0 };
  partIds.forEach((id, index) => {
    const c = counts[id];
    if (!c) return;
    known = true;
    total.boosts += c.boosts;
    total.likes += c.likes;
    total.replies += Math.max(0, c.replies - (index < partIds.length - 1 ? 1 : 0));
  });
  return known ? total : null;
}
