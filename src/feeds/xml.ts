/**
 * Small helpers for the XML we write ourselves (our namespace's elements, CAP). Everything user-written passes
 * through `xmlText`/`xmlAttr`, so a lead with `<script>`, `&` or quotes stays text and the document stays well-formed.
 */

// Characters XML 1.0 does not allow anywhere, even escaped: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F.
const notXmlChar = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlSafe(s: string): string {
  return s.replace(notXmlChar, '');
}

export function xmlText(s: string | number): string {
  return xmlSafe(String(s)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function xmlAttr(s: string | number): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** `<name a="…">text</name>`, or nothing when the value is null. */
export function xmlElement(name: string, value: string | number | null | undefined, attrs: Record<string, string | number | boolean | null | undefined> = {}): string {
  if (value === null || value === undefined) return '';
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');
  return `<${name}${a}>${xmlText(value)}</${name}>`;
}

/** HTML-escaped text, for Atom elements of type "html". */
export function htmlEscape(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
