import type { Language } from '../db/schema';

/**
 * SMS keywords. A message is a keyword only when, trimmed, it is exactly one (case and accents ignored:
 * "arrêt", "Arret" and "ARRÊT" are ARRET), so "please stop texting me" stays a message for a person to read.
 *
 * Each keyword has the language its answer is written in; `null` marks words used in both languages (STOP is
 * the legal opt-out word in France too; START and UNSTOP are the carriers' own words), answered in the
 * subscriber's language.
 */
export const joinKeywords: Record<string, Language | null> = { JOIN: 'en', START: null, YES: 'en', UNSTOP: null, ABONNER: 'fr', OUI: 'fr' };
export const leaveKeywords: Record<string, Language | null> = {
  STOP: null,
  STOPALL: 'en',
  UNSUBSCRIBE: 'en',
  CANCEL: 'en',
  END: 'en',
  QUIT: 'en',
  REVOKE: 'en',
  OPTOUT: 'en',
  ARRET: 'fr',
  DESABONNER: 'fr',
};
export const helpKeywords: Record<string, Language | 'both'> = { HELP: 'en', INFO: 'both', AIDE: 'fr' };

/** Leave words that, followed by a campaign keyword, leave that campaign only. STOPALL means everything. */
const leaveOneWords = new Set(Object.keys(leaveKeywords).filter((k) => k !== 'STOPALL'));

export type InboundCommand =
  | { kind: 'join'; lang: Language | null; campaignKeyword: string | null }
  | { kind: 'leave'; lang: Language | null; campaignKeyword: string | null }
  | { kind: 'help'; lang: Language | 'both' }
  | { kind: 'message'; possibleOptOut: boolean };

/** Upper case, no accents, single spaces, without the punctuation people add around a word ("Stop!", "«oui»"). */
export function normalizeKeywordText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[\p{P}\s]+|[\p{P}\s]+$/gu, '');
}

/**
 * What an inbound SMS asks for. `isCampaignKeyword` says whether a word (already normalised) is a campaign's
 * keyword. System keywords win over campaign keywords of the same spelling.
 */
export function parseInboundSms(text: string, isCampaignKeyword: (word: string) => boolean): InboundCommand {
  const normal = normalizeKeywordText(text);
  const words = normal.split(' ');
  if (words.length === 1) {
    const word = words[0]!;
    if (Object.hasOwn(leaveKeywords, word)) return { kind: 'leave', lang: leaveKeywords[word] ?? null, campaignKeyword: null };
    if (Object.hasOwn(joinKeywords, word)) return { kind: 'join', lang: joinKeywords[word] ?? null, campaignKeyword: null };
    if (Object.hasOwn(helpKeywords, word)) return { kind: 'help', lang: helpKeywords[word]! };
    if (isCampaignKeyword(word)) return { kind: 'join', lang: null, campaignKeyword: word };
  } else if (words.length === 2) {
    const [verb, keyword] = words as [string, string];
    if (leaveOneWords.has(verb) && isCampaignKeyword(keyword)) return { kind: 'leave', lang: leaveKeywords[verb] ?? null, campaignKeyword: keyword };
    if (Object.hasOwn(joinKeywords, verb) && isCampaignKeyword(keyword)) return { kind: 'join', lang: joinKeywords[verb] ?? null, campaignKeyword: keyword };
  }
  return { kind: 'message', possibleOptOut: looksLikeOptOut(normal) };
}

// Words that, inside a longer message, suggest the person wants no more messages. Generous on purpose: the flag
// only asks a person to read the message; it unsubscribes no one.
const optOutWords = /\b(STOP|STOPALL|STOPPEZ|UNSUBSCRIBE|UNSUBSCRIBED|OPTOUT|OPT OUT|ARRET|ARRETE|ARRETEZ|ARRETER|DESABONNER|DESABONNEZ|DESABONNEMENT|DESINSCRIRE|DESINSCRIVEZ|DESINSCRIPTION|REMOVE ME|NO MORE|PLUS DE MESSAGES?|PLUS DE SMS)\b/;

/** Whether a message that is not a keyword still reads like a request to stop ("please stop texting me"). */
export function looksLikeOptOut(text: string): boolean {
  return optOutWords.test(normalizeKeywordText(text));
}
