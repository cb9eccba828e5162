import { z } from '@hono/zod-openapi';
import { limits } from '../../updates/validate';

/**
 * The API's request and response shapes. The same schemas validate requests and generate /api/openapi.json, so
 * the document cannot drift from what the server accepts.
 */
const Language = z.enum(['en', 'fr']);
const Money = z.string().regex(/^\d+(\.\d{1,2})?$/).openapi({ description: 'A decimal amount as a string (money never goes through a float).', example: '45200' });
const MoneyIn = z
  .union([z.string().max(32), z.number().nonnegative()])
  .openapi({ description: 'An amount: "45200", "45 200,50", or a number.', example: '45200' });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'INVALID_INPUT' }),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

export const IdParam = z.object({
  id: z.string().regex(/^[1-9]\d{0,14}$/).openapi({ param: { name: 'id', in: 'path' }, example: '42' }),
});

export const NeedSchema = z
  .object({
    item: z.string(),
    quantity: z.number().int().nullable(),
    unit: z.string().nullable(),
    urgency: z.enum(['critical', 'high', 'normal']),
    met: z.boolean(),
  })
  .openapi('Need');

export const CampaignSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    slug: z.string(),
    languages: z.array(Language),
    goal: Money.nullable(),
    currency: z.string().length(3),
    donate_url: z.string().nullable(),
    hashtag: z.string().nullable(),
    keywords: z.array(z.string()),
    active: z.boolean(),
  })
  .openapi('Campaign');

export const SnapshotSchema = z
  .object({
    raised: Money,
    goal: Money.nullable(),
    currency: z.string(),
    donors: z.number().int().nullable(),
    as_of: z.string().nullable(),
    update_id: z.number().int(),
  })
  .openapi('Snapshot');

export const CampaignDetailSchema = CampaignSchema.extend({ snapshot: SnapshotSchema.nullable() }).openapi('CampaignDetail');

export const UpdateSchema = z
  .object({
    id: z.number().int(),
    campaign_id: z.number().int(),
    status: z.enum(['draft', 'pending_approval', 'published', 'rejected']),
    leads: z.object({ en: z.string().optional(), fr: z.string().optional() }),
    needs: z.array(NeedSchema),
    raised: Money.nullable(),
    goal: Money.nullable(),
    currency: z.string().nullable(),
    donors: z.number().int().nullable(),
    as_of: z.string().nullable().openapi({ description: 'ISO 8601' }),
    link: z.string().nullable(),
    image_url: z.string().nullable(),
    image_alt: z.string().nullable(),
    corrects_id: z.number().int().nullable(),
    author_id: z.number().int().nullable(),
    source: z.enum(['staff', 'api', 'rss']),
    version: z.number().int().openapi({ description: 'Send it back with a change: a change to a version someone else changed meanwhile is refused (409).' }),
    created_at: z.string(),
    updated_at: z.string(),
    published_at: z.string().nullable(),
    url: z.string().nullable().openapi({ description: 'The public permalink, once published.' }),
  })
  .openapi('Update');

export const UpdateListSchema = z
  .object({ items: z.array(UpdateSchema), next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last.' }) })
  .openapi('UpdateList');

export const UpdateListQuery = z.object({
  status: z.enum(['draft', 'pending_approval', 'published', 'rejected']).optional(),
  campaign_id: z.string().regex(/^[1-9]\d{0,14}$/).optional(),
  limit: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: '1 to 100, default 20.' }),
  cursor: z.string().max(40).optional(),
});

