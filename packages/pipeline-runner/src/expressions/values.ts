/**
 * Expression values and Azure's type coercion (DistributedTask.Expressions EvaluationResult): conversions,
 * equality (right converted to the left's type) and ordering, strings compared ordinal ignore-case.
 */

/** .NET System.Version: 2 to 4 components; a missing Build/Revision sorts before 0. */
export class Version {
  private constructor(readonly parts: readonly number[]) {}

  static parse(text: string): Version | undefined {
    const pieces = text.split('.');
    if (pieces.length < 2 || pieces.length > 4) return undefined;
    const parts: number[] = [];
    for (const piece of pieces) {
      const trimmed = piece.trim();
      if (!/^\+?\d+$/.test(trimmed)) return undefined;
      const n = Number(trimmed);
      if (n > 2147483647) return undefined;
      parts.push(n);
    }
    return new Version(parts);
  }

  compare(other: Version): number {
    for (let i = 0; i < 4; i++) {
      const a = this.parts[i] ?? -1;
      const b = other.parts[i] ?? -1;
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  }

  toString(): string {
    return this.parts.join('.');
  }
}

/** A read-only map: `variables`, a dependency, its outputs. Lookups are case-insensitive. */
export class ObjectValue {
  constructor(
    private readonly lookup: (key: string) => Value,
    private readonly list: () => Array<[string, Value]> = () => [],
  ) {}

  static of(record: Record<string, Value>): ObjectValue {
    const entries = Object.entries(record);
    return new ObjectValue(
      (key) => {
        const folded = foldCase(key);
        return entries.find(([name]) => foldCase(name) === folded)?.[1] ?? null;
      },
      () => entries,
    );
  }

  get(key: string): Value {
    return this.lookup(key);
  }

  entries(): Array<[string, Value]> {
    return this.list();
  }
}

export type Value = null | boolean | number | string | Version | readonly Value[] | ObjectValue;

export type Kind = 'Null' | 'Boolean' | 'Number' | 'String' | 'Version' | 'Array' | 'Object';

export function kindOf(value: Value): Kind {
  if (value === null) return 'Null';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return 'Number';
  if (typeof value === 'string') return 'String';
  if (value instanceof Version) return 'Version';
  if (value instanceof ObjectValue) return 'Object';
  return 'Array';
}

/** A conversion the language defines as an error (ordering against an unconvertible value). */
export class CoercionError extends Error {
  constructor(value: Value, to: Kind) {
    const shown = typeof value === 'string' ? `'${value}'` : toDisplayString(value);
    super(`cannot convert ${kindOf(value)} ${shown} to ${to}`);
  }
}

export function toBoolean(value: Value): boolean {
  if (value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  return true;
}

// Double.TryParse with AllowLeadingWhite|AllowTrailingWhite|AllowLeadingSign|AllowDecimalPoint|AllowThousands.
const NUMBER_TEXT = /^[\t\n\v\f\r ]*[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)[\t\n\v\f\r ]*$/;

export function tryNumber(value: Value): number | undefined {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === '') return 0;
    return NUMBER_TEXT.test(value) ? Number(value.trim().replaceAll(',', '')) : undefined;
  }
  return undefined;
}

export function tryString(value: Value): string | undefined {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  if (value instanceof Version) return value.toString();
  return undefined;
}

export function tryVersion(value: Value): Version | undefined {
  if (value instanceof Version) return value;
  if (typeof value === 'number') return Version.parse(formatNumber(value));
  if (typeof value === 'string') return Version.parse(value);
  return undefined;
}

function convert<T>(value: Value, to: Kind, attempt: (value: Value) => T | undefined): T {
  const converted = attempt(value);
  if (converted === undefined) throw new CoercionError(value, to);
  return converted;
}

export const toNumber = (value: Value): number => convert(value, 'Number', tryNumber);
export const toStringValue = (value: Value): string => convert(value, 'String', tryString);

/** .NET Double.ToString("G15", InvariantCulture). */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(15));
  const [mantissa, exponentText] = rounded.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent >= 15 || exponent < -5) {
    return `${mantissa}E${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(rounded);
}

/** OrdinalIgnoreCase: per-character simple upper-casing (no `ß` → `SS` expansion). */
export function foldCase(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text.toUpperCase();
  let out = '';
  for (const char of text) {
    const upper = char.toUpperCase();
    out += upper.length === char.length ? upper : char;
  }
  return out;
}

/** EvaluationResult.Equals: the right side is converted to the left's kind; a failed conversion is unequal. */
export function equals(left: Value, right: Value): boolean {
  switch (kindOf(left)) {
    case 'Boolean':
      return left === toBoolean(right);
    case 'Number': {
      const n = tryNumber(right);
      return n !== undefined && n === left;
    }
    case 'Version': {
      const v = tryVersion(right);
      return v !== undefined && v.compare(left as Version) === 0;
    }
    case 'String': {
      const s = tryString(right);
      return s !== undefined && foldCase(s) === foldCase(left as string);
    }
    case 'Null':
      return right === null || right === '';
    default:
      return left === right;
  }
}

/** EvaluationResult.CompareTo; throws CoercionError when the right side cannot take the left's kind. */
export function compare(left: Value, right: Value): number {
  const kind = kindOf(left);
  if (kind === 'Boolean') return Number(left) - Number(toBoolean(right));
  if (kind === 'String') return ordinal(foldCase(left as string), foldCase(toStringValue(right)));
  if (kind === 'Version') return (left as Version).compare(convert(right, 'Version', tryVersion));
  const a = toNumber(left);
  const b = toNumber(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How a `$[ ]` result becomes a variable value: True/False, G15 numbers, null → empty, collections → JSON. */
export function toDisplayString(value: Value): string {
  return tryString(value) ?? JSON.stringify(toJson(value), null, 2);
}

export function toJson(value: Value): unknown {
  if (value instanceof Version) return value.toString();
  if (value instanceof ObjectValue)
    return Object.fromEntries(value.entries().map(([k, v]) => [k, toJson(v)]));
  if (Array.isArray(value)) return value.map(toJson);
  return value;
}
