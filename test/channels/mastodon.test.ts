import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMastodonChannel } from '../../src/channels/microblog/mastodon';
import type { Channel, PostImage } from '../../src/channels/types';
import { startMastodonFake, type MastodonFake } from '../fakes/mastodon';

const image: PostImage = { data: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), contentType: 'image/png', alt: 'Water tanks being unloaded from a truck in Jacmel' };

describe('Mastodon adapter', () => {
  let fake: MastodonFake;
  let mastodon: Channel<'mastodon'>;
  beforeEach(async () => {
    fake = await startMastodonFake();
    mastodon = createMastodonChannel({ url: fake.url, token: fake.token, timeoutMs: 2_000 });
  });
  afterEach(() => fake.close());

  it('posts the parts as a thread, each answering the one before', async () => {
    const result = await mastodon.send({ parts: ['1/3 Séisme à Jacmel', '2/3 Besoin: eau', '3/3 Dons: https://example.org'] }, { idempotencyKey: 'post-1' });
    const [a, b, c] = fake.received;
    expect(fake.received.map((s) => [s.status, s.inReplyToId, s.visibility])).toEqual([
      ['1/3 Séisme à Jacmel', null, 'public'],
      ['2/3 Besoin: eau', a!.id, 'public'],
      ['3/3 Dons: https://example.org', b!.id, 'public'],
    ]);
    expect(result).toEqual({ ok: true, providerId: a!.id, url: a!.url, parts: [a, b, c].map((s) => ({ id: s!.id, url: s!.url })) });
    expect(fake.received.map((s) => s.idempotencyKey)).toEqual(['post-1-0', 'post-1-1', 'post-1-2']);
  });

  it('answers an existing status when told to', async () => {
    const original = await mastodon.send({ parts: ['Question from a donor'] }, { idempotencyKey: 'q' });
    if (!original.ok) throw new Error('setup failed');
    await mastodon.send({ parts: ['Our answer'], inReplyTo: { id: original.providerId } }, { idempotencyKey: 'answer' });
    expect(fake.received[1]).toMatchObject({ status: 'Our answer', inReplyToId: original.providerId });
  });

  it('never posts twice when a retry follows a lost answer', async () => {
    const thread = { parts: ['first', 'second'] };
    // The server makes the first status, then the connection drops before its answer arrives.
    fake.dropResponseNext(1);
    expect(await mastodon.send(thread, { idempotencyKey: 'post-2' })).toMatchObject({ ok: false, retryable: true });
    expect(fake.received).toHaveLength(1);
    const retried = await mastodon.send(thread, { idempotencyKey: 'post-2' });
    const [first, second] = fake.received;
    expect(fake.received.map((s) => s.status)).toEqual(['first', 'second']);
    expect(second!.inReplyToId).toBe(first!.id);
    expect(retried).toMatchObject({ ok: true, providerId: first!.id, parts: [{ id: first!.id }, { id: second!.id }] });
    // And a send repeated after it succeeded returns the same statuses.
    expect(await mastodon.send(thread, { idempotencyKey: 'post-2' })).toEqual(retried);
    expect(fake.received).toHaveLength(2);
  });

  it('uploads the image with its alt text and attaches it to the first part only', async () => {
    const result = await mastodon.send({ parts: ['with image', 'without'], image }, { idempotencyKey: 'post-3' });
    expect(result).toMatchObject({ ok: true });
    expect(fake.media).toEqual([{ id: expect.any(String), description: image.alt, contentType: 'image/png', size: image.data.byteLength }]);
    expect(fake.received.map((s) => s.mediaIds)).toEqual([[fake.media[0]!.id], []]);
  });

  it('waits for an image the server is still processing before posting', async () => {
    fake.mediaProcessingMs = 250;
    const result = await mastodon.send({ parts: ['with a large image'], image }, { idempotencyKey: 'post-4' });
    expect(result).toMatchObject({ ok: true });
    expect(fake.received[0]!.mediaIds).toEqual([fake.media[0]!.id]);
  });

  it('treats a revoked token as a final failure', async () => {
    const revoked = createMastodonChannel({ url: fake.url, token: 'revoked' });
    expect(await revoked.send({ parts: ['hello'] }, { idempotencyKey: 'post-5' })).toEqual({ ok: false, retryable: false, code: '401', error: 'The access token is invalid' });
  });
});
