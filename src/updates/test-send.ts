import { randomUUID } from 'node:crypto';
import type { CampaignWithKeywords } from '../db/campaigns';
import type { Language, Staff } from '../db/schema';
import type { Deps } from '../deps';
import { renderContext, renderEmail, renderSettingsOf, renderSms } from './render';
import type { UpdateView } from './types';

/**
 * "Send a test to me": the author's own phone and email receive exactly what
 * subscribers would, through the same channels as the fan-out (the dev outbox
 * when no provider is configured).
 */
export async function sendTestToStaff(
  deps: Pick<Deps, 'db' | 'config' | 'channels' | 'log'>,
  staff: Staff,
  update: UpdateView,
  campaign: CampaignWithKeywords,
): Promise<{ sent: string[]; failed: { channel: string; error: string }[]; noPhone: boolean }> {
  const settings = renderSettingsOf(deps.config);
  const lang: Language = staff.language && update.leads[staff.language] ? staff.language : (campaign.languages.find((l) => update.leads[l]) ?? campaign.languages[0]!);
  const corrects = update.correctsId ? { id: update.correctsId, publishedAt: null } : null;
  const ctx = renderContext(settings, update, campaign, lang, corrects);
  const key = `test-${update.id}-${randomUUID()}`;
  const sent: string[] = [];
  const failed: { channel: string; error: string }[] = [];

  if (staff.phone) {
    const sms = renderSms(ctx, settings.smsMaxSegments);
    const r = await deps.channels.sms.send({ to: staff.phone, body: sms.text }, { idempotencyKey: key });
    if (r.ok) sent.push('SMS');
    else failed.push({ channel: 'SMS', error: r.error });
  }
  const email = renderEmail(ctx, { unsubscribeUrl: `${settings.publicUrl}/staff/account`, imageUrl: update.imageId ? `${settings.publicUrl}/images/${update.imageId}` : null });
  const r = await deps.channels.email.send(
    { to: staff.email, subject: `[TEST] ${email.subject}`, html: email.html, text: email.text, messageId: `${key}@${new URL(settings.publicUrl).hostname}` },
    { idempotencyKey: key },
  );
  if (r.ok) sent.push('email');
  else failed.push({ channel: 'email', error: r.error });
  deps.log.info('test sent', { updateId: update.id, staffId: staff.id, sent, failed: failed.map((f) => f.channel) });
  return { sent, failed, noPhone: !staff.phone };
}
