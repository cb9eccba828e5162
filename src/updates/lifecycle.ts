import { insertAuditEntry } from '../db/audit';
import { findCampaignById } from '../db/campaigns';
import type { Transaction } from 'kysely';
import type { Database, Staff, UpdateStatus } from '../db/schema';
import { findUpdateView, insertUpdateEvent, replaceUpdateTexts } from '../db/updates';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import type { Language } from '../db/schema';
import { invalid } from '../staff/validate';
import { checkImage, storeImage } from './images';
import { handOverToFanout } from './publish';
import type { UpdateView } from './types';
import { validateUpdate, type UpdateInput, type ValidUpdate } from './validate';

type D = Pick<Deps, 'db' | 'clock' | 'config' | 'channels'>;

export interface DraftInput extends UpdateInput {
  campaignId: number;
  correctsId?: number | null;
  /** A new image (checked, then stored with the draft in one transaction). */
  image?: Uint8Array;
  /** Remove the current image. */
  removeImage?: boolean;
  source?: 'staff' | 'api' | 'rss';
}

/** The columns an author writes, as a validated update gives them. */
function contentColumns(v: ValidUpdate, imageId: number | null) {
  return {
    link: v.link,
    needs: JSON.stringify(v.needs),
    raised: v.raised,
    goal: v.goal,
    currency: v.currency,
    donors: v.donors,
    as_of: v.asOf,
    image_id: imageId,
    image_alt: imageId ? v.imageAlt : null,
  };
}

async function campaignFor(deps: D, id: number) {
  const campaign = await findCampaignById(deps.db, id);
  if (!campaign) throw invalid([{ field: 'campaign', key: 'update.campaignUnknown' }]);
  return campaign;
}

async function checkCorrects(deps: D, correctsId: number | null | undefined, campaignId: number) {
  if (!correctsId) return null;
  const original = await findUpdateView(deps.db, correctsId);
  if (!original || original.status !== 'published' || original.campaignId !== campaignId) {
    throw invalid([{ field: 'corrects', key: 'update.correctsInvalid' }]);
  }
  return original.id;
}

