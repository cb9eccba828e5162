/**
 * Words for cutting text. No-break spaces count as part of a word: French typography puts one before ! ? : ; and
 * inside « », precisely so that a line (here: a message or a post) never starts with the punctuation mark.
 */
const WORD = /(?:\S|[\u00A0\u2007\u202F])+/u;

export interface Word {
  start: number;
  end: number;
  text: string;
}

export function listWords(text: string, from = 0): Word[] {
  const re = new RegExp(WORD.source, 'gu');
  re.lastIndex = from;
  const words: Word[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    words.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  }
  return words;
}
