import { randomUUID } from 'node:crypto';
import { insertAuditEntry } from '../db/audit';
import type { Staff } from '../db/schema';
import { webhookEventTypes, type WebhookEventType } from '../db/schema-webhooks';
import {
  deleteWebhookEndpointRow,
  findWebhookEndpoint,
  insertWebhookDeliveries,
  insertWebhookEndpoint,
  insertWebhookEvents,
  requeueFailedWebhookDelivery,
  unpauseWebhookEndpoint,
  updateWebhookEndpointRow,
} from '../db/webhooks';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { invalid, type FieldError } from '../staff/validate';
import { addSendJob } from './jobs';
import { newWebhookSecret } from './signature';

type D = Pick<Deps, 'db' | 'clock'>;

export interface EndpointInput {
  url: string;
  description: string;
  events: string[];
}

export interface ValidEndpoint {
  url: string;
  description: string;
  events: WebhookEventType[];
}

// Integrators try their receiver on their own machine first; everywhere else the payload and signature travel
// over TLS only.
const localHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An address Tocsin may POST to: http(s) only, https unless local, no credentials in it (fetch refuses them;
 * the signature is the authentication). Private addresses are not refused: only admins register endpoints, and
 * local ones must work.
 */
function checkUrl(raw: string, errors: FieldError[]): string {
  const text = raw.trim();
  if (!text) {
    errors.push({ field: 'url', key: 'webhooks.urlRequired' });
    return text;
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    errors.push({ field: 'url', key: 'webhooks.urlInvalid' });
    return text;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    errors.push({ field: 'url', key: 'webhooks.urlScheme', vars: { scheme: u.protocol.replace(/:$/, '') } });
    return text;
  }
  if (!u.hostname) errors.push({ field: 'url', key: 'webhooks.urlInvalid' });
  else if (u.protocol === 'http:' && !localHosts.has(u.hostname.toLowerCase())) errors.push({ field: 'url', key: 'webhooks.urlHttps' });
  else if (u.username || u.password) errors.push({ field: 'url', key: 'webhooks.urlCredentials' });
  u.hash = '';
  if (u.href.length > 2000) errors.push({ field: 'url', key: 'webhooks.urlTooLong', vars: { max: 2000 } });
  return u.href;
}

export function validateEndpoint(input: EndpointInput): ValidEndpoint {
  const errors: FieldError[] = [];
  const url = checkUrl(input.url, errors);
  const description = input.description.trim();
  if (description.length > 200) errors.push({ field: 'description', key: 'webhooks.descriptionTooLong', vars: { max: 200 } });
  const asked = [...new Set(input.events.map((e) => e.trim()).filter(Boolean))];
  const events = webhookEventTypes.filter((t) => asked.includes(t));
  if (asked.some((e) => !(webhookEventTypes as readonly string[]).includes(e))) errors.push({ field: 'events', key: 'webhooks.eventUnknown' });
  else if (!events.length) errors.push({ field: 'events', key: 'webhooks.eventsRequired' });
  if (errors.length) throw invalid(errors);
  return { url, description, events };
}

function requireAdmin(staff: Staff) {
  if (staff.role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins manage webhooks.');
}

async function endpointOrNotFound(deps: D, id: number) {
  const e = await findWebhookEndpoint(deps.db, id);
  if (!e) throw new AppError('NOT_FOUND', 'No such webhook endpoint.');
  return e;
}

/** Registers an endpoint, enabled. Its secret is returned this once; pages never show it again. */
export async function createWebhookEndpoint(deps: D, admin: Staff, input: EndpointInput, ip: string): Promise<{ id: number; secret: string }> {
  requireAdmin(admin);
  const v = validateEndpoint(input);
  const secret = newWebhookSecret();
  const id = await deps.db.transaction().execute(async (trx) => {
    const id = await insertWebhookEndpoint(trx, { ...v, secret, createdBy: admin.id, at: deps.clock.now() });
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'webhook.created', target: `webhook:${id}`, ip, detail: { url: v.url, events: v.events } });
    return id;
  });
  return { id, secret };
}

