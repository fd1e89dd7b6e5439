/**
 * The load-time half of Azure's three expression syntaxes (contract §4): `${{ variables.x }}` is resolved
 * here the way the server compiles YAML, every other `${{ }}` is refused (no templates or parameters
 * locally), and `$[ ]` is only recognised, never evaluated — the executor does that at run time.
 */

/** Reports a problem at the caller's YAML location; never returns. */
export type Fail = (problem: string, fix: string) => never;

const OPEN = '${{';
const CLOSE = '}}';

const VARIABLE_DOT = /^variables\.([A-Za-z0-9_][A-Za-z0-9_.]*)$/;
const VARIABLE_INDEX = /^variables\s*\[\s*'((?:[^']|'')*)'\s*\]$/;
const DIRECTIVE = /^(if|elseif|else|each|insert)\b/;

/**
 * Replaces every `${{ variables.x }}` / `${{ variables['x'] }}` in `text` with `lookup(x)`, or '' when the
 * variable is unknown (the server's behaviour). Anything else inside `${{ }}` fails.
 */
export function resolveTemplateExpressions(
  text: string,
  lookup: (name: string) => string | undefined,
  fail: Fail,
): string {
  let out = '';
  let from = 0;
  for (let open = text.indexOf(OPEN); open >= 0; open = text.indexOf(OPEN, from)) {
    const close = findClose(text, open + OPEN.length);
    if (close < 0) {
      fail(
        `'${OPEN}' is not closed by '${CLOSE}'`,
        `Write a complete expression such as \${{ variables.name }}, or quote the text differently.`,
      );
    }
    const inner = text.slice(open + OPEN.length, close).trim();
    out += text.slice(from, open) + (lookup(variableName(inner, fail)) ?? '');
    from = close + CLOSE.length;
  }
  return out + text.slice(from);
}

/** True when `text` contains `${{` (used to refuse expressions in mapping keys). */
export function hasTemplateExpression(text: string): boolean {
  return text.includes(OPEN);
}

/** True when `text` contains a runtime expression opener `$[` anywhere. */
export function hasRuntimeExpression(text: string): boolean {
  return text.includes('$[');
}

/**
 * True when the whole (trimmed) text is one `$[ … ]`: the bracket that closes the opening `$[` (outside
 * quoted strings) is the last character. `$[ a ] and $[ b ]` is not whole.
 */
export function isWholeRuntimeExpression(text: string): boolean {
  const t = text.trim();
  if (!t.startsWith('$[')) return false;
  let depth = 1;
  let quoted = false;
  for (let i = 2; i < t.length; i++) {
    const c = t[i];
    if (c === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i === t.length - 1;
  }
  return false;
}

/** Index of the `}}` closing an expression that starts at `from`, skipping `'…'` string literals. */
function findClose(text: string, from: number): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "'") quoted = !quoted;
    else if (!quoted && text.startsWith(CLOSE, i)) return i;
  }
  return -1;
}

function variableName(inner: string, fail: Fail): string {
  const dot = VARIABLE_DOT.exec(inner);
  if (dot?.[1]) return dot[1];
  const index = VARIABLE_INDEX.exec(inner);
  if (index?.[1] !== undefined) return index[1].replaceAll("''", "'");
  if (/^parameters\b/.test(inner)) {
    fail(
      `template parameters ('\${{ ${inner} }}') are not supported by the local runner (it has no templates)`,
      `Declare a variable instead and write \${{ variables.name }}, or pass it with --var name=value.`,
    );
  }
  if (DIRECTIVE.test(inner)) {
    fail(
      `template directive '\${{ ${inner} }}' is not supported by the local runner`,
      `Remove the directive and write the YAML it would produce; use condition: for run-time decisions.`,
    );
  }
  return fail(
    `template expression '\${{ ${inner} }}' is not supported by the local runner; only \${{ variables.x }} and \${{ variables['x'] }} are resolved at load time`,
    `Use a $(name) macro, a $[ ] variable value or a condition: instead.`,
  );
}

/** The variables `${{ variables.x }}` sees at one point: YAML layers (innermost last) under the queue-time overrides. */
export class TemplateScope {
  constructor(
    private readonly layers: readonly ReadonlyMap<string, string>[],
    private readonly overrides: ReadonlyMap<string, string>,
  ) {}

  /** A scope that also sees `layer` (keys lower-case), which wins over the layers before it. */
  with(layer: ReadonlyMap<string, string>): TemplateScope {
    return new TemplateScope([...this.layers, layer], this.overrides);
  }

  /** Case-insensitive, like every variable lookup in Azure Pipelines. */
  readonly lookup = (name: string): string | undefined => {
    const key = name.toLowerCase();
    const override = this.overrides.get(key);
    if (override !== undefined) return override;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const value = this.layers[i]?.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}
