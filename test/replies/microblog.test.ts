/**
 * Polling mentions and replies, and refreshing post counts, with the real masto, @atproto/api and twitter-api-v2
 * clients against the fake servers, on a migrated database.
 */
import { parseCrontab } from 'graphile-worker';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlueskyChannel } from '../../src/channels/microblog/bluesky';
import { createMastodonChannel } from '../../src/channels/microblog/mastodon';
import { createXChannel } from '../../src/channels/microblog/x';
import { parseConfig } from '../../src/config';
import { systemClock, type Deps } from '../../src/deps';
import { sendPost } from '../../src/fanout/posts';
import { pollMicroblogReplies, refreshPostMetrics, threadMetrics, type SourceOutcome } from '../../src/replies/microblog';
import { microblogCrontab, microblogTasks } from '../../src/replies/microblog-tasks';
import { breakGlassPublish, createDraft } from '../../src/updates/lifecycle';
import { startBlueskyFake, type BlueskyFake } from '../fakes/bluesky';
import { startMastodonFake, type MastodonFake } from '../fakes/mastodon';
import { startXFake, type XFake } from '../fakes/x';
import { createStaffMember, createTestApp, publicUrl } from '../helpers/app';
import { createTestCampaign } from '../helpers/campaigns';

const { db, deps: base, logLines } = await createTestApp();
const admin = await createStaffMember(db, 'admin');
const campaign = await createTestCampaign(db, admin, { hashtag: 'HaitiQuake' });

let mastodon: MastodonFake;
let bluesky: BlueskyFake;
let x: XFake;
let deps: Deps;

/** A process's channels: building them again is what a restart does (new clients, nothing remembered). */
function vendorDeps(env: Record<string, string> = {}): Deps {
  return {
    ...base,
    // Real time: the fakes stamp posts with it, and a hashtag post links to the update published before it.
    clock: systemClock,
    config: parseConfig({ PUBLIC_URL: publicUrl, ...env }),
    channels: {
      ...base.channels,
      mastodon: createMastodonChannel({ url: mastodon.url, token: mastodon.token, timeoutMs: 2_000 }),
      bluesky: createBlueskyChannel({ service: bluesky.url, handle: bluesky.handle, appPassword: bluesky.appPassword, timeoutMs: 2_000 }),
      x: createXChannel({ apiUrl: x.url, appKey: x.appKey, appSecret: x.appSecret, accessToken: x.accessToken, accessSecret: x.accessSecret, timeoutMs: 2_000 }),
    },
  };
}

/** Publishes an update and posts it on the three fakes through the fan-out: posts rows with the networks' ids. */
async function publishAndPost(lead = 'Water is needed in Jacmel. #HaitiQuake') {
  const id = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: lead, en: lead }, needs: [] });
  await breakGlassPublish(deps, admin, id, undefined, 'Testing microblog replies', '127.0.0.1');
  const posts = await db.selectFrom('posts').select(['id', 'network']).where('update_id', '=', id).execute();
  for (const p of posts) expect(await sendPost(deps, p.id)).toBe('sent');
  const sent = await db.selectFrom('posts').select(['network', 'parts']).where('update_id', '=', id).execute();
  const part = (network: string) => sent.find((p) => p.network === network)!.parts[0]!;
  return { updateId: id, mastodon: part('mastodon'), bluesky: part('bluesky'), x: part('x') };
}

/** A second update posted as a two-part thread on Mastodon (a posts row written as the fan-out writes it). */
async function threadOnMastodon() {
  const id = await createDraft(deps, admin, { campaignId: campaign.id, leads: { fr: 'Fil', en: 'Thread' }, needs: [] });
  const result = await deps.channels.mastodon.send({ parts: ['1/2 Tents are needed', '2/2 Donate at example.org'] }, { idempotencyKey: `thread-${id}` });
  if (!result.ok) throw new Error(result.error);
  await db
    .insertInto('posts')
    .values({ update_id: id, network: 'mastodon', account: deps.channels.mastodon.account, language: 'en', status: 'sent', remote_id: result.providerId, parts: JSON.stringify(result.parts), sent_at: new Date() })
    .execute();
  return { updateId: id, parts: result.parts! };
}

const repliesOf = (channel: string) =>
  db.selectFrom('replies').select(['sender', 'body', 'provider_message_id', 'update_id', 'possible_opt_out']).where('channel', '=', channel as 'x').orderBy('id').execute();
