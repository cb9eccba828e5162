import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createXChannel, type XChannelOptions } from '../../src/channels/microblog/x';
import type { Channel } from '../../src/channels/types';
import { startXFake, type XFake } from '../fakes/x';

describe('X adapter', () => {
  let fake: XFake;
  let x: Channel<'x'>;
  const open = (overrides: Partial<XChannelOptions> = {}) =>
    createXChannel({ apiUrl: fake.url, appKey: fake.appKey, appSecret: fake.appSecret, accessToken: fake.accessToken, accessSecret: fake.accessSecret, timeoutMs: 2_000, ...overrides });
  beforeEach(async () => {
    fake = await startXFake();
    x = open();
  });
  afterEach(() => fake.close());

  it('posts the parts as a thread of replies, with x.com links', async () => {
    const result = await x.send({ parts: ['1/3 Séisme', "2/3 Besoin d'eau (urgent)!", '3/3 https://example.org/don?c=haiti&s=x'] }, { idempotencyKey: 't1' });
    const [a, b, c] = fake.received;
    expect(fake.received.map((t) => [t.text, t.inReplyToTweetId])).toEqual([
      ['1/3 Séisme', null],
      ["2/3 Besoin d'eau (urgent)!", a!.id],
      ['3/3 https://example.org/don?c=haiti&s=x', b!.id],
    ]);
    expect(result).toEqual({ ok: true, providerId: a!.id, url: `https://x.com/i/web/status/${a!.id}`, parts: [a, b, c].map((t) => ({ id: t!.id, url: `https://x.com/i/web/status/${t!.id}` })) });
  });

  it('answers an existing post when told to', async () => {
    await x.send({ parts: ['Thank you!'] , inReplyTo: { id: '1850000000000000001' } }, { idempotencyKey: 't2' });
    expect(fake.received[0]).toMatchObject({ text: 'Thank you!', inReplyToTweetId: '1850000000000000001' });
  });

  it('uploads the image with its alt text and attaches it to the first part only', async () => {
    const data = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255]);
    await x.send({ parts: ['with image', 'without'], image: { data, contentType: 'image/png', alt: 'Water tanks in Jacmel' } }, { idempotencyKey: 't3' });
    expect(fake.media).toEqual([{ id: expect.any(String), mediaType: 'image/png', category: 'tweet_image', size: data.byteLength, altText: 'Water tanks in Jacmel' }]);
    expect(fake.received.map((t) => t.mediaIds)).toEqual([[fake.media[0]!.id], []]);
  });

  it('finishes a half-posted thread on retry without posting its first part again', async () => {
    fake.failNext(1, { status: 503, after: 1 });
    expect(await x.send({ parts: ['first', 'second'] }, { idempotencyKey: 't4' })).toMatchObject({ ok: false, retryable: true });
    const retried = await x.send({ parts: ['first', 'second'] }, { idempotencyKey: 't4' });
    const [first, second] = fake.received;
    expect(fake.received.map((t) => [t.text, t.inReplyToTweetId])).toEqual([
      ['first', null],
      ['second', first!.id],
    ]);
    expect(retried).toMatchObject({ ok: true, providerId: first!.id, parts: [{ id: first!.id }, { id: second!.id }] });
  });

  it.each([
    ['consumer secret', { appSecret: 'not-the-consumer-secret' }],
    ['access token secret', { accessSecret: 'not-the-access-secret' }],
  ])('is turned away when the request is signed with the wrong %s', async (_, overrides) => {
    const result = await open(overrides).send({ parts: ['hello'] }, { idempotencyKey: 't5' });
    expect(result).toEqual({ ok: false, retryable: false, code: '401', error: 'Unauthorized' });
    expect(fake.rejectedSignatures).toBe(1);
    expect(fake.received).toEqual([]);
  });
});
