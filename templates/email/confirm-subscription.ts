import { html } from 'hono/html';
import type { Language } from '../../src/db/schema';

/** The double opt-in email: nobody receives updates by email until they follow this link. */
export interface ConfirmSubscriptionVars {
  foundation: string;
  campaigns: string[];
  url: string;
  hours: number;
}

const words = {
  en: {
    subject: (v: ConfirmSubscriptionVars) => `Confirm your subscription to ${v.foundation}`,
    intro: (v: ConfirmSubscriptionVars) => `Someone, hopefully you, asked to receive crisis updates from ${v.foundation} by email for:`,
    action: 'Confirm my subscription',
    expiry: (v: ConfirmSubscriptionVars) => `This link works for ${v.hours} hours.`,
    ignore: 'If you did not ask for this, ignore this email: you will receive nothing.',
  },
  fr: {
    subject: (v: ConfirmSubscriptionVars) => `Confirmez votre abonnement à ${v.foundation}`,
    intro: (v: ConfirmSubscriptionVars) => `Quelqu’un, vous sans doute, a demandé à recevoir par courriel les alertes de crise de ${v.foundation} pour :`,
    action: 'Confirmer mon abonnement',
    expiry: (v: ConfirmSubscriptionVars) => `Ce lien fonctionne pendant ${v.hours} heures.`,
    ignore: 'Si vous n’avez rien demandé, ignorez ce courriel : vous ne recevrez rien.',
  },
} satisfies Record<Language, unknown>;

export function confirmSubscriptionEmail(lang: Language, v: ConfirmSubscriptionVars): { subject: string; text: string; html: string } {
  const w = words[lang];
  const text = [w.intro(v), v.campaigns.map((c) => `- ${c}`).join('\n'), `${w.action}: ${v.url}`, w.expiry(v), w.ignore].join('\n\n');
  // hono/html escapes every interpolated value: campaign names and the foundation's name are text, not markup.
  const body = html`<p>${w.intro(v)}</p><ul>${v.campaigns.map((c) => html`<li>${c}</li>`)}</ul><p><a href="${v.url}">${w.action}</a></p><p>${w.expiry(v)}</p><p>${w.ignore}</p>`;
  return { subject: w.subject(v), text, html: String(body) };
}
