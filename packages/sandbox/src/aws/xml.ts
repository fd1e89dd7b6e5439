/** XML text/attribute escaping for every XML body the sandbox writes. */
const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (ch) => XML_ESCAPES[ch] ?? ch);
}

/**
 * A value the query-protocol serializer can render. Objects become child elements in key order, arrays become
 * `<member>` lists (awsQuery's list shape), dates ISO-8601 UTC without milliseconds (as AWS prints them),
 * `undefined` members are omitted.
 */
export type XmlValue =
  string | number | boolean | Date | XmlValue[] | { [name: string]: XmlValue | undefined };

export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function renderXmlValue(value: XmlValue): string {
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return isoSeconds(value);
  if (Array.isArray(value)) return value.map((item) => `<member>${renderXmlValue(item)}</member>`).join('');
  let out = '';
  for (const [name, child] of Object.entries(value)) {
    if (child === undefined) continue;
    out += `<${name}>${renderXmlValue(child)}</${name}>`;
  }
  return out;
}
