/**
 * Located, typed reads of a parsed pipeline YAML: each read returns a plain value or throws a
 * PipelineSyntaxError `<file>:<line>: <yamlPath>: <problem>`. It knows YAML and where the expression
 * syntaxes may appear in a value; the pipeline schema itself lives in load.ts.
 */
import { KeylessError } from '@keyless/core';
import { LineCounter, isAlias, isMap, isNode, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Scalar } from 'yaml';
import {
  hasRuntimeExpression,
  hasTemplateExpression,
  isWholeRuntimeExpression,
  resolveTemplateExpressions,
} from './template-expressions';
import type { TemplateScope } from './template-expressions';

/** The YAML is invalid or outside the subset the local runner supports. Message: `<file>:<line>: <yamlPath>: <problem>`. */
export class PipelineSyntaxError extends KeylessError {
  readonly code = 'PipelineSyntax';
}

/** The path shown for the document itself and for the implicit stage/job. */
export const ROOT = '(root)';

export interface Entry {
  key: Scalar;
  /** The value node; `null` only for `? key` without a value. */
  value: unknown;
  path: string;
}

export type Entries = Map<string, Entry>;

/** A key Azure knows but the local runner refuses, with what to write instead. */
export interface Unsupported {
  problem: string;
  fix: string;
}

/** Where a value may hold `$[ ]` (only as the whole value), and which variables `${{ }}` sees. */
export interface TextRules {
  runtime?: 'whole';
  /** Null where Azure evaluates nothing (triggers, names): `${{ }}` is refused. */
  scope: TemplateScope | null;
}

export class YamlReader {
  private readonly lines = new LineCounter();

  constructor(private readonly file: string) {}

  /** The document's root node, after refusing syntax errors, anchors/aliases and an empty document. */
  parse(source: string): unknown {
    const doc = parseDocument(source, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const [error] = doc.errors;
    if (error) {
      this.failAt(
        error.pos[0],
        '(yaml)',
        error.message,
        'Fix the YAML syntax on that line (indentation, quoting, duplicate keys).',
      );
    }
    // Azure rejects anchors/aliases; resolving them here would accept pipelines the server refuses.
    visit(doc, (_key, node, ancestors) => {
      const anchor = isAlias(node)
        ? `alias '*${node.source}'`
        : isNode(node) && node.anchor
          ? `anchor '&${node.anchor}'`
          : '';
      if (anchor) {
        this.fail(
          node,
          describePath([...ancestors, node]),
          `YAML ${anchor}: anchors and aliases are not supported by Azure Pipelines`,
          'Repeat the content instead of using &anchor / *alias.',
        );
      }
    });
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
      this.failAt(0, ROOT, 'the pipeline is empty', 'Add `steps:`, `jobs:` or `stages:`.');
    }
    return doc.contents;
  }

  fail(node: unknown, path: string, problem: string, fix: string): never {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return this.failAt(range?.[0], path, problem, fix);
  }

  private failAt(offset: number | undefined, path: string, problem: string, fix: string): never {
    const where = offset === undefined ? this.file : `${this.file}:${this.lines.linePos(offset).line}`;
    throw new PipelineSyntaxError(`${where}: ${path}: ${problem}`, fix);
  }

  /**
   * The keys of a mapping, each checked against `allowed` (`null`: any key, as for variables or inputs).
   * `${{ }}` in a key is refused: the local runner resolves expressions in values only.
   */
  entries(
    node: unknown,
    path: string,
    what: string,
    allowed: readonly string[] | null,
    unsupported: Record<string, Unsupported> = {},
  ): Entries {
    if (!isMap(node)) {
      this.fail(node, path || ROOT, `${what} must be a mapping (key: value)`, 'Check the indentation.');
    }
    const out: Entries = new Map();
    for (const pair of node.items) {
      const key = pair.key;
      if (!isScalar(key) || typeof key.value === 'object') {
        this.fail(key ?? node, path || ROOT, 'mapping keys must be plain text', 'Use a plain key.');
      }
      const name = String(key.value);
      const childPath = path ? `${path}.${name}` : name;
      if (hasTemplateExpression(name)) {
        this.fail(
          key,
          childPath,
          `template expressions in keys ('${name}') are not supported by the local runner`,
          'Write the key literally; use condition: for run-time decisions.',
        );
      }
      const blocked = unsupported[name];
      if (blocked) this.fail(key, childPath, blocked.problem, blocked.fix);
      if (allowed && !allowed.includes(name)) {
        this.fail(
          key,
          childPath,
          `unknown key \`${name}\` in ${what}`,
          `Supported keys: ${allowed.join(', ')}.`,
        );
      }
      out.set(name, { key, value: pair.value, path: childPath });
    }
    return out;
  }