export const NewUpdateSchema = z
  .object({
    campaign_id: z.number().int().positive(),
    leads: z
      .object({ en: z.string().max(limits.lead * 2).optional(), fr: z.string().max(limits.lead * 2).optional() })
      .openapi({ description: 'The lead per campaign language; a draft needs at least the first.' }),
    needs: z
      .array(
        z.object({
          item: z.string().max(200),
          quantity: z.union([z.number().int().nonnegative(), z.string().max(20)]).optional(),
          unit: z.string().max(50).optional(),
          urgency: z.enum(['critical', 'high', 'normal']).optional(),
          met: z.boolean().optional(),
        }),
      )
      .max(50)
      .optional(),
    raised: MoneyIn.optional(),
    goal: MoneyIn.optional(),
    currency: z.string().max(3).optional(),
    donors: z.union([z.number().int().nonnegative(), z.string().max(20)]).optional(),
    as_of: z.string().max(40).optional().openapi({ description: 'ISO 8601 with an offset, e.g. 2026-11-20T18:00:00Z.' }),
    link: z.string().max(limits.link).optional(),
    corrects_id: z.number().int().positive().optional(),
  })
  .openapi('NewUpdate');

const Version = z.number().int().positive().optional().openapi({ description: 'The version you saw; the action is refused (409) if it changed.' });
export const SubmitSchema = z.object({ version: Version }).openapi('Submit');
export const ApproveSchema = z.object({ version: Version, comment: z.string().max(2000).optional() }).openapi('Approve');
export const RejectSchema = z.object({ version: Version, comment: z.string().min(1).max(2000) }).openapi('Reject');
export const PublishSchema = z
  .object({ version: Version, reason: z.string().min(1).max(2000).openapi({ description: 'Why no second person approves (at least 10 characters); audited.' }) })
  .openapi('BreakGlassPublish');

export const FeedQuery = z.object({
  campaign: z.string().max(60).optional().openapi({ description: 'A campaign slug.' }),
  lang: Language.optional(),
  limit: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: '1 to 50, default 50.' }),
});

export const FeedItemSchema = z
  .object({
    id: z.number().int(),
    url: z.string(),
    title: z.string(),
    text: z.string(),
    html: z.string(),
    language: Language,
    published_at: z.string(),
    figures: z.object({
      campaign: z.object({ id: z.number().int(), slug: z.string(), name: z.string() }),
      language: Language,
      raised: Money.nullable(),
      goal: Money.nullable(),
      currency: z.string().nullable(),
      donors: z.number().int().nullable(),
      as_of: z.string().nullable(),
      needs: z.array(NeedSchema),
      corrects: z.object({ id: z.number().int(), url: z.string() }).nullable(),
      corrected_by: z.array(z.object({ id: z.number().int(), url: z.string() })),
    }),
  })
  .openapi('FeedItem');

export const DeliveryListQuery = z.object({
  status: z.enum(['queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'bounced', 'skipped', 'unknown']).optional(),
  channel: z.enum(['sms', 'email']).optional(),
  limit: z.string().regex(/^\d{1,3}$/).optional().openapi({ description: '1 to 500, default 100.' }),
  cursor: z.string().max(40).optional(),
});

/** A delivery as integrators see it: its fate, never the recipient's address. */
export const DeliverySchema = z
  .object({
    id: z.number().int(),
    subscriber_id: z.number().int(),
    channel: z.enum(['sms', 'email']),
    language: z.enum(['en', 'fr']),
    status: z.string(),
    attempts: z.number().int(),
    provider_id: z.string().nullable(),
    error_code: z.string().nullable(),
    last_error: z.string().nullable(),
    sent_at: z.string().nullable(),
    updated_at: z.string(),
  })
  .openapi('Delivery');

export const DeliveryListSchema = z.object({ items: z.array(DeliverySchema), next_cursor: z.string().nullable() }).openapi('DeliveryList');

export const UpdateFiguresSchema = z
  .object({
    finished: z.boolean(),
    channels: z.array(
      z.object({
        channel: z.enum(['sms', 'email']),
        total: z.number().int(),
        done: z.number().int(),
        by_status: z.record(z.string(), z.number().int()),
        rate_per_second: z.number(),
        eta_seconds: z.number().nullable(),
        replies: z.number().int(),
        reply_rate: z.number().nullable(),
      }),
    ),
    posts: z.array(
      z.object({
        network: z.string(),
        status: z.string(),
        url: z.string().nullable(),
        boosts: z.number().int().nullable(),
        likes: z.number().int().nullable(),
        replies: z.number().int().nullable(),
      }),
    ),
  })
  .openapi('UpdateFigures');