/** Log lines at info and above (a failure that lasts is repeated at debug only). */
const logged = (text: string) => logLines.filter((l) => l.includes(text) && JSON.parse(l).level !== 'debug');
const count = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM replies`.execute(db)).rows[0]!.n);
const byNetwork = (outcomes: SourceOutcome[]) => Object.fromEntries(outcomes.map((o) => [`${o.network}:${o.source}`, { status: o.status, stored: o.stored }]));

beforeEach(async () => {
  [mastodon, bluesky, x] = await Promise.all([startMastodonFake(), startBlueskyFake({ handle: 'fondation.example.org' }), startXFake()]);
  deps = vendorDeps();
  await sql`DELETE FROM replies`.execute(db);
  await sql`DELETE FROM poll_cursors`.execute(db);
  logLines.length = 0;
});
afterEach(async () => {
  await Promise.all([mastodon.close(), bluesky.close(), x.close()]);
});

describe('polling mentions and replies', () => {
  it('stores each mention and reply once, linked to the update whose post it answers', async () => {
    const post = await publishAndPost();
    const thread = await threadOnMastodon();
    const toPost = mastodon.addMention({ from: 'ana@social.example', text: '@tocsin Where can I bring 20 litres of water? <3 & thanks', inReplyToId: post.mastodon.id });
    const toThread = mastodon.addMention({ from: 'local', text: '@tocsin Is the tent list still current?', inReplyToId: thread.parts[1]!.id });
    const loose = mastodon.addMention({ from: 'bob@other.example', text: '@tocsin hello', spoilerText: 'question' });
    mastodon.addNotification('favourite', post.mastodon.id);
    const bskyReply = bluesky.addReply({ handle: 'ana.example.net', text: 'Are you in Jérémie too?', parentUri: post.bluesky.uri! });
    const bskyNested = bluesky.addReply({ handle: 'bob.example.net', text: 'Yes they are', parentUri: bskyReply.uri });
    const bskyMention = bluesky.addMention({ handle: 'carla.example.net', text: 'thank you!' });
    bluesky.addNotification('like', post.bluesky.uri);
    const tweet = x.addTweet({ username: 'donor_ht', text: `@${x.me.username} how do I give? <€10 & more>`, inReplyToTweetId: post.x.id });

    const outcomes = await pollMicroblogReplies(deps);
    expect(byNetwork(outcomes)).toEqual({
      'mastodon:mentions': { status: 'ok', stored: 3 },
      'bluesky:mentions': { status: 'ok', stored: 3 },
      'x:mentions': { status: 'ok', stored: 1 },
    });

    expect(await repliesOf('mastodon')).toEqual([
      { sender: '@ana@social.example', body: '@tocsin Where can I bring 20 litres of water? <3 & thanks', provider_message_id: toPost.statusId, update_id: post.updateId, possible_opt_out: false },
      { sender: `@local@${new URL(mastodon.url).host}`, body: '@tocsin Is the tent list still current?', provider_message_id: toThread.statusId, update_id: thread.updateId, possible_opt_out: false },
      { sender: '@bob@other.example', body: 'question\n\n@tocsin hello', provider_message_id: loose.statusId, update_id: null, possible_opt_out: false },
    ]);
    expect(await repliesOf('bluesky')).toEqual([
      { sender: '@ana.example.net', body: 'Are you in Jérémie too?', provider_message_id: bskyReply.uri, update_id: post.updateId, possible_opt_out: false },
      // An answer to a reply under our post: the same update, through the reply it answers.
      { sender: '@bob.example.net', body: 'Yes they are', provider_message_id: bskyNested.uri, update_id: post.updateId, possible_opt_out: false },
      { sender: '@carla.example.net', body: `@${bluesky.handle} thank you!`, provider_message_id: bskyMention.uri, update_id: null, possible_opt_out: false },
    ]);
    expect(await repliesOf('x')).toEqual([{ sender: '@donor_ht', body: `@${x.me.username} how do I give? <€10 & more>`, provider_message_id: tweet, update_id: post.updateId, possible_opt_out: false }]);

    // What the inbox needs to answer on Bluesky (uri, cid, the thread's root) and a link for everyone.
    const meta = await db.selectFrom('replies').select(['provider_message_id', sql<Record<string, string>>`meta`.as('meta')]).where('channel', '=', 'bluesky').orderBy('id').execute();
    expect(meta[1]!.meta).toEqual({ url: expect.stringMatching(/^https:\/\/bsky\.app\/profile\/bob\.example\.net\/post\//), at: expect.any(String), uri: bskyNested.uri, cid: bskyNested.cid, rootUri: post.bluesky.uri, rootCid: post.bluesky.cid });
    const mastodonMeta = await db.selectFrom('replies').select(sql<Record<string, string>>`meta`.as('meta')).where('provider_message_id', '=', toPost.statusId).executeTakeFirstOrThrow();
    expect(mastodonMeta.meta).toEqual({ url: toPost.url, at: expect.any(String) });
    // The notifications were asked for by kind, not sifted from everything.
    expect(mastodon.readRequests[0]).toContain('types[]=mention');
    expect(mastodon.readRequests[0]).toContain('include_filtered=true');
    expect(bluesky.readRequests[0]).toContain('reasons=reply&reasons=mention');
  });

  it('resumes from its cursor after a restart, without duplicates', async () => {
    const post = await publishAndPost();
    mastodon.addMention({ text: '@tocsin first', inReplyToId: post.mastodon.id });
    bluesky.addReply({ text: 'first', parentUri: post.bluesky.uri! });
    x.addTweet({ text: `@${x.me.username} first` });
    expect((await pollMicroblogReplies(deps)).map((o) => o.stored)).toEqual([1, 1, 1]);
    const cursors = await db.selectFrom('poll_cursors').select(['network', 'cursor']).where('source', '=', 'mentions').orderBy('network').execute();
    expect(cursors.every((c) => c.cursor)).toBe(true);

    // Nothing new: nothing stored, and Mastodon was asked only for what follows its cursor.
    expect((await pollMicroblogReplies(deps)).map((o) => o.stored)).toEqual([0, 0, 0]);
    const mastodonCursor = cursors.find((c) => c.network === 'mastodon')!.cursor!;
    expect(mastodon.readRequests.at(-1)).toContain(`min_id=${mastodonCursor}`);
    expect(x.readRequests.at(-1)).toContain(`since_id=${cursors.find((c) => c.network === 'x')!.cursor}`);

    // A restart: new clients and readers, the cursors from the database.
    const second = mastodon.addMention({ text: '@tocsin second', inReplyToId: post.mastodon.id });
    bluesky.addReply({ text: 'second', parentUri: post.bluesky.uri! });
    x.addTweet({ text: `@${x.me.username} second` });
    const restarted = vendorDeps();
    expect((await pollMicroblogReplies(restarted)).map((o) => o.stored)).toEqual([1, 1, 1]);
    expect((await pollMicroblogReplies(restarted)).map((o) => o.stored)).toEqual([0, 0, 0]);
    expect(await count()).toBe(6);
    expect((await repliesOf('mastodon')).map((r) => r.provider_message_id).at(-1)).toBe(second.statusId);
    expect((await repliesOf('bluesky')).map((r) => r.body)).toEqual(['first', 'second']);
  });

  it('takes only the latest page on its first poll, never the account’s whole history', async () => {
    for (let i = 0; i < 90; i++) mastodon.addMention({ text: `@tocsin old ${i}` });
    const outcomes = await pollMicroblogReplies(deps);
    expect(outcomes.find((o) => o.network === 'mastodon')!.stored).toBe(80);
    expect(mastodon.readRequests).toHaveLength(1);
  });

  it('pages through more mentions than one page holds, on every network', async () => {
    const post = await publishAndPost();
    await pollMicroblogReplies(deps);
    for (let i = 0; i < 170; i++) mastodon.addMention({ text: `@tocsin m${i}`, inReplyToId: post.mastodon.id });
    for (let i = 0; i < 230; i++) bluesky.addReply({ handle: `p${i}.example.net`, text: `b${i}`, parentUri: post.bluesky.uri! });
    for (let i = 0; i < 150; i++) x.addTweet({ username: `u${i}`, text: `@${x.me.username} x${i}` });
    expect(byNetwork(await pollMicroblogReplies(deps))).toEqual({
      'mastodon:mentions': { status: 'ok', stored: 170 },
      'bluesky:mentions': { status: 'ok', stored: 230 },
      'x:mentions': { status: 'ok', stored: 150 },
    });
    // Mastodon forward from the cursor, 80 at a time; Bluesky and X back from the newest, 100 at a time.
    expect(mastodon.readRequests.slice(1).map((r) => /min_id=\d+/.test(r))).toEqual([true, true, true]);
    expect(bluesky.readRequests.slice(1)).toHaveLength(3);
    expect(x.readRequests.filter((r) => r.includes('/mentions')).slice(1)).toHaveLength(2);
    const mastodonBodies = (await repliesOf('mastodon')).map((r) => r.body);
    // Stored oldest first, each once.
    expect(mastodonBodies).toEqual(Array.from({ length: 170 }, (_, i) => `@tocsin m${i}`));
    expect(new Set((await repliesOf('bluesky')).map((r) => r.body)).size).toBe(230);
    expect((await repliesOf('bluesky')).every((r) => r.update_id === post.updateId)).toBe(true);
    expect((await pollMicroblogReplies(deps)).map((o) => o.stored)).toEqual([0, 0, 0]);
  });

  it('keeps polling the other networks when one fails, and records the failure until it works again', async () => {
    mastodon.addMention({ text: '@tocsin one' });
    bluesky.addMention({ text: 'one' });
    x.addTweet({ text: `@${x.me.username} one` });
    mastodon.failReadsNext(1, { status: 503, message: 'Service Unavailable' });
    await bluesky.close();

    const outcomes = byNetwork(await pollMicroblogReplies(deps));
    expect(outcomes).toEqual({
      'mastodon:mentions': { status: 'failed', stored: 0 },
      'bluesky:mentions': { status: 'failed', stored: 0 },
      'x:mentions': { status: 'ok', stored: 1 },
    });
    const errors = await db.selectFrom('poll_cursors').select(['network', 'last_error', 'paused_until']).where('source', '=', 'mentions').orderBy('network').execute();
    expect(errors).toEqual([
      { network: 'bluesky', last_error: expect.stringContaining('Bluesky unreachable'), paused_until: null },
      { network: 'mastodon', last_error: expect.stringContaining('Service Unavailable'), paused_until: null },
      { network: 'x', last_error: null, paused_until: null },
    ]);
    expect(logged('microblog poll failed')).toHaveLength(2);

    // Bluesky still down: recorded again, not logged again. Mastodon recovers and catches up.
    const again = byNetwork(await pollMicroblogReplies(deps));
    expect(again['mastodon:mentions']).toEqual({ status: 'ok', stored: 1 });
    expect(again['bluesky:mentions']!.status).toBe('failed');
    expect(logged('microblog poll failed')).toHaveLength(2);
    expect(logLines.some((l) => l.includes('microblog poll works again') && l.includes('mastodon'))).toBe(true);
    const mastodonRow = await db.selectFrom('poll_cursors').select(['last_error', 'cursor']).where('network', '=', 'mastodon').where('source', '=', 'mentions').executeTakeFirstOrThrow();
    expect(mastodonRow).toEqual({ last_error: null, cursor: expect.any(String) });
  });

  it('remembers that X’s free tier has no mentions access: logged once, not asked again every minute', async () => {
    x.tier = 'free';
    mastodon.addMention({ text: '@tocsin still read' });
    const first = byNetwork(await pollMicroblogReplies(deps));
    expect(first['x:mentions']).toEqual({ status: 'failed', stored: 0 });
    expect(first['mastodon:mentions']).toEqual({ status: 'ok', stored: 1 });
    const row = await sql<{ last_error: string; hours: number }>`
      SELECT last_error, extract(epoch FROM paused_until - now()) / 3600 AS hours FROM poll_cursors WHERE network = 'x' AND source = 'mentions'`.execute(db);
    expect(row.rows[0]!.last_error).toMatch(/^X mentions need a paid API tier \(403: /);
    expect(Number(row.rows[0]!.hours)).toBeGreaterThan(5.9);

    const mentionRequests = () => x.readRequests.filter((r) => r.includes('/mentions')).length;
    expect(mentionRequests()).toBe(1);
    expect((await pollMicroblogReplies(deps)).find((o) => o.network === 'x')!.status).toBe('paused');
    // Even after a restart, which remembers nothing in memory.
    expect((await pollMicroblogReplies(vendorDeps())).find((o) => o.network === 'x')!.status).toBe('paused');
    expect(mentionRequests()).toBe(1);
    expect(logged('X mentions need a paid API tier')).toHaveLength(1);
    expect(JSON.parse(logLines.find((l) => l.includes('X mentions need a paid API tier'))!)).toMatchObject({ level: 'warn', network: 'x', status: 403 });

    // Once the pause is over it asks again; still refused, still not logged again.
    await sql`UPDATE poll_cursors SET paused_until = now() - interval '1 second' WHERE network = 'x'`.execute(db);
    expect((await pollMicroblogReplies(deps)).find((o) => o.network === 'x')!.status).toBe('failed');
    expect(mentionRequests()).toBe(2);
    expect(logged('X mentions need a paid API tier')).toHaveLength(1);
  });

  it('waits out a rate limit for as long as the network says', async () => {
    x.failReadsNext(1, { status: 429, retryAfter: 600 });
    const outcome = (await pollMicroblogReplies(deps)).find((o) => o.network === 'x')!;
    expect(outcome.status).toBe('failed');
    const row = await sql<{ minutes: number }>`SELECT extract(epoch FROM paused_until - now()) / 60 AS minutes FROM poll_cursors WHERE network = 'x' AND source = 'mentions'`.execute(db);
    expect(Number(row.rows[0]!.minutes)).toBeGreaterThan(8);
    expect((await pollMicroblogReplies(deps)).find((o) => o.network === 'x')!.status).toBe('paused');
  });

  it('flags a mention that asks to stop as a possible opt-out', async () => {
    mastodon.addMention({ text: '@tocsin please stop tagging me' });
    bluesky.addMention({ text: 'Arrêtez de m’écrire svp' });
    x.addTweet({ text: `@${x.me.username} stopping by the depot tomorrow` });
    x.addTweet({ text: `@${x.me.username} UNSUBSCRIBE` });
    await pollMicroblogReplies(deps);
    const flags = await db.selectFrom('replies').select(['channel', 'possible_opt_out']).orderBy('channel').orderBy('id').execute();
    expect(flags).toEqual([
      { channel: 'bluesky', possible_opt_out: true },
      { channel: 'mastodon', possible_opt_out: true },
      { channel: 'x', possible_opt_out: false },
      { channel: 'x', possible_opt_out: true },
    ]);
  });

  it('starts afresh when the account changes (another instance’s cursor means nothing)', async () => {
    mastodon.addMention({ text: '@tocsin on the old instance' });
    await pollMicroblogReplies(deps);
    const other = await startMastodonFake({ firstId: 110_000_000_000_000 });
    try {
      other.addMention({ text: '@tocsin on the new instance' });
      const moved: Deps = { ...deps, channels: { ...deps.channels, mastodon: createMastodonChannel({ url: other.url, token: other.token }) } };
      const outcome = (await pollMicroblogReplies(moved)).find((o) => o.network === 'mastodon')!;
      expect(outcome).toMatchObject({ status: 'ok', stored: 1 });
      expect(other.readRequests[0]).not.toContain('min_id');
    } finally {
      await other.close();
    }
  });

  it('reads nothing from the dev outbox', async () => {
    expect(await pollMicroblogReplies(base)).toEqual([]);
    expect(await refreshPostMetrics(base)).toEqual([]);
  });
});

describe('campaign hashtags', () => {
  it('are not collected unless MICROBLOG_COLLECT_HASHTAG is on', async () => {
    mastodon.addStatus({ text: 'Donated to #HaitiQuake relief' });
    await pollMicroblogReplies(deps);
    expect(await count()).toBe(0);
    expect(mastodon.readRequests.some((r) => r.includes('/timelines/tag/'))).toBe(false);
  });

  it('collect other people’s posts with an active campaign’s hashtag, linked to its latest update', async () => {
    const post = await publishAndPost('Our appeal #HaitiQuake');
    const withTags = vendorDeps({ MICROBLOG_COLLECT_HASHTAG: 'true' });
    const tagged = mastodon.addStatus({ from: 'ana@social.example', text: 'Just gave to #HaitiQuake' });
    const bskyTagged = bluesky.addPost({ handle: 'ana.example.net', text: 'Sharing #HaitiQuake' });
    const tweet = x.addTweet({ username: 'ana', text: 'Help #haitiquake now' });
    // A reply with the hashtag is stored once, as a reply.
    const reply = mastodon.addMention({ text: '@tocsin where? #HaitiQuake', inReplyToId: post.mastodon.id });

    const outcomes = byNetwork(await pollMicroblogReplies(withTags));
    expect(outcomes).toEqual({
      'mastodon:mentions': { status: 'ok', stored: 1 },
      'mastodon:tag:haitiquake': { status: 'ok', stored: 1 },
      'bluesky:mentions': { status: 'ok', stored: 0 },
      'bluesky:tag:haitiquake': { status: 'ok', stored: 1 },
      'x:mentions': { status: 'ok', stored: 0 },
      'x:tag:haitiquake': { status: 'ok', stored: 1 },
    });
    const stored = await db.selectFrom('replies').select(['channel', 'provider_message_id', 'update_id']).orderBy('channel').orderBy('id').execute();
    expect(stored).toEqual([
      { channel: 'bluesky', provider_message_id: bskyTagged.uri, update_id: post.updateId },
      { channel: 'mastodon', provider_message_id: reply.statusId, update_id: post.updateId },
      { channel: 'mastodon', provider_message_id: tagged.statusId, update_id: post.updateId },
      { channel: 'x', provider_message_id: tweet, update_id: post.updateId },
    ]);
    // Our own posts carry the hashtag too, and are never collected.
    expect(stored.map((r) => r.provider_message_id)).not.toContain(post.mastodon.id);
    expect(stored.map((r) => r.provider_message_id)).not.toContain(post.bluesky.uri);
    expect(decodeURIComponent(x.readRequests.find((r) => r.includes('/search/recent'))!.replace(/\+/g, ' '))).toContain(`#haitiquake -from:${x.me.username}`);
    expect((await pollMicroblogReplies(withTags)).every((o) => o.stored === 0)).toBe(true);
  });

  it('move an X search cursor older than a week up to what recent search covers', async () => {
    const withTags = vendorDeps({ MICROBLOG_COLLECT_HASHTAG: 'true' });
    const weekOld = String((BigInt(Date.now() - 8 * 86_400_000) - 1_288_834_974_657n) << 22n);
    await sql`INSERT INTO poll_cursors (network, source, account, cursor) VALUES ('x', 'tag:haitiquake', ${withTags.channels.x.account}, ${weekOld})`.execute(db);
    const tweet = x.addTweet({ username: 'ana', text: 'Still #HaitiQuake' });
    expect((await pollMicroblogReplies(withTags)).find((o) => o.source === 'tag:haitiquake' && o.network === 'x')).toMatchObject({ status: 'ok', stored: 1 });
    const search = x.readRequests.find((r) => r.includes('/search/recent'))!;
    expect(search).toContain('start_time=');
    expect(search).not.toContain('since_id=');
    expect(await db.selectFrom('replies').select('provider_message_id').where('channel', '=', 'x').execute()).toEqual([{ provider_message_id: tweet }]);
  });
});