  required(e: Entries, key: string, node: unknown, path: string, problem: string): Entry {
    const entry = e.get(key);
    if (!entry) this.fail(node, path, problem, `Add \`${key}:\`.`);
    return entry;
  }

  list(node: unknown, path: string, what: string, nonEmpty: boolean): unknown[] {
    if (!isSeq(node)) this.fail(node, path, `\`${what}\` must be a list`, `Write each entry as \`- …\`.`);
    if (nonEmpty && node.items.length === 0) {
      this.fail(node, path, `\`${what}\` is empty`, `Add at least one entry.`);
    }
    return node.items;
  }

  /** A scalar as the server stringifies it: YAML booleans/numbers become `true`/`5`, null becomes ''. */
  scalar(node: unknown, path: string): string {
    if (!isScalar(node)) {
      this.fail(
        node,
        path,
        `expected a single value, found a ${isSeq(node) ? 'list' : 'mapping'}`,
        'Write a plain value (quote it if it contains `:` or starts with `[`/`{`).',
      );
    }
    return node.value === null || node.value === undefined ? '' : String(node.value);
  }

  /** A value with `${{ variables.x }}` resolved and `$[ ]` allowed only where `rules.runtime` says. */
  text(node: unknown, path: string, rules: TextRules): string {
    const raw = this.scalar(node, path);
    const fail = (problem: string, fix: string): never => this.fail(node, path, problem, fix);
    // Elsewhere (inputs, env, script text) the server passes `$[` through untouched — bash's `$[ ]`
    // arithmetic is legal script text — so only variable values and conditions are checked.
    if (rules.runtime === 'whole' && hasRuntimeExpression(raw) && !isWholeRuntimeExpression(raw)) {
      fail(
        'a runtime expression `$[ … ]` must be the whole value here',
        'Assign the `$[ … ]` to a variable and use `$(thatVariable)` here.',
      );
    }
    if (!rules.scope) {
      if (hasTemplateExpression(raw)) {
        fail('template expressions are not allowed here', 'Write the value literally.');
      }
      return raw;
    }
    return resolveTemplateExpressions(raw, rules.scope.lookup, fail);
  }

  optionalText(
    e: Entries,
    key: string,
    scope: TemplateScope,
    set: (value: string) => void,
    runtime?: 'whole',
  ): void {
    const entry = e.get(key);
    if (entry) set(this.text(entry.value, entry.path, { scope, runtime }));
  }

  stringList(node: unknown, path: string): string[] {
    if (isSeq(node)) return node.items.map((item, i) => this.text(item, `${path}[${i}]`, { scope: null }));
    if (isScalar(node) && node.value === null) return [];
    return [this.text(node, path, { scope: null })];
  }

  stringMap(entry: Entry, scope: TemplateScope): Record<string, string> {
    if (isScalar(entry.value) && entry.value.value === null) return {};
    const out: Record<string, string> = {};
    for (const [key, item] of this.entries(entry.value, entry.path, `\`${entry.key.value}\``, null)) {
      out[key] = this.text(item.value, item.path, { scope });
    }
    return out;
  }

  bool(entry: Entry, scope: TemplateScope | null): boolean {
    if (isScalar(entry.value) && typeof entry.value.value === 'boolean') return entry.value.value;
    const text = this.text(entry.value, entry.path, { scope }).trim().toLowerCase();
    if (text === 'true' || text === 'false') return text === 'true';
    return this.fail(
      entry.value,
      entry.path,
      `expected true or false, found '${text}'`,
      'Write `true` or `false`.',
    );
  }

  minutes(entry: Entry, scope: TemplateScope): number {
    const text = this.text(entry.value, entry.path, { scope }).trim();
    if (!/^\d+$/.test(text)) {
      this.fail(
        entry.value,
        entry.path,
        `expected a whole number of minutes, found '${text}'`,
        'Write e.g. `timeoutInMinutes: 10`.',
      );
    }
    return Number(text);
  }
}

/** `stages[0].jobs[1]` from the chain of nodes `visit` hands over (document first). */
function describePath(chain: readonly unknown[]): string {
  let out = '';
  for (let i = 1; i < chain.length; i++) {
    const parent = chain[i - 1];
    const child = chain[i];
    if (isPair(child)) out += `${out ? '.' : ''}${isScalar(child.key) ? String(child.key.value) : '?'}`;
    else if (isSeq(parent)) out += `[${parent.items.indexOf(child as never)}]`;
  }
  return out || ROOT;
}