export async function updateWebhookEndpoint(deps: D, admin: Staff, id: number, input: EndpointInput, ip: string): Promise<void> {
  requireAdmin(admin);
  const before = await endpointOrNotFound(deps, id);
  const v = validateEndpoint(input);
  await deps.db.transaction().execute(async (trx) => {
    if (!(await updateWebhookEndpointRow(trx, id, { ...v, at: deps.clock.now() }))) throw new AppError('NOT_FOUND', 'No such webhook endpoint.');
    await insertAuditEntry(trx, {
      staffId: admin.id, actor: admin.email, action: 'webhook.updated', target: `webhook:${id}`, ip,
      detail: { url: v.url, events: v.events, ...(before.url !== v.url ? { previousUrl: before.url } : {}) },
    });
  });
}

/** A disabled endpoint gets nothing: no new deliveries, and those waiting fail when their turn comes. */
export async function setWebhookEndpointEnabled(deps: D, admin: Staff, id: number, enabled: boolean, ip: string): Promise<void> {
  requireAdmin(admin);
  await endpointOrNotFound(deps, id);
  await deps.db.transaction().execute(async (trx) => {
    await updateWebhookEndpointRow(trx, id, { enabled, at: deps.clock.now() });
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: enabled ? 'webhook.enabled' : 'webhook.disabled', target: `webhook:${id}`, ip });
  });
}

/** Deletes the endpoint with its deliveries and attempts; jobs still queued for them find nothing and stop. */
export async function deleteWebhookEndpoint(deps: D, admin: Staff, id: number, ip: string): Promise<void> {
  requireAdmin(admin);
  await deps.db.transaction().execute(async (trx) => {
    const url = await deleteWebhookEndpointRow(trx, id);
    if (url === null) throw new AppError('NOT_FOUND', 'No such webhook endpoint.');
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'webhook.deleted', target: `webhook:${id}`, ip, detail: { url } });
  });
}

/** "Send a test event": a `ping` to this endpoint alone, sent by the worker like any other. */
export async function sendTestEvent(deps: D, admin: Staff, id: number, ip: string): Promise<string> {
  requireAdmin(admin);
  const endpoint = await endpointOrNotFound(deps, id);
  if (!endpoint.enabled) throw new AppError('CONFLICT', 'This endpoint is disabled: enable it first.');
  const eventId = randomUUID();
  await deps.db.transaction().execute(async (trx) => {
    await insertWebhookEvents(trx, [{ id: eventId, type: 'ping', occurredAt: deps.clock.now(), data: { endpoint_id: id, message: 'A test event from Tocsin.' } }]);
    for (const d of await insertWebhookDeliveries(trx, [eventId], [id])) await addSendJob(trx, { id: d.id, endpointId: id });
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'webhook.ping', target: `webhook:${id}`, ip, detail: { eventId } });
  });
  return eventId;
}

/** "Retry now" for a failed delivery: a new round of attempts, starting at once, even if the endpoint was paused. */
export async function retryWebhookDelivery(deps: D, admin: Staff, endpointId: number, deliveryId: number, ip: string): Promise<void> {
  requireAdmin(admin);
  const endpoint = await endpointOrNotFound(deps, endpointId);
  if (!endpoint.enabled) throw new AppError('CONFLICT', 'This endpoint is disabled: enable it first.');
  await deps.db.transaction().execute(async (trx) => {
    if (!(await requeueFailedWebhookDelivery(trx, deliveryId, endpointId))) {
      throw new AppError('CONFLICT', 'Only a failed delivery can be retried; this one is not (any more).');
    }
    await unpauseWebhookEndpoint(trx, endpointId);
    await addSendJob(trx, { id: deliveryId, endpointId });
    await insertAuditEntry(trx, { staffId: admin.id, actor: admin.email, action: 'webhook.retried', target: `webhook:${endpointId}`, ip, detail: { deliveryId } });
  });
}