export async function createDraft(deps: D, author: Staff | null, input: DraftInput): Promise<number> {
  const campaign = await campaignFor(deps, input.campaignId);
  const v = validateUpdate(input, campaign, { complete: false, hasImage: Boolean(input.image), timeZone: deps.config.TIMEZONE });
  const correctsId = await checkCorrects(deps, input.correctsId, campaign.id);
  if (input.image) checkImage(input.image);
  return deps.db.transaction().execute(async (trx) => {
    const imageId = input.image ? await storeImage(trx, author?.id ?? null, input.image) : null;
    const row = await trx
      .insertInto('updates')
      .values({
        campaign_id: campaign.id,
        corrects_id: correctsId,
        ...contentColumns(v, imageId),
        source: input.source ?? 'staff',
        author_id: author?.id ?? null,
        created_at: deps.clock.now(),
        updated_at: deps.clock.now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await replaceUpdateTexts(trx, row.id, v.leads, []);
    await insertUpdateEvent(trx, { updateId: row.id, staffId: author?.id ?? null, action: input.source === 'rss' ? 'imported' : 'created', at: deps.clock.now() });
    return row.id;
  });
}

/** Loads an update for a change, checking who may make it and that nobody changed it meanwhile. */
async function loadForChange(deps: D, id: number, version: string | undefined, allowed: UpdateStatus[]): Promise<UpdateView> {
  const update = await findUpdateView(deps.db, id);
  if (!update) throw new AppError('NOT_FOUND', 'No update with this id.');
  if (version !== undefined && version !== String(update.version)) {
    throw new AppError('CONFLICT', 'This update was changed by someone else since you opened it. Reload to see the current version.');
  }
  if (!allowed.includes(update.status)) {
    throw new AppError('CONFLICT', `This update is ${update.status.replace('_', ' ')}; it cannot be changed that way now.`, { status: update.status });
  }
  return update;
}

function canEdit(staff: Staff, update: UpdateView): boolean {
  return staff.role === 'admin' || update.authorId === staff.id;
}

export async function saveDraft(deps: D, staff: Staff, id: number, version: string | undefined, input: DraftInput): Promise<void> {
  const update = await loadForChange(deps, id, version, ['draft']);
  if (!canEdit(staff, update)) throw new AppError('FORBIDDEN', 'Only the author or an admin may edit this draft.');
  const campaign = await campaignFor(deps, update.campaignId);
  const keepsImage = Boolean(update.imageId) && !input.removeImage;
  const v = validateUpdate(input, campaign, { complete: false, hasImage: Boolean(input.image) || keepsImage, timeZone: deps.config.TIMEZONE });
  if (input.image) checkImage(input.image);
  await deps.db.transaction().execute(async (trx) => {
    const imageId = input.image ? await storeImage(trx, staff.id, input.image) : keepsImage ? update.imageId : null;
    const changed = await trx
      .updateTable('updates')
      .set({
        ...contentColumns(v, imageId),
        updated_at: deps.clock.now(),
        version: update.version + 1,
      })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .where('version', '=', update.version)
      .executeTakeFirst();
    if (!changed.numUpdatedRows) throw new AppError('CONFLICT', 'This update changed while you were saving it. Reload and try again.');
    await replaceUpdateTexts(trx, id, v.leads, update.smsGsm7);
  });
}

/** The author's one tap: the SMS in `lang` uses the GSM-7 rewrite (or goes back to the original). */
export async function setSmsRewrite(deps: D, staff: Staff, id: number, lang: Language, on: boolean): Promise<void> {
  const update = await loadForChange(deps, id, undefined, ['draft']);
  if (!canEdit(staff, update)) throw new AppError('FORBIDDEN', 'Only the author or an admin may edit this draft.');
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('update_texts').set({ sms_gsm7: on }).where('update_id', '=', id).where('language', '=', lang).execute();
    await trx.updateTable('updates').set((eb) => ({ updated_at: deps.clock.now(), version: eb('version', '+', 1) })).where('id', '=', id).execute();
  });
}

async function transition(
  deps: D,
  staff: Staff,
  update: UpdateView,
  to: UpdateStatus,
  event: { action: string; comment?: string | null },
  set: Record<string, unknown> = {},
  during?: (trx: Transaction<Database>) => Promise<void>,
): Promise<void> {
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    // Guarded by the status and version read before: a second approval, or a race with an edit, changes nothing.
    const changed = await trx
      .updateTable('updates')
      .set({ status: to, updated_at: now, version: update.version + 1, ...set })
      .where('id', '=', update.id)
      .where('status', '=', update.status)
      .where('version', '=', update.version)
      .executeTakeFirst();
    if (!changed.numUpdatedRows) throw new AppError('CONFLICT', 'This update was changed by someone else meanwhile. Reload to see it.');
    await insertUpdateEvent(trx, { updateId: update.id, staffId: staff.id, action: event.action, comment: event.comment ?? null, at: now });
    if (during) await during(trx);
  });
}

export async function submitForApproval(deps: D, staff: Staff, id: number, version?: string): Promise<void> {
  const update = await loadForChange(deps, id, version, ['draft']);
  if (!canEdit(staff, update)) throw new AppError('FORBIDDEN', 'Only the author or an admin may submit this draft.');
  const campaign = await campaignFor(deps, update.campaignId);
  // Every campaign language must have its lead before a second person is asked to approve.
  validateUpdate(updateAsInput(update), campaign, { complete: true, hasImage: Boolean(update.imageId), timeZone: deps.config.TIMEZONE });
  await transition(deps, staff, update, 'pending_approval', { action: 'submitted' }, { submitted_at: deps.clock.now() });
}

export async function withdrawSubmission(deps: D, staff: Staff, id: number): Promise<void> {
  const update = await loadForChange(deps, id, undefined, ['pending_approval']);
  if (!canEdit(staff, update)) throw new AppError('FORBIDDEN', 'Only the author or an admin may withdraw this update.');
  await transition(deps, staff, update, 'draft', { action: 'withdrawn' }, { submitted_at: null });
}

