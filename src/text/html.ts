/** For the few HTML strings built outside JSX (digests, plain answers): every user character escaped. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
