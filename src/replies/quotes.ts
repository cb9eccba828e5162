/**
 * The new part of an email reply, without the message it quotes: mail clients put
 * the original after a line such as "On Mon, … wrote:" / "Le lun. … a écrit :",
 * a "-----Original Message-----" rule, or as lines starting with ">".
 */
const quoteHeaders = [
  /^On .+wrote:\s*$/i,
  /^Le .+a écrit\s*:\s*$/i,
  /^-{2,}\s*(Original Message|Message d'origine|Message original|Forwarded message)\s*-{2,}\s*$/i,
  /^_{10,}\s*$/,
  /^(From|De)\s*:\s.+$/,
];

export function stripQuotedText(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    // Gmail wraps a long "On … wrote:" over two lines.
    const joined = `${trimmed} ${lines[i + 1]?.trim() ?? ''}`;
    if (quoteHeaders.some((re) => re.test(trimmed)) || /^On .+wrote:\s*$/i.test(joined) || /^Le .+a écrit\s*:\s*$/i.test(joined)) break;
    if (trimmed.startsWith('>')) continue;
    kept.push(line);
  }
  // A signature is the person's own text, but "-- " marks it as separate: keep what comes before.
  const signature = kept.findIndex((l) => l === '-- ');
  return (signature >= 0 ? kept.slice(0, signature) : kept).join('\n').trim();
}