function requireApprover(staff: Staff, update: UpdateView) {
  if (staff.role !== 'approver' && staff.role !== 'admin') throw new AppError('FORBIDDEN', 'Only approvers and admins approve updates.');
  if (update.authorId === staff.id) throw new AppError('FORBIDDEN', 'You wrote this update: a second person must approve it.');
}

/** A second person approves: the update is published and handed to the fan-out, atomically. */
export async function approveUpdate(deps: D, staff: Staff, id: number, version: string | undefined, comment: string, ip: string): Promise<void> {
  const update = await loadForChange(deps, id, version, ['pending_approval']);
  requireApprover(staff, update);
  const now = deps.clock.now();
  await transition(deps, staff, update, 'published', { action: 'approved', comment: comment.trim() || null },
    { decided_by: staff.id, decided_at: now, decision_comment: comment.trim() || null, published_at: now },
    async (trx) => {
      await insertAuditEntry(trx, { staffId: staff.id, actor: staff.email, action: 'update.approved', target: `update:${id}`, ip });
      await handOverToFanout(deps, trx, id);
    });
}

export async function rejectUpdate(deps: D, staff: Staff, id: number, version: string | undefined, comment: string, ip: string): Promise<void> {
  const update = await loadForChange(deps, id, version, ['pending_approval']);
  requireApprover(staff, update);
  if (!comment.trim()) throw invalid([{ field: 'comment', key: 'update.rejectReasonRequired' }]);
  const now = deps.clock.now();
  await transition(deps, staff, update, 'rejected', { action: 'rejected', comment: comment.trim() },
    { decided_by: staff.id, decided_at: now, decision_comment: comment.trim() },
    async (trx) => insertAuditEntry(trx, { staffId: staff.id, actor: staff.email, action: 'update.rejected', target: `update:${id}`, ip }));
}

/**
 * Break-glass: an admin publishes without a second person, only with a typed reason,
 * which goes to the audit log and stays on the update's page.
 */
export async function breakGlassPublish(deps: D, staff: Staff, id: number, version: string | undefined, reason: string, ip: string): Promise<void> {
  if (staff.role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins may publish without approval.');
  const why = reason.trim();
  if ([...why].length < 10) throw invalid([{ field: 'reason', key: 'update.breakGlassReasonRequired', vars: { min: 10 } }]);
  const update = await loadForChange(deps, id, version, ['draft', 'pending_approval']);
  const campaign = await campaignFor(deps, update.campaignId);
  validateUpdate(updateAsInput(update), campaign, { complete: true, hasImage: Boolean(update.imageId), timeZone: deps.config.TIMEZONE });
  const now = deps.clock.now();
  await transition(deps, staff, update, 'published', { action: 'break_glass', comment: why },
    { decided_by: staff.id, decided_at: now, break_glass_reason: why, published_at: now, submitted_at: update.status === 'draft' ? now : undefined },
    async (trx) => {
      await insertAuditEntry(trx, { staffId: staff.id, actor: staff.email, action: 'update.break_glass', target: `update:${id}`, ip, detail: { reason: why } });
      await handOverToFanout(deps, trx, id);
    });
}

/** An update as the strings a form would send, to re-validate it whole before it moves on. */
export function updateAsInput(u: UpdateView): UpdateInput {
  return {
    leads: u.leads,
    needs: u.needs.map((n) => ({ item: n.item, quantity: n.quantity === null ? '' : String(n.quantity), unit: n.unit ?? '', urgency: n.urgency, met: n.met })),
    raised: u.raised ?? '',
    goal: u.goal ?? '',
    currency: u.currency ?? '',
    donors: u.donors === null ? '' : String(u.donors),
    asOf: u.asOf?.toISOString() ?? '',
    link: u.link ?? '',
    imageAlt: u.imageAlt ?? '',
  };
}
