import type { ColumnType, Generated, Selectable } from 'kysely';

/** Tables of outgoing webhooks (migrations/0008_webhooks.sql). */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export const webhookEventTypes = ['update.published', 'delivery.status_changed', 'reply.received', 'subscriber.changed'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
/** `ping`: the test event an admin sends from the endpoint's page; never subscribed to. */
export type WebhookEventKind = WebhookEventType | 'ping';
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';
export type WebhookSource = 'updates' | 'deliveries' | 'replies' | 'consent_log';

export interface WebhookEndpointTable {
  id: Generated<number>;
  url: string;
  description: Generated<string>;
  events: WebhookEventType[];
  secret: string;
  enabled: Generated<boolean>;
  consecutive_failures: Generated<number>;
  paused_until: Date | null;
  created_by: number | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export type WebhookEndpoint = Selectable<WebhookEndpointTable>;

export interface WebhookEventTable {
  id: string;
  type: WebhookEventKind;
  occurred_at: Date;
  data: ColumnType<Record<string, unknown>, string, never>;
  source_key: string | null;
  created_at: CreatedAt;
}
export type WebhookEvent = Selectable<WebhookEventTable>;

export interface WebhookDeliveryTable {
  id: Generated<number>;
  event_id: string;
  endpoint_id: number;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export type WebhookDelivery = Selectable<WebhookDeliveryTable>;

export interface WebhookAttemptTable {
  id: Generated<number>;
  delivery_id: number;
  at: Date;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}
export type WebhookAttempt = Selectable<WebhookAttemptTable>;

export interface WebhookCursorTable {
  source: WebhookSource;
  last_at: Date | null;
  last_id: number;
  started_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
export type WebhookCursor = Selectable<WebhookCursorTable>;

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointTable;
  webhook_events: WebhookEventTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  webhook_cursors: WebhookCursorTable;
}
