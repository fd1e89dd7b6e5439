/**
 * The agent's secret masker (SecretMasker + the value encoders HostContext registers): every registered value
 * and its encoded forms are replaced by `***` wherever they occur in a line.
 */
import { escapeCommandData, escapeCommandProperty } from './command';

export interface MaskerOptions {
  /** AZP_IGNORE_SECRETS_SHORTER_THAN: values (and variants) shorter than this are not masked. Default 1. */
  minLength?: number;
}

const MASK = '***';

// `scheme://user:PASSWORD@host`: the agent masks URL passwords even when nobody registered them.
const URL_CREDENTIALS = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/?#@]*:([^\s@/?#]+)@/dg;

export class Masker {
  private readonly minLength: number;
  private readonly raw = new Set<string>();
  private readonly forms = new Set<string>();
  private matcher: RegExp | undefined;

  constructor(options: MaskerOptions = {}) {
    this.minLength = Math.max(1, options.minLength ?? 1);
  }

  /** Every registered raw value (for the run record's redaction and tests). */
  get values(): ReadonlySet<string> {
    return this.raw;
  }

  /**
   * Registers a secret with the variants the agent masks: trimmed, quote-stripped, command-escaped, base64 of
   * UTF-8 (plain and escaped), JSON-, URI- and backslash-escaped. Base64 is only the whole value's encoding: a
   * secret inside a longer base64 text at an offset that is not a multiple of 3 bytes encodes differently and
   * is not caught — the agent behaves the same way.
   */
  add(value: string): void {
    if (typeof value !== 'string' || value.trim().length < this.minLength) return;
    this.raw.add(value);
    const trimmed = value.replace(/^[\r\n ]+|[\r\n ]+$/g, '');
    const bases = new Set([value, trimmed, value.trim()]);
    const quoted = /^(["'])([\s\S]+)\1$/.exec(trimmed);
    if (quoted) bases.add(quoted[2]!);
    // The agent registers the whole value; its lines are added too because scripts print a multi-line secret
    // one line at a time and each output line is masked on its own.
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r\n|\r|\n/)) if (line.trim()) bases.add(line.trim());
    }
    let added = false;
    for (const base of bases) {
      for (const form of variants(base)) {
        if (form.trim().length >= this.minLength && !this.forms.has(form)) {
          this.forms.add(form);
          added = true;
        }
      }
    }
    if (added) this.matcher = undefined;
  }

  /**
   * Replaces every registered form with `***`. Occurrences that overlap or touch are merged into one `***`, as
   * the agent merges replacement ranges, so no part of a longer secret survives next to a shorter one.
   */
  mask(text: string): string {
    if (text.length === 0) return text;
    const ranges: Array<[number, number]> = [];
    if (this.forms.size > 0) {
      const matcher = (this.matcher ??= buildMatcher(this.forms));
      matcher.lastIndex = 0;
      for (let match = matcher.exec(text); match; match = matcher.exec(text)) {
        ranges.push([match.index, match.index + match[1]!.length]);
        matcher.lastIndex = match.index + 1;
      }
    }
    if (text.includes('://')) {
      URL_CREDENTIALS.lastIndex = 0;
      for (const match of text.matchAll(URL_CREDENTIALS)) {
        const [start, end] = match.indices![1]!;
        if (match[1] !== MASK) ranges.push([start, end]);
      }
      ranges.sort((a, b) => a[0] - b[0]);
    }
    if (ranges.length === 0) return text;
    let out = '';
    let cursor = 0;
    let [start, end] = ranges[0]!;
    for (const [nextStart, nextEnd] of ranges.slice(1)) {
      if (nextStart <= end) {
        end = Math.max(end, nextEnd);
        continue;
      }
      out += text.slice(cursor, start) + MASK;
      cursor = end;
      [start, end] = [nextStart, nextEnd];
    }
    return out + text.slice(cursor, start) + MASK + text.slice(end);
  }
}

function variants(base: string): string[] {
  const escaped = escapeCommandData(base);
  return [
    base,
    escaped,
    escapeCommandProperty(base),
    base64(base),
    base64(escaped),
    JSON.stringify(base).slice(1, -1),
    encodeURIComponent(base),
    // Uri.EscapeDataString (RFC 3986) also escapes !'()*, which encodeURIComponent keeps.
    encodeURIComponent(base).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    base.replace(/[\\"']/g, '\\$&').replaceAll('\t', '\\t'),
    // The agent's BackslashEscape encoder goes the other way: a value written with escapes, printed unescaped.
    base.replaceAll('\\\\', '\\').replaceAll("\\'", "'").replaceAll('\\"', '"').replaceAll('\\t', '\t'),
  ];
}

function base64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

/**
 * One regex for all forms, longest first, inside a lookahead: it reports, at every position where some form
 * starts, the longest form starting there — overlapping occurrences included.
 */
function buildMatcher(forms: Set<string>): RegExp {
  const alternatives = [...forms]
    .sort((a, b) => b.length - a.length)
    .map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`(?=(${alternatives.join('|')}))`, 'g');
}
