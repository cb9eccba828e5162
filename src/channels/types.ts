/**
 * A channel is one small interface; each vendor is an adapter behind it
 * (sms/twilio.ts, email/smtp.ts, microblog/{mastodon,bluesky,x}.ts, dev/*.ts).
 * The fan-out, the compose page's "send a test to me" and the inbox's answers all
 * send through the same `Channels` registry, built once by the entry.
 */

export type ChannelId = 'sms' | 'email' | 'mastodon' | 'bluesky' | 'x';
export type MicroblogNetwork = 'mastodon' | 'bluesky' | 'x';

export interface SmsMessage {
  /** E.164 */
  to: string;
  body: string;
  /** Public https URLs of images: sent as MMS where the number supports it. */
  mediaUrls?: string[];
  /** Where Twilio reports this message's status (PUBLIC_URL/webhooks/twilio/status/<delivery id>). */
  statusCallback?: string;
}

export interface EmailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Without angle brackets: `<delivery-id>.<...>@host`; derived from the delivery id so a retry reuses it. */
  messageId: string;
  replyTo?: string;
  inReplyTo?: string;
  references?: string[];
  /** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post. */
  headers?: Record<string, string>;
}

export interface PostImage {
  data: Uint8Array;
  contentType: string;
  alt: string;
}

/** A post, or a thread when `parts` has several entries (each already within the network's limit). */
export interface PostMessage {
  parts: string[];
  /** Attached to the first part. */
  image?: PostImage;
  /** Answer an existing post (the inbox's replies): the network's id of the post answered. */
  inReplyTo?: { id: string; uri?: string; cid?: string; rootUri?: string; rootCid?: string };
}

export type MessageFor<C extends ChannelId> = C extends 'sms' ? SmsMessage : C extends 'email' ? EmailMessage : PostMessage;

export interface SendOptions {
  /**
   * Stable per delivery or post (its id): passed to the provider where it supports
   * idempotency (Mastodon's Idempotency-Key), so a retry after a crash does not post twice.
   */
  idempotencyKey: string;
}

export type SendResult =
  | {
      ok: true;
      /** The provider's id (Twilio SID, SMTP Message-ID, the first post's id). */
      providerId: string;
      /** Public link, for posts. */
      url?: string;
      /** Every part of a thread, in order. */
      parts?: { id: string; url?: string; uri?: string; cid?: string }[];
      /** SMS segments the provider reports, when it does. */
      segments?: number;
    }
  | {
      ok: false;
      /** 5xx, 429, timeouts and connection errors: try again later. Other 4xx: final. */
      retryable: boolean;
      /** The provider's error code, e.g. Twilio's 21610. */
      code?: string;
      error: string;
      /** Seconds the provider asked us to wait (Retry-After), when it did. */
      retryAfter?: number;
    };

export interface Channel<C extends ChannelId = ChannelId> {
  readonly id: C;
  /** `vendor` for real providers, `dev` for the outbox adapter. */
  readonly kind: 'vendor' | 'dev';
  /** Who we send as, for display: the From number, the account handle... */
  readonly account: string;
  send(message: MessageFor<C>, options: SendOptions): Promise<SendResult>;
  close?(): Promise<void>;
}

/** A mention of the account or a reply to one of its posts, read back from a network. */
export interface Mention {
  /** The network's id of the mention itself (Mastodon status id, Bluesky at:// uri, tweet id): the reply's provider id. */
  id: string;
  /** Who wrote it: `@user@instance` (Mastodon), `@handle` (Bluesky), `@username` (X). */
  author: string;
  /** Plain text (Mastodon's HTML stripped). */
  text: string;
  /** The network's id (at:// uri on Bluesky) of the post it answers; null when it answers nothing. */
  inReplyToId: string | null;
  /** The first post of its thread, where the network says (Bluesky's reply root, X's conversation id). */
  rootId: string | null;
  /** Public link to the mention. */
  url: string;
  at: Date;
  /** What answering it needs besides its id (Bluesky: its uri and cid, and its thread's root): `PostMessage.inReplyTo`. */
  answerRef?: { uri?: string; cid?: string; rootUri?: string; rootCid?: string };
}

export interface MentionPage {
  /** Newest first, as the networks list them. */
  items: Mention[];
  /**
   * Give this back as `since` next time. Never null once read: a first read that finds nothing still marks where
   * it looked, so what comes later is read in full and not as "the latest page".
   */
  cursor: string | null;
  /** More are waiting after this page: ask again with `cursor` straight away. */
  more: boolean;
  /** Too many to read at once: mentions older than these, and newer than `since`, were left out. */
  gap?: boolean;
}

export interface PostMetrics {
  boosts: number;
  likes: number;
  replies: number;
}

/**
 * What comes back from a microblog account. Errors are thrown as `MicroblogReadError`
 * (src/channels/microblog/reading.ts), so the poller can tell "not allowed" from "try later".
 */
export interface MicroblogReader {
  /**
   * Mentions of the account and replies to its posts, newer than `since` (a cursor this reader returned).
   * `since` null (the first poll): the latest page only, never the account's whole history.
   */
  fetchMentions(since: string | null): Promise<MentionPage>;
  /** Public posts carrying this hashtag (without `#`), other than the account's own; the same cursor rules. */
  fetchTagged(tag: string, since: string | null): Promise<MentionPage>;
  /** Counts for the account's posts (ids as `send` returned them, batched by the reader); deleted posts are left out. */
  fetchPostMetrics(ids: string[]): Promise<Record<string, PostMetrics>>;
}

/** A microblog channel: a vendor adapter also reads back; the dev outbox has nothing to read (no reader). */
export interface MicroblogChannel<C extends MicroblogNetwork = MicroblogNetwork> extends Channel<C> {
  readonly reader?: MicroblogReader;
}

/** Every channel has an adapter, so a missing one fails to compile. */
export type Channels = { [C in ChannelId]: C extends MicroblogNetwork ? MicroblogChannel<C> : Channel<C> };
