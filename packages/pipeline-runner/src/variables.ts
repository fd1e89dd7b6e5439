/**
 * The job-time variable store and the agent's `$(x)` macro rules (contract §2 Inputs, §4 variables),
 * mirroring the agent's Variables.cs / VarUtil.cs: names are case-insensitive, readonly variables refuse
 * writes, once secret always secret, values are expanded recursively once at job start and every later
 * expansion is a single pass.
 */
import { KeylessError } from '@keyless/core';

export interface VariableValue {
  name: string;
  value: string;
  secret: boolean;
  readonly: boolean;
}

/** Variables reference each other in a loop (or nest deeper than the agent's limit of 50). */
export class VariableCycleError extends KeylessError {
  readonly code = 'VariableCycle';
}

const MACRO_PREFIX = '$(';
const MACRO_SUFFIX = ')';
const MAX_DEPTH = 50;

/** Lets {@link expandVariableValues} rewrite readonly values without widening the store's public surface. */
const storage = new WeakMap<VariableStore, Map<string, VariableValue>>();

export class VariableStore {
  private readonly byName = new Map<string, VariableValue>();

  constructor(initial: Iterable<VariableValue> = []) {
    storage.set(this, this.byName);
    for (const variable of initial) {
      const existing = this.byName.get(key(variable.name));
      this.byName.set(key(variable.name), {
        ...variable,
        secret: variable.secret || (existing?.secret ?? false),
      });
    }
  }

  get(name: string): VariableValue | undefined {
    const found = this.byName.get(key(name));
    return found && { ...found };
  }

  /** Sets or overwrites; writing a readonly variable returns { ok:false, reason } instead (the agent warns). Once secret, always secret. */
  set(
    name: string,
    value: string,
    options: { secret?: boolean; readonly?: boolean } = {},
  ): { ok: true } | { ok: false; reason: string } {
    if (!name.trim()) return { ok: false, reason: 'a variable name is required' };
    const existing = this.byName.get(key(name));
    if (existing?.readonly) {
      return { ok: false, reason: `variable '${existing.name}' is read-only and was not changed` };
    }
    // Like the agent, the latest writer's spelling of the name wins.
    this.byName.set(key(name), {
      name,
      value,
      secret: (options.secret ?? false) || (existing?.secret ?? false),
      readonly: options.readonly ?? false,
    });
    return { ok: true };
  }

  /** All variables, with their original-case names. */
  entries(): VariableValue[] {
    return [...this.byName.values()].map((v) => ({ ...v }));
  }

  clone(): VariableStore {
    return new VariableStore(this.byName.values());
  }
}

/**
 * Job-start recursive expansion of `$(x)` inside variable values (depth 50, cycle → VariableCycleError
 * naming the cycle). Each value is expanded against the *unexpanded* definitions, as the agent does, so
 * the result does not depend on the order of the variables. Readonly variables are expanded too.
 */
export function expandVariableValues(store: VariableStore): void {
  const byName = storage.get(store);
  if (!byName) return;
  const expanded = new Map<string, string>();

  const expand = (variable: VariableValue, chain: readonly string[]): string => {
    const done = expanded.get(key(variable.name));
    if (done !== undefined) return done;
    const loop = chain.findIndex((name) => key(name) === key(variable.name));
    if (loop >= 0) {
      const cycle = [...chain.slice(loop), variable.name].map((name) => `$(${name})`).join(' → ');
      throw new VariableCycleError(
        `Variables reference each other in a cycle: ${cycle}`,
        'Break the cycle: one of these variables must not reference the next through $(…).',
      );
    }
    if (chain.length >= MAX_DEPTH) {
      throw new VariableCycleError(
        `Variable '${chain[0]}' nests $(…) references more than ${MAX_DEPTH} levels deep`,
        'Shorten the chain of variables that reference each other.',
      );
    }
    const inner = [...chain, variable.name];
    const value = expandMacros(variable.value, (name) => {
      const nested = byName.get(key(name));
      return nested && expand(nested, inner);
    });
    expanded.set(key(variable.name), value);
    return value;
  };

  const definitions = [...byName.values()];
  const values = definitions.map((variable) => expand(variable, []));
  definitions.forEach((variable, i) =>
    byName.set(key(variable.name), { ...variable, value: values[i] ?? '' }),
  );
}

/**
 * One pass of `$(x)` macro expansion, no recursion, unknown macros kept literal — how the agent expands
 * inputs/env/scripts (§2 Inputs step 2). Secret values ARE substituted (masking happens on output).
 * `lookup` returns undefined for unknown names.
 *
 * The agent's scan: the name is everything between `$(` and the next `)`; whatever is looked up verbatim
 * and, when unknown, scanning resumes one character after the `$(`. So `$(a$(b))` still expands `$(b)`.
 */
export function expandMacros(text: string, lookup: (name: string) => string | undefined): string {
  let value = text;
  let start = 0;
  while (start < value.length) {
    const prefix = value.indexOf(MACRO_PREFIX, start);
    if (prefix < 0) break;
    const suffix = value.indexOf(MACRO_SUFFIX, prefix + MACRO_PREFIX.length);
    if (suffix < 0) break;
    const name = value.slice(prefix + MACRO_PREFIX.length, suffix);
    const replacement = name ? lookup(name) : undefined;
    if (replacement === undefined) {
      start = prefix + 1;
      continue;
    }
    value = value.slice(0, prefix) + replacement + value.slice(suffix + MACRO_SUFFIX.length);
    // Skip past the inserted text so a value containing `$(other)` is never expanded again.
    start = prefix + replacement.length;
  }
  return value;
}

/** Env var name the agent uses for a variable: upper-case, `.` and space → `_`. */
export function envName(name: string): string {
  return name.replace(/[. ]/g, '_').toUpperCase();
}

function key(name: string): string {
  return name.toLowerCase();
}
