import { AwsError } from './errors';
import { renderXmlValue, type XmlValue } from './xml';

/**
 * awsQuery requests: `Action=Op&Version=…` in a form body (or the query string), with lists as 1-based
 * `Name.member.N`, structs as `Name.Field`, maps as `Name.entry.N.key/value`.
 */

/** Decodes application/x-www-form-urlencoded text ('+' is a space there, unlike in SigV4 canonical queries). */
export function parseFormEncoded(text: string): Map<string, string> {
  const params = new Map<string, string>();
  if (!text) return params;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    params.set(formDecode(rawName), formDecode(rawValue));
  }
  return params;
}

function formDecode(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Malformed escapes are kept literally rather than failing the whole request (as lenient servers do).
    return spaced;
  }
}

export type QueryTree = string | QueryTree[] | { [name: string]: QueryTree };

/** Turns flat dotted parameters into nested values: `.member.N` lists, `.entry.N.key/value` maps, structs. */
export function parseQueryTree(params: Map<string, string>): Record<string, QueryTree> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of params) {
    const parts = name.split('.');
    let node: Record<string, unknown> = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] as string;
      let next = node[part];
      if (typeof next !== 'object' || next === null) {
        // `List=` (the SDK's empty list) followed by `List.member.1=…` cannot both occur; members win.
        next = {};
        node[part] = next;
      }
      node = next as Record<string, unknown>;
    }
    const leaf = parts[parts.length - 1] as string;
    if (!(leaf in node) || typeof node[leaf] === 'string') node[leaf] = value;
  }
  return normalize(root) as Record<string, QueryTree>;
}

function normalize(node: unknown): QueryTree {
  if (typeof node === 'string') return node;
  const obj = node as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && (keys[0] === 'member' || keys[0] === 'entry')) {
    const items = obj[keys[0]] as Record<string, unknown> | string;
    if (typeof items === 'object') {
      const list = indexed(items).map(normalize);
      if (keys[0] === 'entry') {
        const map: Record<string, QueryTree> = {};
        for (const entry of list) {
          if (typeof entry === 'object' && !Array.isArray(entry) && typeof entry['key'] === 'string') {
            map[entry['key']] = entry['value'] ?? '';
          }
        }
        return map;
      }
      return list;
    }
  }
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) return indexed(obj).map(normalize);
  const out: Record<string, QueryTree> = {};
  for (const key of keys) out[key] = normalize(obj[key]);
  return out;
}

function indexed(obj: Record<string, unknown>): unknown[] {
  return Object.keys(obj)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => obj[k]);
}

/** Typed access to one request's parameters; AWS-shaped ValidationErrors for bad types. */
export class QueryParams {
  readonly tree: Record<string, QueryTree>;

  constructor(readonly flat: Map<string, string>) {
    this.tree = parseQueryTree(flat);
  }

  string(name: string): string | undefined {
    const value = this.tree[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** A `.member.N` list; the SDK's bare `Name=` means an empty list. */
  list(name: string): string[] | undefined {
    const value = this.tree[name];
    if (value === undefined) return undefined;
    if (value === '') return [];
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
    return typeof value === 'string' ? [value] : undefined;
  }

  integer(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined || raw === '') return undefined;
    if (!/^-?\d+$/.test(raw.trim())) {
      throw new AwsError(
        'ValidationError',
        `Value '${raw}' for parameter ${name} is invalid. Must be an integer.`,
      );
    }
    return Number(raw);
  }
}

/** `<OpResponse xmlns=NS><OpResult>…</OpResult><ResponseMetadata><RequestId>…` — exactly the awsQuery envelope. */
export function renderQueryResult(
  operation: string,
  xmlns: string,
  result: Record<string, XmlValue | undefined> | undefined,
  requestId: string,
): string {
  const body =
    result === undefined ? '' : `<${operation}Result>${renderXmlValue(result)}</${operation}Result>`;
  return (
    `<${operation}Response xmlns="${xmlns}">${body}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>\n`
  );
}
