import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlueskyChannel } from '../../src/channels/microblog/bluesky';
import type { Channel } from '../../src/channels/types';
import { startBlueskyFake, type BlueskyFake, type BlueskyFakePostRecord } from '../fakes/bluesky';

/** The text a facet covers: Bluesky indexes UTF-8 bytes, not characters. */
function covered(record: BlueskyFakePostRecord, facet: NonNullable<BlueskyFakePostRecord['facets']>[number]): string {
  return Buffer.from(record.text).subarray(facet.index.byteStart, facet.index.byteEnd).toString('utf8');
}

describe('Bluesky adapter', () => {
  let fake: BlueskyFake;
  let bluesky: Channel<'bluesky'>;
  beforeEach(async () => {
    fake = await startBlueskyFake({ handle: 'fondation.example.org' });
    bluesky = createBlueskyChannel({ service: fake.url, handle: fake.handle, appPassword: fake.appPassword, timeoutMs: 2_000 });
  });
  afterEach(() => fake.close());

  it('turns links, hashtags and resolvable mentions into facets', async () => {
    fake.handles.set('partner.example.org', 'did:plc:partner');
    await bluesky.send({ parts: ['Séisme #Haïti : dons sur https://example.org/don avec @partner.example.org et @inconnu.example.org'] }, { idempotencyKey: 'p1' });
    const record = fake.received[0]!.record;
    const facets = (record.facets ?? []).map((f) => ({ text: covered(record, f), feature: f.features[0] }));
    expect(facets).toEqual([
      { text: '#Haïti', feature: { $type: 'app.bsky.richtext.facet#tag', tag: 'Haïti' } },
      { text: 'https://example.org/don', feature: { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.org/don' } },
      // The unknown handle stays plain text: a mention facet without a DID is rejected.
      { text: '@partner.example.org', feature: { $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:partner' } },
    ]);
  });

  it('posts a thread with root and parent references, and bsky.app links', async () => {
    const result = await bluesky.send({ parts: ['1/3', '2/3', '3/3'] }, { idempotencyKey: 'p2' });
    const [a, b, c] = fake.received;
    const ref = (p: typeof a) => ({ uri: p!.uri, cid: p!.cid });
    expect(a!.record.reply).toBeUndefined();
    expect(b!.record.reply).toEqual({ root: ref(a), parent: ref(a) });
    expect(c!.record.reply).toEqual({ root: ref(a), parent: ref(b) });
    const rkey = a!.uri.split('/').pop();
    expect(result).toMatchObject({ ok: true, providerId: a!.uri, url: `https://bsky.app/profile/fondation.example.org/post/${rkey}` });
    expect(result.ok && result.parts).toEqual([a, b, c].map((p) => ({ id: p!.uri, uri: p!.uri, cid: p!.cid, url: `https://bsky.app/profile/fondation.example.org/post/${p!.uri.split('/').pop()}` })));
  });

  it('answers a post inside its thread', async () => {
    const root = { uri: 'at://did:plc:someone/app.bsky.feed.post/3kroot', cid: 'bafyreiroot' };
    const parent = { uri: 'at://did:plc:donor/app.bsky.feed.post/3kparent', cid: 'bafyreiparent' };
    await bluesky.send({ parts: ['Thank you!'], inReplyTo: { id: parent.uri, uri: parent.uri, cid: parent.cid, rootUri: root.uri, rootCid: root.cid } }, { idempotencyKey: 'p3' });
    expect(fake.received[0]!.record.reply).toEqual({ root, parent });
  });

  it('refuses an answer without the cid of the post answered, posting nothing', async () => {
    const result = await bluesky.send({ parts: ['Thank you!'], inReplyTo: { id: 'at://did:plc:donor/app.bsky.feed.post/3kparent' } }, { idempotencyKey: 'p4' });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(fake.received).toEqual([]);
  });

  it('uploads the image and embeds it with its alt text in the first part', async () => {
    const data = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    await bluesky.send({ parts: ['with image', 'without'], image: { data, contentType: 'image/jpeg', alt: 'Volunteers unloading water' } }, { idempotencyKey: 'p5' });
    expect(fake.blobs).toEqual([{ cid: expect.stringMatching(/^bafkrei/), mimeType: 'image/jpeg', size: data.byteLength }]);
    expect(fake.received[0]!.record.embed).toEqual({
      $type: 'app.bsky.embed.images',
      images: [{ alt: 'Volunteers unloading water', image: { $type: 'blob', ref: { $link: fake.blobs[0]!.cid }, mimeType: 'image/jpeg', size: data.byteLength } }],
    });
    expect(fake.received[1]!.record.embed).toBeUndefined();
  });

  it('logs in once, lets the agent refresh an expired session, and logs in again when the refresh token expires too', async () => {
    const send = (key: string) => bluesky.send({ parts: [key] }, { idempotencyKey: key });
    await Promise.all([send('a'), send('b'), send('c')]);
    expect(fake.logins).toBe(1);
    fake.expireSessions();
    expect(await send('d')).toMatchObject({ ok: true });
    expect(fake.logins).toBe(1);
    fake.expireSessions({ refresh: true });
    expect(await send('e')).toMatchObject({ ok: true });
    expect(fake.logins).toBe(2);
    expect(fake.received.map((p) => p.record.text).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('finishes a half-posted thread on retry without posting its first part again', async () => {
    fake.failNext(1, { status: 503, after: 1 });
    expect(await bluesky.send({ parts: ['first', 'second'] }, { idempotencyKey: 'p6' })).toMatchObject({ ok: false, retryable: true });
    const retried = await bluesky.send({ parts: ['first', 'second'] }, { idempotencyKey: 'p6' });
    const [first, second] = fake.received;
    expect(fake.received.map((p) => p.record.text)).toEqual(['first', 'second']);
    expect(second!.record.reply?.parent).toEqual({ uri: first!.uri, cid: first!.cid });
    expect(retried).toMatchObject({ ok: true, providerId: first!.uri });
  });

  it('treats a wrong app password as a final failure', async () => {
    const wrong = createBlueskyChannel({ service: fake.url, handle: fake.handle, appPassword: 'wrong-pass-word-here' });
    expect(await wrong.send({ parts: ['hello'] }, { idempotencyKey: 'p7' })).toEqual({ ok: false, retryable: false, code: 'AuthenticationRequired', error: 'Invalid identifier or password' });
  });
});
