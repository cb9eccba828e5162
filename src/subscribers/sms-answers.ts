import type { Language } from '../db/schema';
import { analyzeSms, isGsm7Char, suggestGsm7Rewrite } from '../text/sms';
import { bilingualHelpAnswer, keywordAnswers, type KeywordAnswer } from '../../templates/sms/keywords';

const oneSegment = 160;

/**
 * The answer to a keyword, always one GSM-7 segment: an answer to STOP that costs two, or arrives as two
 * messages, is the last thing a person who wants no more SMS should get. The foundation's name is written in
 * GSM-7 (’ → ') and, should a name and keyword be too long for the template, the name is shortened.
 */
export function renderKeywordAnswer(answer: KeywordAnswer | 'bilingualHelp', lang: Language, vars: { foundation: string; keyword?: string }): string {
  const template = answer === 'bilingualHelp' ? bilingualHelpAnswer : keywordAnswers[lang][answer];
  const fill = (name: string) => template.replaceAll('{f}', name).replaceAll('{k}', vars.keyword ?? '');
  let name = [...suggestGsm7Rewrite(vars.foundation.trim()).text].filter(isGsm7Char).join('');
  let text = fill(name);
  let over = analyzeSms(text).units - oneSegment;
  while (over > 0 && name.length > 0) {
    name = name.slice(0, Math.max(0, name.length - over)).trimEnd();
    text = fill(name);
    over = analyzeSms(text).units - oneSegment;
  }
  return text;
}
