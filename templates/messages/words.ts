import type { Language, Urgency } from '../../src/db/schema';

/** The fixed words of outgoing messages, per language (pages use the catalogue in templates/i18n). */
export const words = {
  en: {
    correction: 'Correction',
    correctsUpdateOf: 'This corrects our update of {date}:',
    raisedOf: '{raised} raised of {goal} ({percent})',
    raised: '{raised} raised',
    donors: '{count} donors',
    oneDonor: '1 donor',
    asOf: 'as of {date}',
    needed: 'Needed',
    met: 'met',
    urgency: { critical: 'critical', high: 'urgent', normal: '' } satisfies Record<Urgency, string>,
    smsOptOut: 'Reply STOP to opt out',
    readMore: 'Read more',
    donate: 'Donate',
    emailFooter: 'You receive this because you subscribed to {campaign} updates from {foundation}.',
    unsubscribe: 'Unsubscribe',
    imageAlt: 'Image',
  },
  fr: {
    correction: 'Rectificatif',
    correctsUpdateOf: 'Ceci rectifie notre message du {date} :',
    raisedOf: '{raised} collectés sur {goal} ({percent})',
    raised: '{raised} collectés',
    donors: '{count} donateurs',
    oneDonor: '1 donateur',
    asOf: 'au {date}',
    needed: 'Besoins',
    met: 'couvert',
    urgency: { critical: 'critique', high: 'urgent', normal: '' } satisfies Record<Urgency, string>,
    smsOptOut: 'STOP pour vous désabonner',
    readMore: 'Lire la suite',
    donate: 'Faire un don',
    emailFooter: 'Vous recevez ce message car vous êtes abonné aux nouvelles de {campaign} de {foundation}.',
    unsubscribe: 'Se désabonner',
    imageAlt: 'Image',
  },
} satisfies Record<Language, unknown>;

export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, k: string) => (k in vars ? String(vars[k]) : whole));
}
