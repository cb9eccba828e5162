import { sql } from 'kysely';
import type { Deps } from '../deps';
import { translator } from '../i18n';
import { escapeHtml } from '../text/html';

export const digestChoices = [15, 60, 240, 1440] as const;

/**
 * Emails each staff member who asked for it the replies received since their
 * last digest, every 15 minutes to once a day. Run every minute by the worker;
 * a member is due when their period has passed.
 */
export async function sendReplyDigests(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'channels' | 'log'>): Promise<number> {
  const now = deps.clock.now();
  const due = await sql<{ id: number; email: string; language: 'en' | 'fr' | null; since: Date }>`
    SELECT id, email, language, coalesce(digest_sent_at, created_at) AS since FROM staff
    WHERE digest_minutes IS NOT NULL AND disabled_at IS NULL
      AND (digest_sent_at IS NULL OR digest_sent_at <= ${now}::timestamptz - make_interval(mins => digest_minutes))`.execute(deps.db);
  let sent = 0;
  for (const member of due.rows) {
    const replies = await deps.db
      .selectFrom('replies')
      .select(['id', 'channel', 'sender', 'body', 'received_at', 'possible_opt_out'])
      .where('received_at', '>', member.since)
      .where('received_at', '<=', now)
      .orderBy('id')
      .limit(51)
      .execute();
    await deps.db.updateTable('staff').set({ digest_sent_at: now }).where('id', '=', member.id).execute();
    if (!replies.length) continue;
    const t = translator(member.language ?? deps.config.DEFAULT_LANGUAGE);
    const inbox = `${deps.config.PUBLIC_URL}/staff/inbox`;
    const lines = replies.slice(0, 50).map((r) => `${r.possible_opt_out ? '[!] ' : ''}${r.channel} · ${r.sender}: ${r.body.replace(/\s+/g, ' ').slice(0, 200)}\n  ${inbox}/${r.id}`);
    const count = replies.length > 50 ? '50+' : String(replies.length);
    const text = [t('digest.intro'), '', ...lines, '', `${t('digest.open')}: ${inbox}`].join('\n');
    const html = `<p>${escapeHtml(t('digest.intro'))}</p><ul>${replies
      .slice(0, 50)
      .map((r) => `<li>${r.possible_opt_out ? '⚠ ' : ''}<strong>${escapeHtml(r.channel)} · ${escapeHtml(r.sender)}</strong>: ${escapeHtml(r.body.slice(0, 200))} <a href="${inbox}/${r.id}">→</a></li>`)
      .join('')}</ul><p><a href="${inbox}">${escapeHtml(t('digest.open'))}</a></p>`;
    const key = `digest-${member.id}-${now.getTime()}`;
    const result = await deps.channels.email.send(
      { to: member.email, subject: t('digest.subject', { count, foundation: deps.config.FOUNDATION_NAME }), text, html, messageId: `${key}@${new URL(deps.config.PUBLIC_URL).hostname}` },
      { idempotencyKey: key },
    );
    if (result.ok) sent++;
    else deps.log.warn('reply digest not sent', { staffId: member.id, error: result.error });
  }
  return sent;
}