describe('post metrics', () => {
  it('stores each post’s boosts, likes and replies, summed over its thread', async () => {
    const post = await publishAndPost();
    const thread = await threadOnMastodon();
    mastodon.setCounts(post.mastodon.id, { reblogs: 4, favourites: 9 });
    mastodon.addMention({ text: '@tocsin a question', inReplyToId: post.mastodon.id });
    // The thread's first part has one reply that is its own second part.
    mastodon.setCounts(thread.parts[0]!.id, { reblogs: 1, favourites: 2 });
    mastodon.setCounts(thread.parts[1]!.id, { reblogs: 0, favourites: 3, replies: 2 });
    bluesky.setCounts(post.bluesky.uri!, { likes: 12, reposts: 3, replies: 1 });
    x.setMetrics(post.x.id, { likes: 7, retweets: 2, replies: 5 });

    const outcomes = await refreshPostMetrics(deps);
    expect(outcomes.map((o) => [o.network, o.status, o.stored])).toEqual([
      ['mastodon', 'ok', 2],
      ['bluesky', 'ok', 1],
      ['x', 'ok', 1],
    ]);
    const metrics = async () =>
      Object.fromEntries(
        (await db.selectFrom('posts').select(['update_id', 'network', 'metrics', 'metrics_at']).where('update_id', 'in', [post.updateId, thread.updateId]).execute()).map((p) => [
          `${p.update_id === post.updateId ? 'post' : 'thread'}:${p.network}`,
          p.metrics,
        ]),
      );
    expect(await metrics()).toEqual({
      'post:mastodon': { boosts: 4, likes: 9, replies: 1 },
      'post:bluesky': { boosts: 3, likes: 12, replies: 1 },
      'post:x': { boosts: 2, likes: 7, replies: 5 },
      'thread:mastodon': { boosts: 1, likes: 5, replies: 2 },
    });

    // Refreshed, not accumulated.
    mastodon.setCounts(post.mastodon.id, { favourites: 10 });
    await refreshPostMetrics(deps);
    expect((await metrics())['post:mastodon']).toEqual({ boosts: 4, likes: 10, replies: 1 });
  });

  it('reads statuses one by one from a Mastodon older than 4.3', async () => {
    const post = await publishAndPost();
    mastodon.multiGet = false;
    mastodon.setCounts(post.mastodon.id, { reblogs: 2, favourites: 3 });
    await refreshPostMetrics(deps);
    const row = await db.selectFrom('posts').select('metrics').where('update_id', '=', post.updateId).where('network', '=', 'mastodon').executeTakeFirstOrThrow();
    expect(row.metrics).toEqual({ boosts: 2, likes: 3, replies: 0 });
    expect(mastodon.readRequests.some((r) => r.startsWith(`/api/v1/statuses/${post.mastodon.id}`))).toBe(true);
  });

  it('stops refreshing a post MICROBLOG_METRICS_DAYS after it was sent', async () => {
    const post = await publishAndPost();
    await sql`UPDATE posts SET sent_at = now() - interval '8 days' WHERE update_id = ${post.updateId}`.execute(db);
    mastodon.setCounts(post.mastodon.id, { favourites: 3 });
    await refreshPostMetrics(deps);
    const rows = await db.selectFrom('posts').select(['metrics', 'metrics_at']).where('update_id', '=', post.updateId).execute();
    expect(rows.every((r) => r.metrics === null && r.metrics_at === null)).toBe(true);
    await refreshPostMetrics(vendorDeps({ MICROBLOG_METRICS_DAYS: '10' }));
    const refreshed = await db.selectFrom('posts').select('metrics').where('update_id', '=', post.updateId).where('network', '=', 'mastodon').executeTakeFirstOrThrow();
    expect(refreshed.metrics).toEqual({ boosts: 0, likes: 3, replies: 0 });
  });

  it('pauses X metrics on the free tier without stopping the other networks', async () => {
    const post = await publishAndPost();
    x.tier = 'free';
    bluesky.setCounts(post.bluesky.uri!, { likes: 1 });
    const outcomes = await refreshPostMetrics(deps);
    expect(outcomes.map((o) => [o.network, o.status])).toEqual([
      ['mastodon', 'ok'],
      ['bluesky', 'ok'],
      ['x', 'failed'],
    ]);
    expect((await refreshPostMetrics(deps)).find((o) => o.network === 'x')!.status).toBe('paused');
    expect(logged('X post metrics need a paid API tier')).toHaveLength(1);
  });

  it('counts a thread’s own parts out of its replies', () => {
    const counts = { a: { boosts: 1, likes: 1, replies: 3 }, b: { boosts: 0, likes: 2, replies: 1 }, c: { boosts: 0, likes: 0, replies: 0 } };
    expect(threadMetrics(['a', 'b', 'c'], counts)).toEqual({ boosts: 1, likes: 3, replies: 2 });
    // A deleted part: the others still count; all deleted: nothing to store.
    expect(threadMetrics(['a', 'gone'], counts)).toEqual({ boosts: 1, likes: 1, replies: 2 });
    expect(threadMetrics(['gone'], counts)).toBeNull();
  });
});

describe('tasks', () => {
  it('names two tasks on a valid crontab: every minute and every 10 minutes', () => {
    const tasks = microblogTasks(deps);
    const items = parseCrontab(microblogCrontab.join('\n'));
    expect(items.map((i) => i.task).sort()).toEqual(Object.keys(tasks).sort());
    expect(microblogCrontab[0]).toMatch(/^\* \* \* \* \* /);
    expect(microblogCrontab[1]).toMatch(/^\*\/10 \* \* \* \* /);
  });
});
